"""The oracles stand on their own: no spec module reads private names of ``xpops.impl``,
and the constants each spec writes out equal the implementation's defaults.

The oracle judges the implementation, so a table or default taken from it would make
both wrong together. The comparisons below (the only place where impl's private names
may be read) notice a change on either side.
"""

from __future__ import annotations

import ast
import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest

import xpops.spec
from xpops.impl import boxes as impl_boxes
from xpops.impl import linear as impl_linear
from xpops.impl import neighbors as impl_neighbors
from xpops.impl.detection import inputs as impl_coco
from xpops.impl.detection import summary as impl_coco_summary
from xpops.spec import SPECS
from xpops.spec import boxes as spec_boxes
from xpops.spec import coco as spec_coco
from xpops.spec import linear as spec_linear
from xpops.spec import neighbors as spec_neighbors

IMPL = "xpops.impl"
SPEC_DIR = Path(xpops.spec.__file__).parent
SPEC_MODULES = sorted(SPEC_DIR.glob("*.py"))
IMPL_DIR = SPEC_DIR.parent / "impl"
# every module and package of xpops.impl, dotted: "xpops.impl.detection.coco"
IMPL_MODULES = {
    ".".join((IMPL, *p.relative_to(IMPL_DIR).with_suffix("").parts)).removesuffix(".__init__")
    for p in IMPL_DIR.rglob("*.py")
}

# ------------------------------------------------------------------ import checker


def _is_impl(module: str) -> bool:
    return module == IMPL or module.startswith(IMPL + ".")


