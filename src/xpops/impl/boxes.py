"""Boxes: formats, conversion, areas, and the checks and IoU kernels the family shares.

This module holds what every box op builds on: box validation, format conversion,
``box_convert``, ``box_area`` and the intersection / IoU kernels that NMS and detection
mAP use too; the pairwise IoU family and the box regression losses are in
:mod:`xpops.impl.boxes_iou`. Conventions shared by every box op (and by NMS and
detection mAP):

- Boxes are ``(..., 4)`` arrays in ``"xyxy"`` (x1, y1, x2, y2), ``"xywh"`` (x1, y1, w, h)
  or ``"cxcywh"`` (centre, w, h). Every format is first converted to xyxy with the
  continuous formulas (x2 = x1 + w).
- ``offset`` (0 or 1) is then added to every width and height an op uses (intersection,
  areas, union, the enclosing box and the aspect ratios of GIoU/DIoU/CIoU): 0 is
  continuous coordinates (torchvision, pycocotools), 1 the legacy pixel-inclusive
  convention (PASCAL VOC devkit, the classic NumPy NMS): area (x2 - x1 + 1)(y2 - y1 + 1).
- Integer boxes are promoted to the floating dtype of the other box argument, or to the
  default float dtype (as torchvision does); boolean boxes raise TypeError.
- Inverted boxes (x2 < x1 or y2 < y1; w < 0 or h < 0 in the wh formats) raise ValueError
  wherever values are concrete. Zero-width boxes are valid; a pair whose union is 0 has
  IoU 0, not NaN, and every other ratio with a zero denominator (GIoU's (C - U) / C, DIoU's
  d^2 / (c^2 + eps) with eps = 0, CIoU's alpha) is 0 there too. NaN coordinates are not
  checked and give NaN.
"""

from __future__ import annotations

from typing import Any

from .._lib.inputs import array_op
from .._lib.jax_eager import run_compiled
from .._lib.namespace import (
    array_namespace,
    as_array,
    default_float,
    default_int,
    device,
    is_concrete,
)
from .._lib.validation import check_choice, check_count, check_real, concrete_true, size

__all__ = ["box_convert", "box_area"]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
DEFAULT_EPS = 1e-7  # torchvision's default for DIoU, CIoU and the three losses


# ------------------------------------------------------------------------ validation


def _check_box_shape(boxes: Any, name: str) -> None:
    if boxes.ndim < 1 or boxes.shape[-1] != 4:
        msg = f"`{name}` must have shape (..., 4), got {name}.shape={tuple(boxes.shape)}"
        raise ValueError(msg)


def _check_box_dtype(xp: Any, boxes: Any, name: str) -> None:
    if not xp.isdtype(boxes.dtype, ("real floating", "integral")):
        msg = f"`{name}` must have a real floating or integer dtype, got {boxes.dtype}"
        raise TypeError(msg)


def float_boxes(xp: Any, boxes: Any, name: str) -> Any:
    """``boxes`` as a floating array of shape ``(..., 4)``; integers take the default float."""
    _check_box_shape(boxes, name)
    _check_box_dtype(xp, boxes, name)
    if xp.isdtype(boxes.dtype, "real floating"):
        return boxes
    return xp.astype(boxes, default_float(xp, device(boxes)))


def check_offset(offset: Any) -> int:
    """``offset``: the integer 0 (continuous coordinates) or 1 (pixel-inclusive)."""
    return check_count(offset, "offset", maximum=1)


def check_eps(eps: Any) -> float:
    """``eps`` as a float: a finite real number >= 0."""
    return check_real(eps, "eps", finite=True, low=0.0)


def _inverted_flags(boxes: Any, *, xp: Any, fmt: str) -> tuple[Any, Any]:
    """Per box: inverted? (x2 < x1 or y2 < y1; w < 0 or h < 0 in the wh formats, where
    converted corners could round a tiny negative width to zero); and whether any is."""
    if fmt == "xyxy":
        bad = (boxes[..., 2] < boxes[..., 0]) | (boxes[..., 3] < boxes[..., 1])
    else:
        bad = (boxes[..., 2] < 0) | (boxes[..., 3] < 0)
    return bad, xp.any(bad)


