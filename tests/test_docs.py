"""Every docstring example runs, on array-api-strict, and shows its real output."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from xpops.impl import activations, cross_entropy


@pytest.mark.parametrize("module", [activations, cross_entropy], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    with np.errstate(all="ignore"):
        failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0
