"""Boxes: formats, areas and the pairwise IoU family.

Conventions shared by every box op (and by NMS and detection mAP, which build on the
private helpers here):

- Boxes are ``(..., 4)`` arrays in ``"xyxy"`` (x1, y1, x2, y2), ``"xywh"`` (x1, y1, w, h)
  or ``"cxcywh"`` (centre, w, h). Every format is first converted to xyxy with the
  continuous formulas (x2 = x1 + w).
- ``offset`` (0 or 1) is then added to every width and height an op uses: 0 is
  continuous coordinates (torchvision, pycocotools), 1 the legacy pixel-inclusive
  convention (PASCAL VOC devkit, the classic NumPy NMS): area (x2 - x1 + 1)(y2 - y1 + 1).
- Integer boxes are promoted to the default float dtype (as torchvision does); boolean
  boxes raise TypeError.
- Inverted boxes (x2 < x1 or y2 < y1 after conversion) raise ValueError wherever values
  are concrete. Zero-width boxes are valid; a pair whose union is 0 has IoU 0, not NaN.
  NaN coordinates are not checked and give NaN IoU.
"""

from __future__ import annotations

from typing import Any

from .._lib.namespace import array_namespace, default_float, device, is_concrete
from .._lib.validation import check_choice, concrete_true, size

__all__ = ["box_convert", "box_area", "box_iou"]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
OFFSETS = (0, 1)


# ------------------------------------------------------------------------ validation


def float_boxes(xp: Any, boxes: Any, name: str) -> Any:
    """``boxes`` as a floating array of shape ``(..., 4)``; integers take the default float."""
    if boxes.ndim < 1 or boxes.shape[-1] != 4:
        msg = f"`{name}` must have shape (..., 4), got {name}.shape={tuple(boxes.shape)}"
        raise ValueError(msg)
    if xp.isdtype(boxes.dtype, "real floating"):
        return boxes
    if xp.isdtype(boxes.dtype, "integral"):
        return xp.astype(boxes, default_float(xp, device(boxes)))
    msg = f"`{name}` must have a real floating or integer dtype, got {boxes.dtype}"
    raise TypeError(msg)


def check_offset(offset: Any) -> int:
    if isinstance(offset, bool) or offset not in OFFSETS:
        msg = f"`offset` must be 0 or 1, got {offset!r}"
        raise ValueError(msg)
    return int(offset)


def check_not_inverted(xp: Any, xyxy: Any, name: str) -> None:
    """ValueError when some box has x2 < x1 or y2 < y1 (only where values are concrete)."""
    if not is_concrete(xyxy) or size(xyxy) == 0:
        return
    inverted = (xyxy[..., 2] < xyxy[..., 0]) | (xyxy[..., 3] < xyxy[..., 1])
    flag = xp.any(inverted)
    if concrete_true(flag):
        flat = xp.reshape(inverted, (-1,))
        first = int(xp.argmax(xp.astype(flat, xp.int32)))
        box = xp.reshape(xyxy, (-1, 4))[first, :]
        values = ", ".join(f"{float(v):g}" for v in (box[0], box[1], box[2], box[3]))
        msg = (
            f"`{name}` holds an inverted box (x2 < x1 or y2 < y1 in xyxy form): box {first} "
            f"(flattened) is [{values}]"
        )
        raise ValueError(msg)


def to_xyxy(xp: Any, boxes: Any, fmt: str) -> Any:
    """Continuous conversion of floating ``boxes`` from ``fmt`` to xyxy."""
    if fmt == "xyxy":
        return boxes
    a, b, c, d = (boxes[..., i] for i in range(4))
    if fmt == "xywh":
        return xp.stack((a, b, a + c, b + d), axis=-1)
    half_w, half_h = c / 2, d / 2  # cxcywh
    return xp.stack((a - half_w, b - half_h, a + half_w, b + half_h), axis=-1)


def from_xyxy(xp: Any, boxes: Any, fmt: str) -> Any:
    if fmt == "xyxy":
        return boxes
    x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
    w, h = x2 - x1, y2 - y1
    if fmt == "xywh":
        return xp.stack((x1, y1, w, h), axis=-1)
    return xp.stack((x1 + w / 2, y1 + h / 2, w, h), axis=-1)  # cxcywh


def xyxy_boxes(xp: Any, boxes: Any, *, fmt: str, name: str) -> Any:
    """Validate ``boxes`` (shape, dtype, format, not inverted) and return them as xyxy."""
    check_choice(fmt, "fmt", BOX_FORMATS)
    xyxy = to_xyxy(xp, float_boxes(xp, boxes, name), fmt)
    check_not_inverted(xp, xyxy, name)
    return xyxy


def check_batch_broadcast(a: Any, b: Any) -> None:
    """The leading (batch) dimensions of ``boxes1 (..., N, 4)`` and ``boxes2`` broadcast."""
    for x, y in zip(reversed(a.shape[:-2]), reversed(b.shape[:-2]), strict=False):
        if x != y and x != 1 and y != 1:
            msg = (
                f"the batch dimensions of `boxes1` {tuple(a.shape)} and `boxes2` "
                f"{tuple(b.shape)} do not broadcast"
            )
            raise ValueError(msg)