def _check_not_inverted_in(xp: Any, boxes: Any, fmt: str, name: str) -> None:
    """ValueError showing the first inverted box (only where values are concrete)."""
    if not is_concrete(boxes) or size(boxes) == 0:
        return
    bad, flag = run_compiled(_inverted_flags, (boxes,), xp=xp, fmt=fmt)
    if not concrete_true(flag):
        return
    flat = xp.reshape(bad, (-1,))
    dev = device(flat)
    # not argmax: its int64 result is unavailable on devices without 64-bit integers
    n = flat.shape[0]
    index = xp.arange(n, dtype=default_int(xp, dev), device=dev)
    first = int(xp.min(xp.where(flat, index, xp.asarray(n, dtype=index.dtype, device=dev))))
    box = xp.reshape(boxes, (-1, 4))[first, :]
    values = ", ".join(f"{float(v):g}" for v in (box[0], box[1], box[2], box[3]))
    what = "x2 < x1 or y2 < y1 in xyxy form" if fmt == "xyxy" else f"w < 0 or h < 0 in {fmt} form"
    msg = f"`{name}` holds an inverted box ({what}): box {first} (flattened) is [{values}]"
    raise ValueError(msg)


def check_not_inverted(xp: Any, xyxy: Any, name: str) -> None:
    """ValueError when some box has x2 < x1 or y2 < y1 (only where values are concrete)."""
    _check_not_inverted_in(xp, xyxy, "xyxy", name)


def _columns(boxes: Any) -> tuple[Any, Any, Any, Any]:
    return boxes[..., 0], boxes[..., 1], boxes[..., 2], boxes[..., 3]


def to_xyxy(xp: Any, boxes: Any, fmt: str) -> Any:
    """Continuous conversion of floating ``boxes`` from ``fmt`` to xyxy."""
    if fmt == "xyxy":
        return boxes
    a, b, c, d = _columns(boxes)
    if fmt == "xywh":
        return xp.stack((a, b, a + c, b + d), axis=-1)
    half_w, half_h = c / 2, d / 2  # cxcywh
    return xp.stack((a - half_w, b - half_h, a + half_w, b + half_h), axis=-1)


def from_xyxy(xp: Any, boxes: Any, fmt: str) -> Any:
    if fmt == "xyxy":
        return boxes
    x1, y1, x2, y2 = _columns(boxes)
    w, h = x2 - x1, y2 - y1
    if fmt == "xywh":
        return xp.stack((x1, y1, w, h), axis=-1)
    return xp.stack(((x1 + x2) / 2, (y1 + y2) / 2, w, h), axis=-1)  # cxcywh


def _convert(xp: Any, boxes: Any, in_fmt: str, out_fmt: str) -> Any:
    """Between the wh formats directly (x + w / 2), so no width is rounded through corners."""
    a, b, c, d = _columns(boxes)
    if (in_fmt, out_fmt) == ("xywh", "cxcywh"):
        return xp.stack((a + c / 2, b + d / 2, c, d), axis=-1)
    if (in_fmt, out_fmt) == ("cxcywh", "xywh"):
        return xp.stack((a - c / 2, b - d / 2, c, d), axis=-1)
    return from_xyxy(xp, to_xyxy(xp, boxes, in_fmt), out_fmt)


def xyxy_boxes(xp: Any, boxes: Any, *, fmt: str, name: str) -> Any:
    """Validate ``boxes`` (shape, dtype, format, not inverted) and return them as xyxy."""
    check_choice(fmt, "fmt", BOX_FORMATS)
    boxes = float_boxes(xp, boxes, name)
    _check_not_inverted_in(xp, boxes, fmt, name)
    return to_xyxy(xp, boxes, fmt)