def _resolve(node: ast.ImportFrom, package: str) -> str:
    """The absolute module of ``from <level dots><module> import ...`` in ``package``."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"]; None when not rooted at a name."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(names)]


def impl_names(source: str, package: str = "xpops.spec") -> list[tuple[int, str, str]]:
    """(line, how, name) of every name of xpops.impl that ``source`` imports or reads.

    Covers ``from ..impl.x import y``, ``from ..impl import x``, and attribute access
    (``m.y``, ``impl.x.y``, ``getattr(m, "y")``) through any name bound to an impl
    module or to a package above it.
    """
    tree = ast.parse(source)
    found: list[tuple[int, str, str]] = []
    roots: dict[str, str] = {}  # local name -> the module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _resolve(node, package)
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if _is_impl(module):
                    found.append((node.lineno, f"from {module} import ", alias.name))
                if _is_impl(full) or IMPL.startswith(full + "."):
                    roots[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_impl(alias.name) or IMPL.startswith(alias.name + "."):
                    if alias.asname:
                        roots[alias.asname] = alias.name
                    else:  # ``import xpops.impl.x`` binds ``xpops``
                        roots[alias.name.split(".")[0]] = alias.name.split(".")[0]
    for node in ast.walk(tree):
        chain = None
        if isinstance(node, ast.Attribute):
            chain = _chain(node)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant)
              and isinstance(node.args[1].value, str)):
            chain = _chain(node.args[0])
            chain = None if chain is None else [*chain, node.args[1].value]
        if not chain or chain[0] not in roots:
            continue
        path = [roots[chain[0]], *chain[1:]]
        for i in range(1, len(path)):
            inside = ".".join(path[:i])
            if f"{inside}.{path[i]}" in IMPL_MODULES and not _is_private(path[i]):
                continue  # a public impl module or package: look at what is read from it
            if _is_impl(inside):
                found.append((node.lineno, ".".join(chain[:i]) + ".", path[i]))
                break
    return sorted(set(found))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_impl_uses(source: str) -> list[str]:
    """Private (``_``-prefixed) names of xpops.impl that ``source`` imports or reads."""
    return [f"line {n}: {how}{name}" for n, how, name in impl_names(source)
            if _is_private(name)]


def impl_constant_uses(source: str) -> list[str]:
    """UPPER_CASE names (constants, defaults, tables) of xpops.impl in ``source``."""
    return [f"line {n}: {how}{name}" for n, how, name in impl_names(source)
            if re.fullmatch(r"_?[A-Z][A-Z0-9_]*", name)]


@pytest.mark.parametrize("path", SPEC_MODULES, ids=lambda p: p.name)
def test_spec_reads_no_private_impl_name(path):
    assert private_impl_uses(path.read_text()) == []


@pytest.mark.parametrize("path", SPEC_MODULES, ids=lambda p: p.name)
def test_spec_reads_no_impl_constant(path):
    # public constants too: the oracle writes out what it needs from the definition
    assert impl_constant_uses(path.read_text()) == []


@pytest.mark.parametrize("source", [
    "from ..impl import coco as _impl\nx = _impl._STATS",
    "from .. import impl\nx = impl.detection.coco._STATS",
    "from ..impl.coco import _STATS",
    "from ..impl import _helpers",
    "from xpops.impl.coco import DEFAULT_AREA_RANGES, _STATS",
    "import xpops.impl.detection.coco\nx = xpops.impl.detection.coco._STATS",
    "import xpops.impl.coco as c\nx = c._STATS",
    "from ..impl import coco\nx = getattr(coco, '_STATS')",
])
def test_checker_catches(source):
    assert private_impl_uses(source)


@pytest.mark.parametrize("source", [
    "from ..impl import coco as _impl\nf = _impl.coco_evaluate\nn = _impl.__name__",
    "from .. import impl\nf = impl.detection.coco.coco_evaluate",
    "from ._base import _private\nfrom ..impl import coco\nx = coco.DEFAULT_AREA_RANGES",
    "from .._lib import _x\nimport numpy as np\ny = np._NoValue",
])
def test_checker_allows(source):
    assert private_impl_uses(source) == []


@pytest.mark.parametrize("source, found", [
    ("from .. import impl\nk = impl.neighbors.DEFAULT_K_CHOICES", True),
    ("from ..impl.boxes import DEFAULT_EPS", True),
    ("from ..impl import linear as _impl\nf = _impl.two_layer_net", False),
    ("from ..impl import coco as _impl\nr = _impl.CocoEvaluation", False),
])
def test_constant_checker(source, found):
    assert bool(impl_constant_uses(source)) == found


# ------------------------------------------------------- constants equal impl's defaults


def test_coco_parameters_equal_impl_defaults():
    # exact doubles: stats select thresholds by ==, as pycocotools does
    assert spec_coco.IOU_THRESHOLDS == impl_coco.DEFAULT_IOU_THRESHOLDS
    assert spec_coco.RECALL_THRESHOLDS == impl_coco.DEFAULT_RECALL_THRESHOLDS
    assert spec_coco.MAX_DETECTIONS == impl_coco.DEFAULT_MAX_DETECTIONS
    # order matters too: it is the order of the A axis
    assert list(spec_coco.AREA_RANGES.items()) == list(impl_coco.DEFAULT_AREA_RANGES.items())
    assert spec_coco.SUMMARY_STATS == impl_coco_summary._STATS


def test_coco_parameters_equal_pycocotools():
    cocoeval = pytest.importorskip("pycocotools.cocoeval")
    params = cocoeval.Params(iouType="bbox")
    assert spec_coco.IOU_THRESHOLDS == tuple(params.iouThrs.tolist())
    assert spec_coco.RECALL_THRESHOLDS == tuple(params.recThrs.tolist())
    assert list(spec_coco.MAX_DETECTIONS) == list(params.maxDets)
    assert list(spec_coco.AREA_RANGES) == list(params.areaRngLbl)
    assert [list(r) for r in spec_coco.AREA_RANGES.values()] == [
        [float(v) for v in r] for r in params.areaRng]


def test_box_constants_equal_impl_defaults():
    assert spec_boxes.FORMATS == impl_boxes.BOX_FORMATS
    assert spec_boxes.EPS == impl_boxes.DEFAULT_EPS


def test_box_eps_equals_torchvision():
    ops = pytest.importorskip("torchvision.ops")
    for name in ("distance_box_iou", "complete_box_iou", "generalized_box_iou_loss",
                 "distance_box_iou_loss", "complete_box_iou_loss"):
        assert inspect.signature(getattr(ops, name)).parameters["eps"].default == \
            spec_boxes.EPS, name


def test_linear_constants_equal_impl():
    assert spec_linear.TWO_LAYER_PARAMS == impl_linear.TWO_LAYER_PARAMS


def test_neighbors_constants_equal_impl_defaults():
    assert spec_neighbors.K_CHOICES == impl_neighbors.DEFAULT_K_CHOICES
    assert spec_neighbors._METRICS == impl_neighbors.METRICS


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(np.all(a == b)) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def test_oracle_defaults_equal_impl_defaults():
    """Every keyword default of an oracle equals the impl's default of that parameter."""
    empty = inspect.Parameter.empty
    compared, wrong = 0, []
    for name, spec in SPECS.items():
        impl_params = inspect.signature(spec.impl).parameters
        for pname, p in inspect.signature(spec.oracle).parameters.items():
            if p.default is empty or pname not in impl_params:
                continue
            want = impl_params[pname].default
            compared += 1
            if want is empty or not _same(p.default, want):
                wrong.append(f"{name}({pname}=...): oracle {p.default!r}, impl {want!r}")
    assert not wrong, "\n".join(wrong)
    assert compared > 50  # the impls' signatures are visible (not hidden by a wrapper)
