"""Detections and ground truth grouped as pycocotools evaluates them.

A group is an (image, category) pair, or an image when categories are pooled. Ids of
any values become indices into the sorted images and categories evaluated; rows of
other images or categories are left out. Detections are ranked by score within their
group (stable: ties keep input order) and the first ``max(max_detections)`` kept;
ground truth keeps input order within its group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..._lib.namespace import default_int, device
from ..._lib.sorting import lookup, ranks_in_runs, sorted_unique, stable_order
from .iou import Geometry

__all__ = ["Groups", "RankedDetections", "GroupedTruth", "index_groups", "rank_detections",
           "group_truth"]


def _as(xp: Any, x: Any, dtype: Any) -> Any:
    return x if x.dtype == dtype else xp.astype(x, dtype)


def _index(xp: Any, det_ids: Any, gt_ids: Any, given: Any) -> tuple[Any, ...]:
    """The sorted ids evaluated (``given``, else every id seen) and, per side, each
    row's position among them and whether it is there."""
    id_dtype = xp.result_type(det_ids.dtype, gt_ids.dtype,
                              *([] if given is None else [given.dtype]))
    d, g = _as(xp, det_ids, id_dtype), _as(xp, gt_ids, id_dtype)
    table = sorted_unique(xp, xp.concat((g, d)) if given is None else _as(xp, given, id_dtype))
    return (table, *lookup(xp, table, d), *lookup(xp, table, g))


@dataclass(frozen=True)
class Groups:
    """Image and category indices of every row, and which rows are evaluated."""

    categories: Any  # (K,) the category ids evaluated, ascending
    det_image: Any
    det_category: Any
    det_kept: Any
    gt_image: Any
    gt_category: Any
    gt_kept: Any
    use_categories: bool

    @property
    def num_categories(self) -> int:
        return int(self.categories.shape[0])

    def key(self, xp: Any, image: Any, category: Any) -> Any:
        """Group of each row: (image, category), or the image when pooled."""
        return image * self.num_categories + category if self.use_categories else image


def index_groups(
    xp: Any, det_labels: Any, det_image_ids: Any, gt_labels: Any, gt_image_ids: Any,
    image_ids: Any, category_ids: Any, use_categories: bool,
) -> Groups:
    _, d_img, d_img_ok, g_img, g_img_ok = _index(xp, det_image_ids, gt_image_ids, image_ids)
    cats, d_k, d_k_ok, g_k, g_k_ok = _index(xp, det_labels, gt_labels, category_ids)
    it = default_int(xp, device(d_img))
    d_img, d_k, g_img, g_k = (_as(xp, a, it) for a in (d_img, d_k, g_img, g_k))
    return Groups(cats, d_img, d_k, d_img_ok & d_k_ok, g_img, g_k, g_img_ok & g_k_ok,
                  use_categories)


@dataclass(frozen=True)
class RankedDetections:
    """The detections kept, ordered by group, then by rank (score) within it."""

    group: Any
    rank: Any
    image: Any
    category: Any
    score: Any
    geometry: Geometry


def rank_detections(
    xp: Any, groups: Groups, geometry: Geometry, scores: Any, max_detections: int
) -> RankedDetections:
    keep = xp.nonzero(groups.det_kept)[0]
    image, category = xp.take(groups.det_image, keep), xp.take(groups.det_category, keep)
    group = groups.key(xp, image, category)
    neg_score = -xp.take(scores, keep)
    # pycocotools pools an image's categories in catIds order when useCats=0
    perm = (stable_order(xp, group, neg_score) if groups.use_categories
            else stable_order(xp, group, neg_score, category))
    group = xp.take(group, perm)
    rank = ranks_in_runs(xp, group)
    top = xp.nonzero(rank < max_detections)[0]
    perm, group, rank = xp.take(perm, top), xp.take(group, top), xp.take(rank, top)
    order = xp.take(keep, perm)
    return RankedDetections(
        group=group, rank=rank, image=xp.take(image, perm), category=xp.take(category, perm),
        score=xp.take(scores, order), geometry=geometry.take(xp, order),
    )


@dataclass(frozen=True)
class GroupedTruth:
    """The ground truth evaluated, ordered by group (input order within it)."""

    group: Any
    category: Any
    geometry: Geometry
    crowd: Any
    ignore: Any  # (A, G): crowd, or its area outside area range a


def group_truth(
    xp: Any, groups: Groups, geometry: Geometry, crowd: Any, range_area: Any,
    area_ranges: tuple[tuple[str, float, float], ...],
) -> GroupedTruth:
    keep = xp.nonzero(groups.gt_kept)[0]
    image, category = xp.take(groups.gt_image, keep), xp.take(groups.gt_category, keep)
    group = groups.key(xp, image, category)
    perm = (stable_order(xp, group) if groups.use_categories
            else stable_order(xp, group, category))
    source = xp.take(keep, perm)
    g_crowd = xp.take(crowd, source)
    area = xp.take(range_area, source)
    ignore = xp.stack([g_crowd | (area < lo) | (area > hi) for _, lo, hi in area_ranges])
    return GroupedTruth(group=xp.take(group, perm), category=xp.take(category, perm),
                        geometry=geometry.take(xp, source), crowd=g_crowd, ignore=ignore)