def float_box_pair(xp: Any, boxes1: Any, boxes2: Any, *, fmt: str) -> tuple[Any, Any]:
    """``boxes1`` and ``boxes2`` validated (still in ``fmt``), in one floating dtype.

    The dtype is the floating inputs' common one (float32 with float64 gives float64);
    integer boxes take it, or the default float dtype when both are integer.
    """
    check_choice(fmt, "fmt", BOX_FORMATS)
    for boxes, name in ((boxes1, "boxes1"), (boxes2, "boxes2")):
        _check_box_shape(boxes, name)
        _check_box_dtype(xp, boxes, name)
    floats = [b.dtype for b in (boxes1, boxes2) if xp.isdtype(b.dtype, "real floating")]
    dtype = xp.result_type(*floats) if floats else default_float(xp, device(boxes1))
    out = []
    for boxes, name in ((boxes1, "boxes1"), (boxes2, "boxes2")):
        boxes = xp.astype(boxes, dtype, copy=False)
        _check_not_inverted_in(xp, boxes, fmt, name)
        out.append(boxes)
    return out[0], out[1]


def check_batch_broadcast(a: Any, b: Any) -> None:
    """The leading (batch) dimensions of ``boxes1 (..., N, 4)`` and ``boxes2`` broadcast."""
    for x, y in zip(reversed(a.shape[:-2]), reversed(b.shape[:-2]), strict=False):
        if x != y and x != 1 and y != 1:
            msg = (
                f"the batch dimensions of `boxes1` {tuple(a.shape)} and `boxes2` "
                f"{tuple(b.shape)} do not broadcast"
            )
            raise ValueError(msg)



# ------------------------------------------------------------------------- compute
#
# The kernels take the four coordinate columns of each side, shaped to broadcast against
# each other: (..., N, 1) against (..., 1, M) for the pairwise ops, equal shapes for the
# losses. Per-box quantities (areas, centres, aspect angles) are formed on the columns
# before they meet, so a pairwise op builds each (N, M) temporary once.


def plus(x: Any, c: float) -> Any:
    """``x + c``, without a full pass over ``x`` when ``c`` is 0 (offset 0, eps 0)."""
    return x + c if c else x


def pair_columns(a: Any, b: Any, *, pairwise: bool) -> tuple[tuple, tuple]:
    if pairwise:
        return _columns(a[..., :, None, :]), _columns(b[..., None, :, :])
    return _columns(a), _columns(b)


def areas_xyxy(boxes: Any, offset: int) -> Any:
    return plus(boxes[..., 2] - boxes[..., 0], offset) * plus(
        boxes[..., 3] - boxes[..., 1], offset
    )


def intersection_union(xp: Any, a: tuple, b: tuple, offset: int) -> tuple[Any, Any]:
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    w = plus(xp.minimum(ax2, bx2) - xp.maximum(ax1, bx1), offset)
    h = plus(xp.minimum(ay2, by2) - xp.maximum(ay1, by1), offset)
    inter = xp.clip(w, min=0) * xp.clip(h, min=0)
    area_a = plus(ax2 - ax1, offset) * plus(ay2 - ay1, offset)
    area_b = plus(bx2 - bx1, offset) * plus(by2 - by1, offset)
    return inter, area_a + area_b - inter


def pairwise_intersection_union(xp: Any, a: Any, b: Any, offset: int) -> tuple[Any, Any]:
    """Intersection and union areas of xyxy ``a (..., N, 4)`` against ``b (..., M, 4)``."""
    return intersection_union(xp, *pair_columns(a, b, pairwise=True), offset)


def safe_ratio(xp: Any, num: Any, den: Any) -> Any:
    """``num / den`` with 0 where ``den`` is 0 (``num`` is then 0 too: an empty union).

    The denominator is replaced before dividing, so no 0 / 0 is evaluated: no NaN, no
    warning, and finite gradients on every backend.
    """
    one = xp.asarray(1, dtype=den.dtype, device=device(den))
    return num / xp.where(den > 0, den, one)


