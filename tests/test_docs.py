"""Every docstring example in impl/ runs, on array-api-strict, and shows its real output.

Public functions are checked one by one in test_docstrings.py; this runs the examples of
every impl module (private helpers and module docstrings included) with the same rule:
floats compare to the decimals written.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import xpops.impl
from test_docstrings import _NumberChecker

MODULES = [
    importlib.import_module(m.name)
    for m in pkgutil.walk_packages(xpops.impl.__path__, prefix="xpops.impl.")
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(checker=_NumberChecker(), optionflags=flags)
    with np.errstate(all="ignore"):
        for test in doctest.DocTestFinder().find(module, module.__name__):
            runner.run(test, out=lambda text: pytest.fail(text, pytrace=False))
    assert runner.summarize(verbose=False).failed == 0


def test_examples_are_found():
    tried = sum(
        len(test.examples)
        for module in MODULES
        for test in doctest.DocTestFinder().find(module, module.__name__)
    )
    assert tried > 100
