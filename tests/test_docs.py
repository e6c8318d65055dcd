"""Every docstring example runs, on array-api-strict, and shows its real output."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import xpops.impl

MODULES = [
    importlib.import_module(f"xpops.impl.{m.name}")
    for m in pkgutil.iter_modules(xpops.impl.__path__)
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    with np.errstate(all="ignore"):
        failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0, f"{module.__name__} has no docstring examples"
    assert failures == 0