def pairwise_iou_xyxy(xp: Any, a: Any, b: Any, offset: int) -> Any:
    inter, union = pairwise_intersection_union(xp, a, b, offset)
    return safe_ratio(xp, inter, union)



# --------------------------------------------------------------------------- public


@array_op("boxes")
def box_convert(boxes: Any, /, *, in_fmt: str, out_fmt: str) -> Any:
    """Convert boxes between ``"xyxy"``, ``"xywh"`` and ``"cxcywh"``.

    Conversion is continuous (x2 = x1 + w, cx = (x1 + x2) / 2); no offset applies and no
    box is rejected (a negative width converts like any other).

    Parameters
    ----------
    boxes : array
        ``(..., 4)``, real floating or integer (promoted to the default float dtype).
    in_fmt, out_fmt : {"xyxy", "xywh", "cxcywh"}
        Format of ``boxes`` and of the result.

    Returns
    -------
    array
        The shape of ``boxes``, floating; a new array even when ``in_fmt == out_fmt``.

    Raises
    ------
    TypeError
        When ``boxes`` is boolean.
    ValueError
        When ``boxes`` is not ``(..., 4)`` or a format is unknown.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import box_convert
    >>> b = xp.asarray([[10.0, 20.0, 30.0, 60.0]])
    >>> box_convert(b, in_fmt="xyxy", out_fmt="cxcywh")
    Array([[20., 40., 20., 40.]], dtype=array_api_strict.float64)
    >>> box_convert(b, in_fmt="xyxy", out_fmt="xywh")
    Array([[10., 20., 20., 40.]], dtype=array_api_strict.float64)
    """
    xp = array_namespace(boxes)
    check_choice(in_fmt, "in_fmt", BOX_FORMATS)
    check_choice(out_fmt, "out_fmt", BOX_FORMATS)
    floating = float_boxes(xp, boxes, "boxes")
    if in_fmt == out_fmt:
        return floating if floating is not boxes else xp.asarray(boxes, copy=True)
    return _convert(xp, floating, in_fmt, out_fmt)


@array_op("boxes")
def box_area(boxes: Any, /, *, fmt: str = "xyxy", offset: int = 0) -> Any:
    """Area of each box: ``(x2 - x1 + offset) * (y2 - y1 + offset)``.

    In the wh formats the area is ``(w + offset) * (h + offset)`` straight from the given
    widths (as in torchvision), not from rounded corners.

    Parameters
    ----------
    boxes : array
        ``(..., 4)`` in ``fmt``, real floating or integer (promoted to the default float
        dtype).
    fmt : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Format of ``boxes``.
    offset : {0, 1}, default 0
        Added to every width and height: 0 for continuous coordinates, 1 for the
        pixel-inclusive convention (PASCAL VOC).

    Returns
    -------
    array
        ``boxes.shape[:-1]``, floating.

    Raises
    ------
    TypeError
        When ``boxes`` is boolean or ``offset`` is not an int.
    ValueError
        When ``boxes`` is not ``(..., 4)``, ``fmt`` is unknown, ``offset`` is not 0
        or 1, or (where values are concrete) a box is inverted.

    Examples
    --------
    A 9 x 4 box; with ``offset=1`` it covers 10 x 5 pixels:

    >>> import array_api_strict as xp
    >>> from xpops import box_area
    >>> b = xp.asarray([[0.0, 0.0, 9.0, 4.0]])
    >>> box_area(b)
    Array([36.], dtype=array_api_strict.float64)
    >>> box_area(b, offset=1)
    Array([50.], dtype=array_api_strict.float64)
    """
    xp = array_namespace(boxes)
    offset = check_offset(offset)
    check_choice(fmt, "fmt", BOX_FORMATS)
    boxes = float_boxes(xp, boxes, "boxes")
    _check_not_inverted_in(xp, boxes, fmt, "boxes")
    if fmt == "xyxy":
        return as_array(xp, areas_xyxy(boxes, offset))  # one box: NumPy gives a scalar
    return as_array(xp, plus(boxes[..., 2], offset) * plus(boxes[..., 3], offset))
