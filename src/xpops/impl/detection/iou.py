"""The kinds of overlap COCO evaluation matches with, and their registry.

A kind turns its inputs into a :class:`Geometry` per side (detections, ground truth)
and says how similar a detection is to each ground truth of its group. The matcher,
the accumulation and the summary never see more than that: arrays with one row per
object, their areas, and IoU matrices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..._lib.validation import check_choice

__all__ = ["Geometry", "IouKind", "iou_kind", "register_iou_kind"]


@dataclass(frozen=True)
class Geometry:
    """One side of the evaluation as the matcher sees it.

    ``rows``: arrays whose first axis has one entry per object, holding whatever the
    kind's ``iou`` reads (boxes and their areas; masks; keypoints and their scale).
    ``area``: ``(N,)`` floating, the area compared with the area ranges.
    """

    rows: tuple[Any, ...]
    area: Any

    def take(self, xp: Any, index: Any) -> Geometry:
        """The objects at ``index`` (1-D), in that order."""
        return replace(self, rows=tuple(xp.take(r, index, axis=0) for r in self.rows),
                       area=xp.take(self.area, index))


@dataclass(frozen=True)
class IouKind:
    """How one kind of geometry is checked, prepared and compared.

    ``prepare(xp, det, gt, *, with_dtypes, **options) -> (Geometry, Geometry)``
        Validates the kind's inputs (shapes, dtypes, values) and returns both sides with
        every floating array in one dtype: the common one of the kind's own data and
        ``with_dtypes`` (the scores' and areas' floating dtypes). Runs before any
        backend dispatch, so its errors come from the caller's arrays.
    ``iou(xp, det_rows, gt_rows, crowd) -> (n, w)``
        ``det_rows`` hold ``n`` detections (leading shape ``(n,)``), ``gt_rows`` the
        ground truth of each one's group padded to ``w`` (leading shape ``(n, w)``, the
        padding rows zero: their values are discarded, so they may be anything but an
        error); ``crowd`` ``(n, w)`` marks crowd regions, for kinds whose overlap treats
        them apart (pycocotools: intersection over the detection's area).
    """

    name: str
    prepare: Callable[..., tuple[Geometry, Geometry]]
    iou: Callable[[Any, tuple[Any, ...], tuple[Any, ...], Any], Any]


_KINDS: dict[str, IouKind] = {}


def register_iou_kind(kind: IouKind) -> IouKind:
    """Make ``kind`` available under its name; returns it."""
    if kind.name in _KINDS:
        msg = f"an IoU kind named {kind.name!r} is already registered"
        raise ValueError(msg)
    _KINDS[kind.name] = kind
    return kind


def iou_kind(name: str) -> IouKind:
    """The registered kind called ``name`` (ValueError naming ``iou_type`` otherwise)."""
    check_choice(name, "iou_type", tuple(_KINDS))
    return _KINDS[name]
