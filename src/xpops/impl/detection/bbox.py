"""The ``"bbox"`` IoU kind: boxes, as pycocotools' ``COCOeval(..., "bbox")`` compares them.

Intersections come from continuous xyxy corners (x2 = x + w); areas are ``w * h`` as
given (``(x2 - x1) * (y2 - y1)`` for xyxy input), the numbers pycocotools multiplies, so
that IoUs equal its own to the last bit. A crowd region's IoU is the intersection over
the detection's area.
"""

from __future__ import annotations

from typing import Any

from ..._lib.validation import check_choice
from ..boxes import (
    BOX_FORMATS,
    areas_xyxy,
    float_boxes,
    pairwise_intersection_union,
    safe_ratio,
    xyxy_boxes,
)
from .inputs import check_boxes_2d
from .iou import Geometry, IouKind, register_iou_kind

__all__ = ["BBOX"]


def _side(xp: Any, boxes: Any, name: str, fmt: str) -> tuple[Any, Any]:
    """Validated ``(N, 4)`` boxes as given (floating) and as xyxy."""
    check_boxes_2d(boxes, name)
    return float_boxes(xp, boxes, name), xyxy_boxes(xp, boxes, fmt=fmt, name=name)


def _geometry(xp: Any, raw: Any, xyxy: Any, fmt: str, dtype: Any) -> Geometry:
    raw, xyxy = xp.astype(raw, dtype, copy=False), xp.astype(xyxy, dtype, copy=False)
    area = areas_xyxy(xyxy, 0) if fmt == "xyxy" else raw[:, 2] * raw[:, 3]
    return Geometry(rows=(xyxy, area), area=area)


def _prepare(
    xp: Any, det_boxes: Any, gt_boxes: Any, *, with_dtypes: tuple[Any, ...], box_format: str
) -> tuple[Geometry, Geometry]:
    check_choice(box_format, "box_format", BOX_FORMATS)
    d_raw, d_xyxy = _side(xp, det_boxes, "det_boxes", box_format)
    g_raw, g_xyxy = _side(xp, gt_boxes, "gt_boxes", box_format)
    dtype = xp.result_type(d_raw.dtype, g_raw.dtype, *with_dtypes)
    return (_geometry(xp, d_raw, d_xyxy, box_format, dtype),
            _geometry(xp, g_raw, g_xyxy, box_format, dtype))


def _iou(xp: Any, det_rows: tuple[Any, ...], gt_rows: tuple[Any, ...], crowd: Any) -> Any:
    (d_box, d_area), (g_box, g_area) = det_rows, gt_rows
    inter, _ = pairwise_intersection_union(xp, d_box[:, None, :], g_box, 0)
    inter = inter[:, 0, :]
    union = xp.where(crowd, d_area[:, None], d_area[:, None] + g_area - inter)
    return safe_ratio(xp, inter, union)


BBOX = register_iou_kind(IouKind("bbox", prepare=_prepare, iou=_iou))
