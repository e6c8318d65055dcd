"""Specs of the box ops: formats, areas, the pairwise IoU family and the IoU losses.

Common conventions (every op here): boxes are ``(..., 4)`` in ``fmt`` ``"xyxy"``,
``"xywh"`` or ``"cxcywh"``, first converted to xyxy continuously (x2 = x1 + w); ``offset``
(0 or 1) is added to every width and height an op uses, the enclosing box's and the
aspect ratios' included; integer boxes are promoted to the other argument's float dtype
or the default float; boolean boxes raise TypeError; inverted boxes (x2 < x1, y2 < y1,
or w < 0, h < 0 in the wh formats) raise ValueError where values are concrete. A ratio
whose denominator is 0 is 0 (IoU of a zero union, GIoU's penalty where the enclosing
area is 0, DIoU's distance term with eps = 0, CIoU's alpha).

Differences from torchvision 0.29 (``torchvision.ops``), all on inputs it does not
define or does not support:
- ``offset=1`` does not exist there.
- Zero-union pairs: torchvision's ``box_iou`` / ``generalized_box_iou`` give NaN
  (0 / 0) and ``distance_box_iou`` / ``complete_box_iou`` NaN through the IoU; we give
  IoU 0, GIoU -1 for distinct zero-area boxes and 0 where the enclosing area is 0 too.
  Its losses add ``eps`` and are finite there, as ours (equal values).
- CIoU's aspect angle is ``atan2(w, h)``: equal to torchvision's ``atan(w / h)`` for
  h > 0 (and for h = 0 < w); a 0 x 0 box has angle 0 where torchvision gives NaN.
- Inverted boxes raise here; torchvision computes on them (negative areas).
- ``box_area`` and ``box_convert`` promote integer boxes to float (torchvision keeps
  integer areas and integer xyxy <-> xywh conversions); ``box_convert`` converts
  xywh <-> cxcywh directly (x + w / 2) where torchvision goes through corners
  (rounding only).
- The pairwise ops take ``fmt`` (torchvision: ``box_iou`` only) and the losses
  ``fmt`` and ``offset`` too; the losses require equal shapes (torchvision broadcasts).
- Integer boxes mixed with float boxes take the float dtype (torch promotion, same).
- ``complete_box_iou_loss``: torchvision 0.29 passes ``eps`` to alpha only; its IoU and
  distance term always use 1e-7. We use ``eps`` everywhere, as its docstring says; the
  values agree for the default eps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..impl import boxes as _impl
from ..impl import boxes_iou as _impl_iou
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported

# Written out, not taken from the implementation: the oracle must not inherit its
# defaults. torchvision.ops.box_convert's formats, and the eps default of
# distance_box_iou, complete_box_iou and the three IoU losses in torchvision.ops.
FORMATS = ("xyxy", "xywh", "cxcywh")
EPS = 1e-7
_KINDS = {  # op name -> (kernel kind, has eps)
    "box_iou": ("iou", False),
    "generalized_box_iou": ("giou", False),
    "distance_box_iou": ("diou", True),
    "complete_box_iou": ("ciou", True),
}
_LOSSES = {
    "generalized_box_iou_loss": "giou",
    "distance_box_iou_loss": "diou",
    "complete_box_iou_loss": "ciou",
}

# --------------------------------------------------------------------------- oracles


def _div(num: float, den: float) -> float:
    return num / den if den > 0 else 0.0


def _xyxy(box, fmt: str) -> tuple[float, float, float, float]:
    a, b, c, d = (float(v) for v in box)
    if fmt == "xyxy":
        return a, b, c, d
    if fmt == "xywh":
        return a, b, a + c, b + d
    return a - c / 2, b - d / 2, a + c / 2, b + d / 2


def _from_xyxy(box, fmt: str) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    if fmt == "xyxy":
        return x1, y1, x2, y2
    if fmt == "xywh":
        return x1, y1, x2 - x1, y2 - y1
    return (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1


def _pair_value(p, q, kind: str, offset: int, iou_eps: float, eps: float) -> float:
    """IoU / GIoU / DIoU / CIoU of two xyxy boxes, straight from the definitions."""
    px1, py1, px2, py2 = p
    qx1, qy1, qx2, qy2 = q
    pw, ph = px2 - px1 + offset, py2 - py1 + offset
    qw, qh = qx2 - qx1 + offset, qy2 - qy1 + offset
    iw = max(min(px2, qx2) - max(px1, qx1) + offset, 0.0)
    ih = max(min(py2, qy2) - max(py1, qy1) + offset, 0.0)
    inter = iw * ih
    union = pw * ph + qw * qh - inter
    iou = _div(inter, union + iou_eps)
    if kind == "iou":
        return iou
    cw = max(px2, qx2) - min(px1, qx1) + offset  # the smallest enclosing box
    ch = max(py2, qy2) - min(py1, qy1) + offset
    if kind == "giou":
        return iou - _div(cw * ch - union, cw * ch + eps)
    centre_distance2 = ((px1 + px2) / 2 - (qx1 + qx2) / 2) ** 2 + (
        (py1 + py2) / 2 - (qy1 + qy2) / 2
    ) ** 2
    diou = iou - _div(centre_distance2, cw**2 + ch**2 + eps)
    if kind == "diou":
        return diou
    v = 4 / math.pi**2 * (math.atan2(pw, ph) - math.atan2(qw, qh)) ** 2
    alpha = _div(v, 1 - iou + v + eps)
    return diou - alpha * v


def _pairwise_oracle(kind: str, default_eps: float):
    def oracle(boxes1, boxes2, *, fmt="xyxy", offset=0, eps=default_eps):
        a = np.asarray(boxes1, dtype=np.float64)
        b = np.asarray(boxes2, dtype=np.float64)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = np.broadcast_to(a, batch + a.shape[-2:])
        b = np.broadcast_to(b, batch + b.shape[-2:])
        n, m = a.shape[-2], b.shape[-2]
        out = np.zeros(batch + (n, m))
        for idx in np.ndindex(*batch):
            for i in range(n):
                p = _xyxy(a[idx + (i,)], fmt)
                for j in range(m):
                    q = _xyxy(b[idx + (j,)], fmt)
                    out[idx + (i, j)] = _pair_value(p, q, kind, offset, 0.0, eps)
        return out

    return oracle


def _loss_oracle(kind: str):
    def oracle(boxes1, boxes2, *, fmt="xyxy", offset=0, reduction="none", eps=EPS):
        a = np.asarray(boxes1, dtype=np.float64)
        b = np.asarray(boxes2, dtype=np.float64)
        loss = np.zeros(a.shape[:-1])
        for idx in np.ndindex(*a.shape[:-1]):
            p, q = _xyxy(a[idx], fmt), _xyxy(b[idx], fmt)
            loss[idx] = 1.0 - _pair_value(p, q, kind, offset, eps, eps)
        if reduction == "none":
            return loss
        if reduction == "sum" or loss.size == 0:
            return np.float64(loss.sum())
        return np.float64(loss.mean())

    return oracle


def box_convert_oracle(boxes, *, in_fmt, out_fmt):
    x = np.asarray(boxes, dtype=np.float64)
    out = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape[:-1]):
        out[idx] = _from_xyxy(_xyxy(x[idx], in_fmt), out_fmt)
    return out


def box_area_oracle(boxes, *, fmt="xyxy", offset=0):
    x = np.asarray(boxes, dtype=np.float64)
    out = np.zeros(x.shape[:-1])
    for idx in np.ndindex(*x.shape[:-1]):
        if fmt == "xyxy":
            x1, y1, x2, y2 = x[idx]
            w, h = x2 - x1, y2 - y1
        else:
            w, h = x[idx][2], x[idx][3]
        out[idx] = (w + offset) * (h + offset)
    return out


# ------------------------------------------------------------------------ strategies

# few distinct shapes: JAX compiles every operation anew for each
_BATCHES = [((), ()), ((), ()), ((2,), ()), ((2, 1), (3,)), ((1,), (2,))]
_COUNTS = st.sampled_from([0, 1, 5, 17])


def _wh_boxes(draw: Any, rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` boxes as (x1, y1, w, h) float64: continuous, on a small grid (ties,
    touching and identical boxes), or with zero widths / heights sprinkled in."""
    kind = draw(st.sampled_from(["continuous", "continuous", "grid"]))
    if kind == "grid":
        xy = rng.integers(0, 7, size=(count, 2)).astype(np.float64)
        wh = rng.integers(0, 5, size=(count, 2)).astype(np.float64)
    else:
        # widths of 0 or at least 1: narrower boxes far from the origin lose their width
        # to float32 rounding in the wh formats, on every library alike
        xy = rng.uniform(-20.0, 40.0, size=(count, 2))
        wh = rng.uniform(1.0, 30.0, size=(count, 2))
        if draw(st.integers(0, 3)) == 0:
            wh[rng.random((count, 2)) < 0.3] = 0.0
    return np.concatenate([xy, wh], axis=1)


