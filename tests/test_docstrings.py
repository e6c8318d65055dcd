"""Every public function documents itself the numpydoc way, with an example that runs.

Each function in ``xpops.__all__`` has Parameters (naming exactly its signature's
parameters), Returns, Raises and Examples sections, and its examples run on
array-api-strict: floats in the expected output are compared to the decimals written, so
an example shows ``0.245`` for a result of ``0.24472847``.
"""

from __future__ import annotations

import doctest
import inspect
import re
from typing import Any

import pytest

import xpops

SECTIONS = ("Parameters", "Returns", "Raises", "Examples")

PUBLIC_FUNCTIONS = sorted(
    name for name in xpops.__all__ if inspect.isfunction(inspect.unwrap(getattr(xpops, name)))
)

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _sections(doc: str) -> dict[str, list[str]]:
    """Section title -> its lines, for numpydoc titles underlined with dashes."""
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, list[str]] = {}
    current = None
    for i, line in enumerate(lines):
        underline = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and set(underline.strip()) == {"-"} and len(underline.strip()) >= 3:
            current = line.strip()
            out[current] = []
        elif current is not None and not set(line.strip()) == {"-"}:
            out[current].append(line)
    return out


def _documented_parameters(lines: list[str]) -> set[str]:
    """Names of the entries of a Parameters section (``a, b : array`` gives a and b)."""
    names: set[str] = set()
    for line in lines:
        if line and not line.startswith(" "):
            head = line.split(" : ")[0]
            names.update(n.strip().lstrip("*") for n in head.split(","))
    return names


class _NumberChecker(doctest.OutputChecker):
    """Text equal up to whitespace; each float in ``want`` matches to its written decimals."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        want_parts, got_parts = _NUMBER.split(want), _NUMBER.split(got)
        if [" ".join(p.split()) for p in want_parts] != [" ".join(p.split()) for p in got_parts]:
            return False
        for w, g in zip(_NUMBER.findall(want), _NUMBER.findall(got), strict=True):
            decimals = len(w.split(".")[1].split("e")[0].split("E")[0]) if "." in w else 0
            if abs(float(w) - float(g)) > 0.5 * 10.0**-decimals * (1 + 1e-9):
                return False
        return True


def test_public_functions_are_found() -> None:
    assert {"softmax", "coco_evaluate", "nms", "conv2d"} <= set(PUBLIC_FUNCTIONS)


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_numpydoc_sections(name: str) -> None:
    fn: Any = getattr(xpops, name)
    doc = inspect.getdoc(fn)
    assert doc, f"{name} has no docstring"
    sections = _sections(doc)
    missing = [s for s in SECTIONS if s not in sections]
    assert not missing, f"{name} lacks the section(s) {missing}"
    signature = set(inspect.signature(fn).parameters)
    documented = _documented_parameters(sections["Parameters"])
    assert documented == signature, (
        f"{name}: Parameters documents {sorted(documented)}, the signature has {sorted(signature)}"
    )
    assert any(line.strip() for line in sections["Returns"]), f"{name}: empty Returns"
    assert "array_api_strict" in "\n".join(sections["Examples"]), (
        f"{name}: the example must run on array-api-strict"
    )


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_examples_run(name: str) -> None:
    fn: Any = getattr(xpops, name)
    tests = doctest.DocTestFinder(recurse=False).find(fn, name, globs={})
    examples = [t for t in tests if t.examples]
    assert examples, f"{name} has no runnable example"
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(checker=_NumberChecker(), optionflags=flags)
    for test in examples:
        runner.run(test, out=lambda text: pytest.fail(f"{name} example:\n{text}", pytrace=False))
    assert runner.summarize(verbose=False).failed == 0


def test_number_checker_compares_to_written_decimals() -> None:
    checker = _NumberChecker()
    ok = "Array([0.09003057, 0.24472847], dtype=array_api_strict.float64)\n"
    assert checker.check_output("Array([0.090, 0.245], dtype=array_api_strict.float64)\n", ok, 0)
    assert not checker.check_output(
        "Array([0.090, 0.244], dtype=array_api_strict.float64)\n", ok, 0
    )
    assert not checker.check_output("Array([0.090, 0.245], dtype=float32)\n", ok, 0)


def test_sections_parser_reads_grouped_parameters() -> None:
    doc = """Summary.

    Parameters
    ----------
    a, b : array
        Inputs.
    axis : int, default -1
        Axis.

    Returns
    -------
    array
        Out.
    """
    sections = _sections(doc)
    assert _documented_parameters(sections["Parameters"]) == {"a", "b", "axis"}
    assert sections["Returns"][0] == "array"
