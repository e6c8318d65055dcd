"""The rooms stay visible: modules and functions a reader can hold, imports in one direction.

DESIGN.md's limits: no module under impl/ or conformance/ over 600 lines, no function in
impl/ over 80 lines (its docstring not counted), conformance/ imports nothing from the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import xpops

PACKAGE = Path(xpops.__file__).parent
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _modules(part: str) -> list[Path]:
    return sorted((PACKAGE / part).rglob("*.py"))


def _function_lengths(path: Path) -> dict[str, int]:
    """Lines of each function in ``path``, its docstring left out."""
    out = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            doc = node.body[0]
            if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(
                doc.value.value, str
            ):
                lines -= doc.end_lineno - doc.lineno + 1  # type: ignore[operator]
            out[f"{node.name}:{node.lineno}"] = lines
    return out


@pytest.mark.parametrize("part", ["impl", "conformance"])
def test_modules_stay_under_the_limit(part):
    modules = _modules(part)
    assert modules
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in modules
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_impl_functions_stay_under_the_limit():
    long = {
        f"{p.relative_to(PACKAGE)}:{name}": n
        for p in _modules("impl")
        for name, n in _function_lengths(p).items()
        if n > MAX_FUNCTION_LINES
    }
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_function_lengths_leave_out_the_docstring(tmp_path):
    source = tmp_path / "m.py"
    source.write_text('def f():\n    """Doc.\n\n    More.\n    """\n    a = 1\n    return a\n')
    assert _function_lengths(source) == {"f:1": 3}  # def line and two statements


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports, relative imports resolved."""
    package = ".".join(("xpops", *path.relative_to(PACKAGE).parent.parts))
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.add(name)
            out.update(f"{name}.{alias.name}" for alias in node.names)
    return out


def test_conformance_imports_nothing_from_the_cli():
    offenders = {
        str(p.relative_to(PACKAGE))
        for p in _modules("conformance")
        if any(m == "xpops.cli" or m.startswith("xpops.cli.") for m in _imported_modules(p))
    }
    assert not offenders


def test_impl_imports_neither_spec_nor_conformance():
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(
            m for m in _imported_modules(p)
            if m.startswith(("xpops.spec", "xpops.conformance", "xpops.cli"))
        )
        for p in _modules("impl")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_import_resolution_sees_relative_imports():
    names = _imported_modules(PACKAGE / "conformance" / "engine.py")
    assert any(n.startswith("xpops.conformance.") for n in names)
    assert any(n.startswith("xpops.spec") or n.startswith("xpops._lib") for n in names)