def _as_fmt(wh: np.ndarray, fmt: str) -> np.ndarray:
    x, y, w, h = (wh[..., i] for i in range(4))
    if fmt == "xyxy":
        return np.stack([x, y, x + w, y + h], axis=-1)
    if fmt == "xywh":
        return wh.copy()
    return np.stack([x + w / 2, y + h / 2, w, h], axis=-1)


def _box_sets(draw: Any, shapes: list[tuple[int, ...]], fmt: str) -> list[np.ndarray]:
    """Boxes of each leading shape, drawn from one pool so that sets share boxes."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pool = _wh_boxes(draw, rng, draw(st.sampled_from([3, 40])))
    out = []
    for shape in shapes:
        out.append(_as_fmt(pool[rng.integers(0, len(pool), size=shape)], fmt))
    if draw(st.integers(0, 4)) == 0 and all((b == np.round(b)).all() for b in out):
        which = draw(st.sampled_from(["both", "first"]))
        out = [b.astype(np.int64) if which == "both" or i == 0 else b
               for i, b in enumerate(out)]
    return out


def _options(draw: Any, *, eps: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    fmt = draw(st.sampled_from(FORMATS))
    if fmt != "xyxy" or draw(st.booleans()):
        kwargs["fmt"] = fmt
    if draw(st.integers(0, 3)) == 0:
        kwargs["offset"] = 1
    if eps and draw(st.booleans()):
        kwargs["eps"] = draw(st.sampled_from([0.0, 1e-3]))
    return kwargs


@st.composite
def _pairwise_cases(draw: Any, *, eps: bool) -> Case:
    kwargs = _options(draw, eps=eps)
    batch1, batch2 = draw(st.sampled_from(_BATCHES))
    n, m = draw(_COUNTS), draw(_COUNTS)
    a, b = _box_sets(draw, [(*batch1, n), (*batch2, m)], kwargs.get("fmt", "xyxy"))
    return Case((a, b), kwargs)


@st.composite
def _loss_cases(draw: Any) -> Case:
    kwargs = _options(draw, eps=True)
    kwargs["reduction"] = draw(st.sampled_from(["none", "mean", "sum"]))
    shape = draw(st.sampled_from([(), (0,), (1,), (5,), (17,), (2, 3)]))
    a, b = _box_sets(draw, [shape, shape], kwargs.get("fmt", "xyxy"))
    return Case((a, b), kwargs)


@st.composite
def _convert_cases(draw: Any) -> Case:
    in_fmt, out_fmt = draw(st.sampled_from(FORMATS)), draw(st.sampled_from(FORMATS))
    shape = draw(st.sampled_from([(0,), (1,), (5,), (17,), (2, 3)]))
    (boxes,) = _box_sets(draw, [shape], in_fmt)
    return Case((boxes,), {"in_fmt": in_fmt, "out_fmt": out_fmt})


@st.composite
def _area_cases(draw: Any) -> Case:
    kwargs = _options(draw, eps=False)
    shape = draw(st.sampled_from([(0,), (1,), (5,), (17,), (2, 3)]))
    (boxes,) = _box_sets(draw, [shape], kwargs.get("fmt", "xyxy"))
    return Case((boxes,), kwargs)


# ------------------------------------------------------------------------ properties


def _symmetric(run, case):
    """Swapping the box sets transposes the pairwise result."""
    a, b = case.args
    return [(np.swapaxes(run(case.with_args(b, a)), -1, -2), run(case))]


def _symmetric_loss(run, case):
    """The losses are symmetric in boxes1 and boxes2."""
    a, b = case.args
    return [(run(case.with_args(b, a)), run(case))]


def _scale_invariant(has_eps: bool):
    """Doubling every coordinate (exact in floating point) leaves the value unchanged
    with offset 0 and eps 0 (both break the scale invariance)."""

    def check(run, case):
        if case.kwargs.get("offset", 0):
            return []
        a, b = case.args
        eps = {"eps": 0.0} if has_eps else {}
        return [(run(case.with_args(a * 2, b * 2, **eps)), run(case.with_args(a, b, **eps)))]

    return check


def _self_iou(run, case):
    """A box against itself scores 1, or 0 when its area is 0 (zero union)."""
    a = case.args[0]
    if a.ndim < 2 or a.shape[-2] == 0:
        return []
    areas = box_area_oracle(a, fmt=case.kwargs.get("fmt", "xyxy"),
                            offset=case.kwargs.get("offset", 0))
    got = np.diagonal(run(case.with_args(a, a)), axis1=-2, axis2=-1)
    return [(got, np.where(areas > 0, 1.0, 0.0))]


def _within(lo: float, hi: float):
    def check(run, case):
        out = run(case)
        return [(np.clip(out, lo, hi), out)]

    return check


def _reductions_agree(run, case):
    unreduced = run(case.with_args(*case.args, reduction="none"))
    mean = np.mean(unreduced) if unreduced.size else 0.0
    return [
        (run(case.with_args(*case.args, reduction="sum")), np.sum(unreduced)),
        (run(case.with_args(*case.args, reduction="mean")), mean),
    ]


def _convert_round_trip(run, case):
    (boxes,) = case.args
    there = run(case)
    back = run(Case((there,), {"in_fmt": case.kwargs["out_fmt"],
                               "out_fmt": case.kwargs["in_fmt"]}))
    return [(back, boxes)]


def _area_scales(run, case):
    if case.kwargs.get("offset", 0):
        return []
    (boxes,) = case.args
    return [(run(case.with_args(boxes * 2)), 4 * run(case))]


# --------------------------------------------------------------------------- natives


def _torchvision_ops():
    import torchvision.ops  # ImportError where torchvision is absent

    return torchvision.ops


def _no_offset(offset: int) -> None:
    if offset:
        raise Unsupported("torchvision has no offset (pixel-inclusive) convention")


def _tv_xyxy(ops, boxes, fmt):
    return boxes if fmt == "xyxy" else ops.box_convert(boxes, fmt, "xyxy")


def _tv_box_convert():
    ops = _torchvision_ops()

    def native(boxes, /, *, in_fmt, out_fmt):
        return ops.box_convert(boxes, in_fmt, out_fmt)

    return native


def _tv_box_area():
    ops = _torchvision_ops()

    def native(boxes, /, *, fmt="xyxy", offset=0):
        _no_offset(offset)
        return ops.box_area(boxes, fmt=fmt)

    return native


def _tv_pairwise(name: str):
    def load():
        ops = _torchvision_ops()
        fn = getattr(ops, name)

        def native(boxes1, boxes2, /, *, fmt="xyxy", offset=0, **eps):
            _no_offset(offset)
            if name == "box_iou":
                return fn(boxes1, boxes2, fmt=fmt)
            return fn(_tv_xyxy(ops, boxes1, fmt), _tv_xyxy(ops, boxes2, fmt), **eps)

        return native

    return load


def _tv_loss(name: str):
    def load():
        ops = _torchvision_ops()
        fn = getattr(ops, name)

        def native(boxes1, boxes2, /, *, fmt="xyxy", offset=0, reduction="none", eps=EPS):
            _no_offset(offset)
            if name == "complete_box_iou_loss" and eps != EPS:
                raise Unsupported("torchvision's CIoU loss uses eps only in alpha")
            a, b = _tv_xyxy(ops, boxes1, fmt), _tv_xyxy(ops, boxes2, fmt)
            return fn(a, b, reduction=reduction, eps=eps)

        return native

    return load


def _generic_position(case: Case) -> bool:
    """Away from the kinks: no two x (or y) coordinates equal, no zero width or height.
    There min / max / clip have no derivative and libraries pick different subgradients."""
    fmt, offset = case.kwargs.get("fmt", "xyxy"), case.kwargs.get("offset", 0)
    xyxy = [box_convert_oracle(b, in_fmt=fmt, out_fmt="xyxy") for b in case.args]
    for cols in ((0, 2), (1, 3)):
        values = np.concatenate([b[..., c].ravel() for b in xyxy for c in cols])
        if np.unique(values).size != values.size:
            return False
    return all(((b[..., 2:] - b[..., :2] + offset) > 0).all() for b in xyxy)


# ----------------------------------------------------------------------------- specs

_CAPS = Capabilities(jit=True, differentiable=True)
_CIOU_LOSS_EPS = (
    "; torchvision 0.29 passes eps only to alpha, its IoU and distance term keep 1e-7: "
    "equal for the default eps only"
)
_TOL = {"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)}

_SQUARE = np.array([[0.0, 0.0, 2.0, 2.0]])
_TWO = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]])
_INVERTED = np.array([[0.0, 0.0, 2.0, 2.0], [3.0, 0.0, 1.0, 2.0]])


def _invalid_box_args(pairwise: bool) -> tuple[InvalidCase, ...]:
    """Bad boxes for an op taking (boxes1, boxes2): shape, dtype, format, offset, values."""
    other = _TWO
    cases = [
        InvalidCase("boxes1 not (..., 4)", Case((np.ones((2, 3)), other)), ValueError,
                    "boxes1"),
        InvalidCase("boxes2 not (..., 4)", Case((_TWO, np.ones((2, 5)))), ValueError,
                    "boxes2"),
        InvalidCase("bool boxes", Case((np.ones((2, 4), bool), other)), TypeError, "boxes1"),
        InvalidCase("unknown fmt", Case((_TWO, other), {"fmt": "xyxy2"}), ValueError, "fmt"),
        InvalidCase("offset 2", Case((_TWO, other), {"offset": 2}), ValueError, "offset"),
        InvalidCase("offset True", Case((_TWO, other), {"offset": True}), TypeError,
                    "offset"),
        InvalidCase("inverted boxes1", Case((_INVERTED, other)), ValueError, "boxes1",
                    needs_values=True),
        InvalidCase("inverted boxes2 (xywh)",
                    Case((_TWO, np.array([[0.0, 0.0, 2.0, -1.0], [0.0, 0.0, 1.0, 1.0]])),
                         {"fmt": "xywh"}), ValueError, "boxes2", needs_values=True),
    ]
    if pairwise:
        cases += [
            InvalidCase("one box without the N axis", Case((_SQUARE[0], _TWO)), ValueError,
                        "boxes1"),
            InvalidCase("batch dims do not broadcast",
                        Case((np.zeros((2, 3, 4)), np.zeros((3, 1, 4)))), ValueError,
                        "batch dimensions"),
        ]
    else:
        cases += [
            InvalidCase("shape mismatch", Case((_TWO, _TWO[:1])), ValueError, "boxes2"),
            InvalidCase("unknown reduction", Case((_TWO, _TWO), {"reduction": "avg"}),
                        ValueError, "reduction"),
        ]
    return tuple(cases)


def _invalid_eps(args: tuple) -> tuple[InvalidCase, ...]:
    return (
        InvalidCase("negative eps", Case(args, {"eps": -1e-7}), ValueError, "eps"),
        InvalidCase("nan eps", Case(args, {"eps": math.nan}), ValueError, "eps"),
        InvalidCase("string eps", Case(args, {"eps": "1e-7"}), TypeError, "eps"),
    )


# edge cases shared by the pairwise ops, (boxes1, boxes2, kwargs, name)
_A = np.array([[0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 3.0, 3.0], [4.0, 0.0, 6.0, 4.0],
               [10.0, 10.0, 10.0, 10.0], [2.0, 0.0, 2.0, 5.0]])
_PAIRWISE_EDGES = (
    Case((_A, _A), name="nested, touching, a point and a zero-width box, against themselves"),
    Case((_A, _A), {"offset": 1}, name="offset 1: VOC pixel-inclusive"),
    Case((np.array([[1.0, 1.0, 1.0, 1.0], [3.0, 5.0, 3.0, 5.0], [1.0, 0.0, 1.0, 2.0]]),
          np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 4.0, 1.0, 6.0]])),
         name="zero-area boxes only: every union 0"),
    Case((np.zeros((0, 4)), _A), name="no boxes1"),
    Case((_A, np.zeros((0, 4))), name="no boxes2"),
    Case((np.zeros((2, 0, 4)), np.zeros((1, 3, 4))), name="empty with batch dims"),
    Case((np.stack([_A, _A + 1.0]), _A[None, :3]), name="batch dims broadcast"),
    Case((np.array([[0, 0, 10, 10], [5, 5, 15, 15]]), np.array([[0, 0, 10, 10]])),
         name="integer boxes"),
    Case((np.array([[0, 0, 10, 10]]), np.array([[5.0, 5.0, 15.0, 15.0]])),
         name="integer with float boxes"),
    Case((np.array([[1e6, 1e6, 1e6 + 96.0, 1e6 + 48.0]]),
          np.array([[1e6 + 32.0, 1e6, 1e6 + 160.0, 1e6 + 64.0]])),
         name="large, exactly representable coordinates"),
    Case((np.array([[2.0, 2.0, 4.0, 4.0]]), np.array([[2.0, 2.0, 4.0, 4.0]])),
         {"fmt": "cxcywh"}, name="cxcywh identical"),
    Case((np.array([[0.0, 0.0, 3.0, 1.0]]), np.array([[5.0, 7.0, 1.0, 2.0]])),
         {"fmt": "xywh", "offset": 1}, name="xywh disjoint, offset 1"),
)


def _pairwise_spec(name: str, doc: str) -> OpSpec:
    kind, has_eps = _KINDS[name]
    eps_sig = ", eps=1e-7" if has_eps else ""
    edges: tuple[Case, ...] = _PAIRWISE_EDGES
    invalid = _invalid_box_args(pairwise=True)
    if has_eps:
        edges += (
            Case((_A, _A), {"eps": 0.0}, name="eps 0"),
            Case((_A[3:], _A[3:]), {"eps": 0.0}, name="eps 0, same points: 0 / 0 -> 0"),
        )
        invalid += _invalid_eps((_TWO, _TWO))
    properties = [
        Property("symmetric", _symmetric),
        Property("scale invariant", _scale_invariant(has_eps)),
        Property("a box against itself", _self_iou),
    ]
    if kind in ("iou", "giou"):
        lo = 0.0 if kind == "iou" else -1.0
        properties.append(Property(f"within [{lo:g}, 1]", _within(lo, 1.0)))
    return OpSpec(
        name=name,
        family="boxes",
        impl=getattr(_impl_iou, name),
        oracle=_pairwise_oracle(kind, EPS if has_eps else 0.0),
        cases=lambda: _pairwise_cases(eps=has_eps),
        signature=f"{name}(boxes1, boxes2, /, *, fmt='xyxy', offset=0{eps_sig})",
        doc=(
            "boxes1 (..., N, 4), boxes2 (..., M, 4), batch dimensions broadcast -> "
            "(..., N, M). With w = x2 - x1 + offset, h = y2 - y1 + offset for each box, "
            "inter = max(min(x2) - max(x1) + offset, 0) * max(min(y2) - max(y1) + offset, 0), "
            "U = w1 h1 + w2 h2 - inter, IoU = inter / U (0 where U = 0). " + doc
        ),
        edge_cases=edges,
        invalid_cases=invalid,
        tolerance=_TOL,
        properties=tuple(properties),
        natives=(
            Native("torch", f"torchvision.ops.{name}", _tv_pairwise(name),
                   "offset=0 only; other formats through torchvision.ops.box_convert "
                   "(box_iou takes fmt); NaN where the union is 0"),
        ),
        capabilities=_CAPS,
        grad_argnums=(0, 1),
        differentiable_at=_generic_position,
    )


def _loss_spec(name: str, doc: str) -> OpSpec:
    kind = _LOSSES[name]
    return OpSpec(
        name=name,
        family="boxes",
        impl=getattr(_impl_iou, name),
        oracle=_loss_oracle(kind),
        cases=_loss_cases,
        signature=(
            f"{name}(boxes1, boxes2, /, *, fmt='xyxy', offset=0, reduction='none', eps=1e-7)"
        ),
        doc=(
            "boxes1 and boxes2 of one shape (..., 4), elementwise -> (...) for "
            "reduction='none', else the mean (0 for no boxes, as torchvision) or sum. "
            "Widths, heights, inter and U as in the pairwise ops; IoU = inter / (U + eps) "
            "(0 where U + eps = 0). " + doc
        ),
        edge_cases=(
            Case((_A, _A[::-1].copy()), name="nested, touching, points, zero width"),
            Case((_A, _A[::-1].copy()), {"offset": 1, "reduction": "sum"}, name="offset 1"),
            Case((_A, _A[::-1].copy()), {"eps": 0.0}, name="eps 0"),
            Case((_A[3:], _A[3:]), {"eps": 0.0}, name="eps 0, same degenerate boxes"),
            Case((np.zeros((0, 4)), np.zeros((0, 4))), {"reduction": "mean"},
                 name="no boxes, mean: 0"),
            Case((_SQUARE[0], _SQUARE[0] + 1.0), name="one box, shape (4,)"),
            Case((np.array([[0, 0, 10, 10]]), np.array([[5.0, 5.0, 15.0, 15.0]])),
                 {"reduction": "mean"}, name="integer with float boxes"),
        ),
        invalid_cases=_invalid_box_args(pairwise=False) + _invalid_eps((_TWO, _TWO)),
        tolerance=_TOL,
        properties=(
            Property("symmetric", _symmetric_loss),
            Property("scale invariant", _scale_invariant(True)),
            Property("mean and sum of 'none'", _reductions_agree),
        ),
        natives=(
            Native("torch", f"torchvision.ops.{name}", _tv_loss(name),
                   "offset=0 only; other formats through torchvision.ops.box_convert"
                   + (_CIOU_LOSS_EPS if kind == "ciou" else "")),
        ),
        capabilities=_CAPS,
        grad_argnums=(0, 1),
        differentiable_at=_generic_position,
    )


_GIOU_DOC = (
    "C = (max(x2) - min(x1) + offset)(max(y2) - min(y1) + offset), the smallest enclosing "
    "box; GIoU = IoU - (C - U) / C, the penalty 0 where C = 0 (so distinct zero-area boxes "
    "score -1). torchvision: NaN where U = 0."
)
_DIOU_DOC = (
    "d^2 the squared distance of the box centres ((x1 + x2) / 2, (y1 + y2) / 2), c^2 = "
    "cw^2 + ch^2 the enclosing box's squared diagonal (cw, ch including offset); DIoU = "
    "IoU - d^2 / (c^2 + eps) (0 where c^2 + eps = 0). torchvision adds eps the same way."
)
_CIOU_DOC = (
    _DIOU_DOC + " v = 4 / pi^2 (atan2(w1, h1) - atan2(w2, h2))^2 (atan(w / h) for h > 0; "
    "angle 0 for a 0 x 0 box, NaN in torchvision), alpha = v / (1 - IoU + v + eps) (0 "
    "where that is 0), constant under autodiff (torch.no_grad in torchvision); CIoU = "
    "DIoU - alpha v."
)

BOX_IOU = _pairwise_spec(
    "box_iou",
    "Equal to torchvision.ops.box_iou for valid boxes with offset 0 (NaN there where U = 0).",
)
GENERALIZED_BOX_IOU = _pairwise_spec("generalized_box_iou", _GIOU_DOC)
DISTANCE_BOX_IOU = _pairwise_spec("distance_box_iou", _DIOU_DOC)
COMPLETE_BOX_IOU = _pairwise_spec("complete_box_iou", _CIOU_DOC)

GENERALIZED_BOX_IOU_LOSS = _loss_spec(
    "generalized_box_iou_loss",
    "loss = 1 - IoU + (C - U) / (C + eps) (the penalty 0 where C + eps = 0).",
)
DISTANCE_BOX_IOU_LOSS = _loss_spec(
    "distance_box_iou_loss", "loss = 1 - IoU + d^2 / (c^2 + eps), d and c as in DIoU."
)
COMPLETE_BOX_IOU_LOSS = _loss_spec(
    "complete_box_iou_loss",
    "loss = 1 - IoU + d^2 / (c^2 + eps) + alpha v, with the IoU (with eps) in alpha; "
    "v and alpha as in CIoU, alpha constant under autodiff.",
)

_CONVERT_EDGES = (
    Case((np.array([[10.0, 20.0, 30.0, 60.0], [1.0, 1.0, 1.0, 1.0]]),),
         {"in_fmt": "xyxy", "out_fmt": "cxcywh"}, name="to cxcywh, a point"),
    Case((np.array([[10.0, 20.0, 30.0, 60.0]]),), {"in_fmt": "xywh", "out_fmt": "xywh"},
         name="same format"),
    Case((np.array([[1, 2, 3, 4], [0, 0, 0, 0]]),), {"in_fmt": "cxcywh", "out_fmt": "xyxy"},
         name="integer boxes"),
    Case((np.array([[2.0, 2.0, 1.0, 1.0]]),), {"in_fmt": "xyxy", "out_fmt": "xywh"},
         name="inverted boxes convert (negative widths)"),
    Case((np.zeros((2, 0, 4)),), {"in_fmt": "xywh", "out_fmt": "cxcywh"}, name="empty"),
)

BOX_CONVERT = OpSpec(
    name="box_convert",
    family="boxes",
    impl=_impl.box_convert,
    oracle=box_convert_oracle,
    cases=_convert_cases,
    signature="box_convert(boxes, /, *, in_fmt, out_fmt)",
    doc=(
        "(..., 4) -> (..., 4). xyxy = (x1, y1, x2, y2), xywh = (x1, y1, w, h), cxcywh = "
        "((x1 + x2) / 2, (y1 + y2) / 2, w, h); conversion is continuous (x2 = x1 + w), no "
        "offset, no box rejected; in_fmt == out_fmt returns a copy. Integer boxes are "
        "promoted to the default float (torchvision keeps integers for xyxy <-> xywh)."
    ),
    edge_cases=_CONVERT_EDGES,
    invalid_cases=(
        InvalidCase("not (..., 4)", Case((np.ones((2, 5)),), {"in_fmt": "xyxy",
                                                              "out_fmt": "xywh"}),
                    ValueError, "boxes"),
        InvalidCase("0-d", Case((np.float64(1.0),), {"in_fmt": "xyxy", "out_fmt": "xywh"}),
                    ValueError, "boxes"),
        InvalidCase("bool boxes", Case((np.ones((2, 4), bool),), {"in_fmt": "xyxy",
                                                                   "out_fmt": "xywh"}),
                    TypeError, "boxes"),
        InvalidCase("unknown in_fmt", Case((_TWO,), {"in_fmt": "xxyy", "out_fmt": "xywh"}),
                    ValueError, "in_fmt"),
        InvalidCase("unknown out_fmt", Case((_TWO,), {"in_fmt": "xyxy", "out_fmt": "xyxyr"}),
                    ValueError, "out_fmt"),
    ),
    properties=(Property("round trip", _convert_round_trip),),
    natives=(
        Native("torch", "torchvision.ops.box_convert", _tv_box_convert,
               "positional in_fmt, out_fmt; integer boxes stay integer for xyxy <-> xywh; "
               "xywh <-> cxcywh goes through corners (rounding)"),
    ),
    capabilities=_CAPS,
)

BOX_AREA = OpSpec(
    name="box_area",
    family="boxes",
    impl=_impl.box_area,
    oracle=box_area_oracle,
    cases=_area_cases,
    signature="box_area(boxes, /, *, fmt='xyxy', offset=0)",
    doc=(
        "(..., 4) -> (...): (x2 - x1 + offset)(y2 - y1 + offset) in xyxy, (w + offset)"
        "(h + offset) straight from the widths in xywh / cxcywh. Inverted boxes raise."
    ),
    edge_cases=(
        Case((_A,), name="zero width, a point"),
        Case((_A,), {"offset": 1}, name="offset 1"),
        Case((np.array([[3, 4, 5, 6]]),), {"fmt": "cxcywh"}, name="integer cxcywh"),
        Case((np.zeros((0, 4)),), name="empty"),
        Case((np.array([0.0, 0.0, 2.0, 3.0]),), name="one box, shape (4,)"),
    ),
    invalid_cases=(
        InvalidCase("not (..., 4)", Case((np.ones((2, 3)),)), ValueError, "boxes"),
        InvalidCase("bool boxes", Case((np.ones((2, 4), bool),)), TypeError, "boxes"),
        InvalidCase("unknown fmt", Case((_TWO,), {"fmt": "yxyx"}), ValueError, "fmt"),
        InvalidCase("offset -1", Case((_TWO,), {"offset": -1}), ValueError, "offset"),
        InvalidCase("inverted", Case((_INVERTED,)), ValueError, "boxes", needs_values=True),
        InvalidCase("negative height (cxcywh)",
                    Case((np.array([[1.0, 1.0, 1.0, -0.5]]),), {"fmt": "cxcywh"}),
                    ValueError, "boxes", needs_values=True),
    ),
    properties=(Property("doubling scales by 4", _area_scales),),
    natives=(
        Native("torch", "torchvision.ops.box_area", _tv_box_area,
               "offset=0 only; integer boxes give integer areas; inverted boxes give "
               "negative areas where we raise"),
    ),
    capabilities=_CAPS,
)

SPECS = (
    BOX_CONVERT,
    BOX_AREA,
    BOX_IOU,
    GENERALIZED_BOX_IOU,
    DISTANCE_BOX_IOU,
    COMPLETE_BOX_IOU,
    GENERALIZED_BOX_IOU_LOSS,
    DISTANCE_BOX_IOU_LOSS,
    COMPLETE_BOX_IOU_LOSS,
)