def promote_pair(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """Both floating arrays in their common dtype (float32 with float64 gives float64)."""
    dtype = xp.result_type(a.dtype, b.dtype)
    return xp.astype(a, dtype, copy=False), xp.astype(b, dtype, copy=False)


# ------------------------------------------------------------------------- compute


def areas_xyxy(boxes: Any, offset: int) -> Any:
    return (boxes[..., 2] - boxes[..., 0] + offset) * (boxes[..., 3] - boxes[..., 1] + offset)


def pairwise_intersection_union(xp: Any, a: Any, b: Any, offset: int) -> tuple[Any, Any]:
    """Intersection and union areas of xyxy ``a (..., N, 4)`` against ``b (..., M, 4)``."""
    a_ = a[..., :, None, :]
    b_ = b[..., None, :, :]
    w = xp.minimum(a_[..., 2], b_[..., 2]) - xp.maximum(a_[..., 0], b_[..., 0]) + offset
    h = xp.minimum(a_[..., 3], b_[..., 3]) - xp.maximum(a_[..., 1], b_[..., 1]) + offset
    inter = xp.clip(w, min=0) * xp.clip(h, min=0)
    union = areas_xyxy(a, offset)[..., :, None] + areas_xyxy(b, offset)[..., None, :] - inter
    return inter, union


def safe_ratio(xp: Any, num: Any, den: Any) -> Any:
    """``num / den`` with 0 where ``den`` is 0 (``num`` is then 0 too: an empty union)."""
    return num / xp.where(den > 0, den, xp.ones_like(den))


def pairwise_iou_xyxy(xp: Any, a: Any, b: Any, offset: int) -> Any:
    inter, union = pairwise_intersection_union(xp, a, b, offset)
    return safe_ratio(xp, inter, union)


# --------------------------------------------------------------------------- public


def box_convert(boxes: Any, /, *, in_fmt: str, out_fmt: str) -> Any:
    """Convert boxes between ``"xyxy"``, ``"xywh"`` and ``"cxcywh"``.

    Parameters
    ----------
    boxes : array, shape ``(..., 4)``
        Real floating or integer (promoted to the default float dtype).
    in_fmt, out_fmt : {"xyxy", "xywh", "cxcywh"}

    Returns
    -------
    array of the same shape. Conversion is continuous (x2 = x1 + w); no offset applies.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import xpops
    >>> b = xp.asarray([[10.0, 20.0, 30.0, 60.0]])
    >>> xpops.box_convert(b, in_fmt="xyxy", out_fmt="cxcywh")
    Array([[20., 40., 20., 40.]], dtype=array_api_strict.float64)
    """
    xp = array_namespace(boxes)
    check_choice(in_fmt, "in_fmt", BOX_FORMATS)
    check_choice(out_fmt, "out_fmt", BOX_FORMATS)
    boxes = float_boxes(xp, boxes, "boxes")
    if in_fmt == out_fmt:
        return boxes
    return from_xyxy(xp, to_xyxy(xp, boxes, in_fmt), out_fmt)


def box_area(boxes: Any, /, *, fmt: str = "xyxy", offset: int = 0) -> Any:
    """Area of each box: ``(x2 - x1 + offset) * (y2 - y1 + offset)``, shape ``boxes.shape[:-1]``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import xpops
    >>> b = xp.asarray([[0.0, 0.0, 9.0, 4.0]])
    >>> xpops.box_area(b)
    Array([36.], dtype=array_api_strict.float64)
    >>> xpops.box_area(b, offset=1)
    Array([50.], dtype=array_api_strict.float64)
    """
    xp = array_namespace(boxes)
    offset = check_offset(offset)
    return areas_xyxy(xyxy_boxes(xp, boxes, fmt=fmt, name="boxes"), offset)


def box_iou(boxes1: Any, boxes2: Any, /, *, fmt: str = "xyxy", offset: int = 0) -> Any:
    """Pairwise intersection over union, ``(..., N, 4) x (..., M, 4) -> (..., N, M)``.

    Leading dimensions broadcast. ``IoU = inter / (area1 + area2 - inter)``, with every
    width and height taken as ``x2 - x1 + offset``; a pair whose union is 0 has IoU 0.
    Equal to ``torchvision.ops.box_iou`` for valid boxes with ``offset=0``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import xpops
    >>> a = xp.asarray([[0.0, 0.0, 2.0, 2.0]])
    >>> b = xp.asarray([[1.0, 1.0, 3.0, 3.0], [5.0, 5.0, 5.0, 5.0]])
    >>> xpops.box_iou(a, b)
    Array([[0.14285714, 0.        ]], dtype=array_api_strict.float64)
    """
    xp = array_namespace(boxes1, boxes2)
    offset = check_offset(offset)
    a = xyxy_boxes(xp, boxes1, fmt=fmt, name="boxes1")
    b = xyxy_boxes(xp, boxes2, fmt=fmt, name="boxes2")
    if a.ndim < 2 or b.ndim < 2:
        which, arr = ("boxes1", boxes1) if a.ndim < 2 else ("boxes2", boxes2)
        msg = f"`{which}` must have shape (..., N, 4), got {which}.shape={tuple(arr.shape)}"
        raise ValueError(msg)
    check_batch_broadcast(a, b)
    a, b = promote_pair(xp, a, b)
    return pairwise_iou_xyxy(xp, a, b, offset)
