"""Inputs of the detection evaluations, checked before any work or backend dispatch.

Array checks shared by :func:`~xpops.coco_evaluate` and :func:`~xpops.voc_evaluate`
(boxes ``(N, 4)``, one score, id or flag per row, no NaN, 0/1 flags), and COCO's options
parsed into :class:`CocoParams` with pycocotools' defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..._lib.namespace import is_concrete
from ..._lib.validation import (
    check_binary_values,
    check_count,
    check_integer,
    check_probability,
    check_real,
    concrete_true,
    size,
)
from ..average_precision import RECALL_POINTS

__all__ = [
    "DEFAULT_AREA_RANGES",
    "DEFAULT_IOU_THRESHOLDS",
    "DEFAULT_MAX_DETECTIONS",
    "DEFAULT_RECALL_THRESHOLDS",
    "CocoParams",
    "check_boxes_2d",
    "check_flags",
    "check_ids",
    "check_no_nan",
    "check_rows",
    "coco_params",
    "linspace_like_numpy",
]


def linspace_like_numpy(start: float, stop: float, num: int) -> tuple[float, ...]:
    """``np.linspace(start, stop, num)`` as Python floats, bit for bit (i * step + start,
    last value exactly ``stop``): pycocotools' thresholds must be the same doubles."""
    step = (stop - start) / (num - 1)
    return (*(i * step + start for i in range(num - 1)), stop)


# pycocotools' Params.setDetParams(): iouThrs, recThrs (the 101 points of the "coco101"
# AP rule), maxDets and the area ranges, both ends inclusive, in the order of its A axis
DEFAULT_IOU_THRESHOLDS = linspace_like_numpy(0.5, 0.95, 10)
DEFAULT_RECALL_THRESHOLDS = RECALL_POINTS["coco101"]
DEFAULT_MAX_DETECTIONS = (1, 10, 100)
DEFAULT_AREA_RANGES: Mapping[str, tuple[float, float]] = {
    "all": (0.0, 1e10),
    "small": (0.0, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, 1e10),
}

# ------------------------------------------------------------------------- arrays


def check_boxes_2d(boxes: Any, name: str) -> None:
    """``boxes`` of shape ``(N, 4)`` (their dtype and values are the box helpers' part)."""
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        msg = f"`{name}` must have shape (N, 4), got {name}.shape={tuple(boxes.shape)}"
        raise ValueError(msg)


def check_rows(x: Any, name: str, length: int | None = None, of: str = "") -> None:
    """``x`` 1-D, with one entry per row of the array ``of`` when ``length`` is given."""
    if x.ndim == 1 and (length is None or x.shape[0] == length):
        return
    want = "(N,)" if length is None else f"({length},), one entry per row of `{of}`"
    msg = f"`{name}` must have shape {want}, got {name}.shape={tuple(x.shape)}"
    raise ValueError(msg)


def check_ids(xp: Any, x: Any, name: str, length: int | None = None, of: str = "") -> None:
    """Integer ids or labels (any values), one per row of ``of``."""
    check_integer(xp, x, name)
    check_rows(x, name, length, of)


def check_flags(xp: Any, x: Any, name: str, length: int, of: str) -> None:
    """Per-row marks (crowd, difficult): booleans or integers that are all 0 or 1."""
    if not xp.isdtype(x.dtype, ("bool", "integral")):
        msg = f"`{name}` must hold booleans or 0/1 integers, got dtype {x.dtype}"
        raise TypeError(msg)
    check_rows(x, name, length, of)
    check_binary_values(xp, x, name)


def check_no_nan(xp: Any, x: Any, name: str) -> None:
    """ValueError when a concrete floating ``x`` holds NaN."""
    if is_concrete(x) and size(x) and concrete_true(xp.any(xp.isnan(x))):
        msg = f"`{name}` must not hold NaN"
        raise ValueError(msg)


# ------------------------------------------------------------------- COCO options


@dataclass(frozen=True)
class CocoParams:
    """COCO's evaluation parameters, parsed: the T, R, M and A axes in order."""

    iou_thresholds: tuple[float, ...]
    recall_thresholds: tuple[float, ...]
    max_detections: tuple[int, ...]
    area_ranges: tuple[tuple[str, float, float], ...]
    use_categories: bool


def _items(values: Any, name: str, what: str) -> tuple[Any, ...]:
    """The entries of a non-empty sequence option."""
    try:
        items = tuple(values)
    except TypeError as exc:
        msg = f"`{name}` must be a sequence of {what}, got {values!r}"
        raise TypeError(msg) from exc
    if not items:
        msg = f"`{name}` must not be empty"
        raise ValueError(msg)
    return items


def _unit_reals(values: Any, name: str, *, ascending: bool) -> tuple[float, ...]:
    items = _items(values, name, "real numbers in [0, 1]")
    out = tuple(check_probability(v, f"{name}[{i}]") for i, v in enumerate(items))
    if ascending and any(b < a for a, b in zip(out, out[1:], strict=False)):
        msg = f"`{name}` must be sorted ascending, got {out}"
        raise ValueError(msg)
    return out


def _max_detections(values: Any) -> tuple[int, ...]:
    items = _items(values, "max_detections", "ints")
    counts = (check_count(v, f"max_detections[{i}]", minimum=1) for i, v in enumerate(items))
    return tuple(sorted(counts))  # pycocotools sorts maxDets


def _area_ranges(ranges: Any) -> tuple[tuple[str, float, float], ...]:
    if not isinstance(ranges, Mapping) or not ranges:
        msg = f"`area_ranges` must be a non-empty mapping name -> (low, high), got {ranges!r}"
        raise TypeError(msg)
    out = []
    for label, bounds in ranges.items():
        name = f"area_ranges[{label!r}]"
        try:
            low, high = bounds
        except (TypeError, ValueError) as exc:
            msg = f"`{name}` must be a (low, high) pair, got {bounds!r}"
            raise TypeError(msg) from exc
        low, high = check_real(low, f"{name}[0]"), check_real(high, f"{name}[1]")
        if not low <= high:
            msg = f"`{name}` must have low <= high, got {bounds!r}"
            raise ValueError(msg)
        out.append((str(label), low, high))
    return tuple(out)


def coco_params(
    iou_thresholds: Any, recall_thresholds: Any, max_detections: Any, area_ranges: Any,
    use_categories: Any,
) -> CocoParams:
    """The options of :func:`~xpops.coco_evaluate` checked, None meaning the default."""
    if not isinstance(use_categories, bool):
        msg = f"`use_categories` must be a bool, got {use_categories!r}"
        raise TypeError(msg)
    return CocoParams(
        iou_thresholds=_unit_reals(
            DEFAULT_IOU_THRESHOLDS if iou_thresholds is None else iou_thresholds,
            "iou_thresholds", ascending=False),
        recall_thresholds=_unit_reals(
            DEFAULT_RECALL_THRESHOLDS if recall_thresholds is None else recall_thresholds,
            "recall_thresholds", ascending=True),
        max_detections=_max_detections(max_detections),
        area_ranges=_area_ranges(DEFAULT_AREA_RANGES if area_ranges is None else area_ranges),
        use_categories=use_categories,
    )
