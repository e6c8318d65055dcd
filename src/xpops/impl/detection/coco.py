"""COCO detection evaluation with pycocotools' ``COCOeval`` semantics, on flat arrays.

One row per detection and per ground-truth object, with integer image ids and category
labels, so a whole data set is evaluated at once on any backend. The pipeline: inputs
checked (:mod:`.inputs`, the IoU kind's ``prepare``), then, where the work runs well
(:func:`~xpops._lib.elsewhere.compute_elsewhere`), rows grouped and ranked
(:mod:`.grouping`), matched (:mod:`.matching`), accumulated (:mod:`.accumulate`) and
summarised (:mod:`.summary`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..._lib.elsewhere import NOT_MOVED, compute_elsewhere, host_first
from ..._lib.inputs import array_op
from ..._lib.namespace import array_namespace, device
from ..._lib.validation import SORTS_AND_MATCHES, reject_lazy
from .accumulate import accumulate, count_positives
from .grouping import group_truth, index_groups, rank_detections
from .inputs import (
    DEFAULT_MAX_DETECTIONS,
    CocoParams,
    check_flags,
    check_ids,
    check_no_nan,
    check_rows,
    coco_params,
)
from .iou import Geometry, IouKind, iou_kind
from .matching import match
from .summary import coco_summary, per_class_ap, summary_stats

__all__ = ["CocoEvaluation", "coco_evaluate", "coco_summary"]


@dataclass(frozen=True)
class CocoEvaluation:
    """Result of :func:`coco_evaluate` (arrays of the input namespace).

    ``precision`` ``(T, R, K, A, M)``, ``recall`` ``(T, K, A, M)`` and ``scores``
    ``(T, R, K, A, M)`` are pycocotools' ``eval`` arrays, -1 where a category has no
    non-ignored ground truth; ``stats`` ``(12,)`` is ``COCOeval.summarize()``;
    ``per_class_ap`` ``(K,)`` is AP over every IoU threshold, area range ``"all"`` and
    the largest ``max_detections`` (-1 where undefined); ``category_ids`` ``(K,)`` are
    the label values indexing K (``[-1]`` when ``use_categories=False``). The remaining
    fields record the parameters, in the order of the T, R, A and M axes.
    """

    stats: Any
    precision: Any
    recall: Any
    scores: Any
    per_class_ap: Any
    category_ids: Any
    iou_thresholds: tuple[float, ...]
    recall_thresholds: tuple[float, ...]
    area_ranges: tuple[tuple[str, float, float], ...]
    max_detections: tuple[int, ...]

    def summary(self) -> str:
        """pycocotools' 12-line summary text."""
        return coco_summary(self)


def _check_rows(
    xp: Any, n_det: int, n_gt: int, det_scores: Any, labels: tuple[Any, ...],
    gt_iscrowd: Any, gt_area: Any, image_ids: Any, category_ids: Any,
) -> None:
    """Shapes, dtypes and values of every array but the geometry."""
    if not xp.isdtype(det_scores.dtype, ("real floating", "integral")):
        msg = f"`det_scores` must have a real floating dtype, got {det_scores.dtype}"
        raise TypeError(msg)
    check_rows(det_scores, "det_scores", n_det, "det_boxes")
    det_labels, det_image_ids, gt_labels, gt_image_ids = labels
    check_ids(xp, det_labels, "det_labels", n_det, "det_boxes")
    check_ids(xp, det_image_ids, "det_image_ids", n_det, "det_boxes")
    check_ids(xp, gt_labels, "gt_labels", n_gt, "gt_boxes")
    check_ids(xp, gt_image_ids, "gt_image_ids", n_gt, "gt_boxes")
    for x, name in ((image_ids, "image_ids"), (category_ids, "category_ids")):
        if x is not None:
            check_ids(xp, x, name)
    if gt_iscrowd is not None:
        check_flags(xp, gt_iscrowd, "gt_iscrowd", n_gt, "gt_boxes")
    if gt_area is not None:
        if not xp.isdtype(gt_area.dtype, ("real floating", "integral")):
            msg = f"`gt_area` must have a real dtype, got {gt_area.dtype}"
            raise TypeError(msg)
        check_rows(gt_area, "gt_area", n_gt, "gt_boxes")
    if xp.isdtype(det_scores.dtype, "real floating"):
        check_no_nan(xp, det_scores, "det_scores")


def _evaluate(
    xp: Any, det: Geometry, gt: Geometry, det_scores: Any, labels: tuple[Any, ...],
    gt_iscrowd: Any, gt_area: Any, image_ids: Any, category_ids: Any, *, kind: IouKind,
    params: CocoParams,
) -> CocoEvaluation:
    """The evaluation of checked inputs, the geometry prepared by ``kind``."""
    dtype = det.area.dtype
    dev = device(det.area)
    scores = xp.astype(det_scores, dtype, copy=False)
    crowd = (xp.zeros(gt.area.shape, dtype=xp.bool, device=dev) if gt_iscrowd is None
             else xp.astype(gt_iscrowd, xp.bool))
    range_area = gt.area if gt_area is None else xp.astype(gt_area, dtype, copy=False)
    ranges, max_dets = params.area_ranges, params.max_detections
    det_labels, det_image_ids, gt_labels, gt_image_ids = labels
    groups = index_groups(xp, det_labels, det_image_ids, gt_labels, gt_image_ids, image_ids,
                          category_ids, params.use_categories)
    dets = rank_detections(xp, groups, det, scores, max_dets[-1])
    truth = group_truth(xp, groups, gt, crowd, range_area, ranges)
    matched, by_ignored = match(xp, kind.iou, dets, truth, params.iou_thresholds)
    # unmatched detections outside an area range are ignored there
    d_area = dets.geometry.area
    outside = xp.stack([(d_area < lo) | (d_area > hi) for _, lo, hi in ranges])  # (A, D)
    ignored = by_ignored | (~matched & outside[:, None, :])
    pooled = not params.use_categories
    npig = count_positives(xp, xp.zeros_like(truth.category) if pooled else truth.category,
                           truth.ignore, 1 if pooled else groups.num_categories)
    precision, recall, score_table = accumulate(
        xp, xp.zeros_like(dets.category) if pooled else dets.category, dets.score, dets.image,
        dets.rank, matched, ignored, npig, params.recall_thresholds, max_dets,
    )
    cats = groups.categories
    return CocoEvaluation(
        stats=summary_stats(xp, precision, recall, params.iou_thresholds, ranges, max_dets),
        precision=precision, recall=recall, scores=score_table,
        per_class_ap=per_class_ap(xp, precision, ranges),
        category_ids=xp.asarray([-1], dtype=cats.dtype, device=dev) if pooled else cats,
        iou_thresholds=params.iou_thresholds, recall_thresholds=params.recall_thresholds,
        area_ranges=ranges, max_detections=max_dets,
    )


@array_op(
    "det_boxes", "det_scores", "det_labels", "det_image_ids",
    "gt_boxes", "gt_labels", "gt_image_ids", "gt_iscrowd", "gt_area", "image_ids", "category_ids",
    labels=("det_labels", "det_image_ids", "gt_labels", "gt_image_ids", "gt_iscrowd",
            "image_ids", "category_ids"),
    binary=("gt_iscrowd",),
)
def coco_evaluate(
    det_boxes: Any,
    det_scores: Any,
    det_labels: Any,
    det_image_ids: Any,
    gt_boxes: Any,
    gt_labels: Any,
    gt_image_ids: Any,
    *,
    gt_iscrowd: Any = None,
    gt_area: Any = None,
    box_format: str = "xyxy",
    image_ids: Any = None,
    category_ids: Any = None,
    iou_thresholds: Any = None,
    recall_thresholds: Any = None,
    max_detections: Sequence[int] = DEFAULT_MAX_DETECTIONS,
    area_ranges: Mapping[str, tuple[float, float]] | None = None,
    use_categories: bool = True,
) -> CocoEvaluation:
    """COCO bbox evaluation, equal to pycocotools ``COCOeval(..., "bbox")``.

    Per image and category (per image when ``use_categories=False``), detections are
    ranked by score with a stable sort (ties keep input order) and the first
    ``max(max_detections)`` kept. For each IoU threshold and area range, each detection
    in rank order takes, among the ground truth of its group not yet taken (crowd
    regions stay free), the one with the highest IoU at or above the threshold,
    preferring ground truth that is not ignored. Ground truth is ignored when crowd or
    when its area lies outside the range; so is a detection matched to ignored ground
    truth, or unmatched with its own area outside the range. Precision is then
    interpolated at the recall thresholds exactly as pycocotools' ``accumulate``, and
    ``stats`` are its ``summarize()``. Data-dependent shapes: eager only, not jit-able.

    Parameters
    ----------
    det_boxes : array
        ``(D, 4)`` detection boxes in ``box_format``, real floating or integer.
    det_scores : array
        ``(D,)`` real floating (or integer) scores, without NaN.
    det_labels, det_image_ids : array
        ``(D,)`` integer category and image ids of the detections (any values).
    gt_boxes : array
        ``(G, 4)`` ground-truth boxes in ``box_format``.
    gt_labels, gt_image_ids : array
        ``(G,)`` integer category and image ids of the ground truth.
    gt_iscrowd : array or None, default None
        ``(G,)`` booleans or 0/1 integers. Crowd regions are always ignored, can be
        matched by any number of detections, and have IoU = intersection / detection
        area.
    gt_area : array or None, default None
        ``(G,)`` the area compared with the area ranges (COCO's segmentation area);
        default the box area ``w * h``.
    box_format : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Converted continuously (x2 = x + w). Areas are ``w * h`` as pycocotools takes
        them (``(x2 - x1) * (y2 - y1)`` for xyxy).
    image_ids : array or None, default None
        Integer ids of the images evaluated (sorted and made unique, as pycocotools
        does); rows of other images are left out. Default: every image id seen.
    category_ids : array or None, default None
        Integer ids of the categories evaluated (pycocotools' ``catIds``); default every
        label seen. K follows them in ascending order.
    iou_thresholds : sequence of float or None, default None
        In [0, 1]; None means pycocotools' ``.50:.05:.95``.
    recall_thresholds : sequence of float or None, default None
        Ascending, in [0, 1]; None means pycocotools' 101 points ``0:.01:1``.
    max_detections : sequence of int, default (1, 10, 100)
        Positive; detections kept per image and category, sorted ascending.
    area_ranges : mapping of str to (float, float) or None, default None
        Name -> (low, high), both ends inclusive; None means all, small, medium and
        large. ``stats`` reads the ranges by those names (-1 where absent).
    use_categories : bool, default True
        False pools the categories of an image (pycocotools ``useCats=0``); K is 1.

    Returns
    -------
    CocoEvaluation
        ``stats`` ``(12,)``, ``precision`` ``(T, R, K, A, M)``, ``recall``
        ``(T, K, A, M)``, ``scores``, ``per_class_ap`` ``(K,)`` and ``category_ids``
        ``(K,)`` (see the class), arrays of the input library on the device of
        ``det_boxes``; floating ones in the common floating dtype of the boxes, scores
        and ``gt_area``.

    Raises
    ------
    TypeError
        When an array has the wrong dtype (float ids, boolean boxes), an option has the
        wrong type, or ``use_categories`` is not a bool.
    ValueError
        When shapes do not match, a box is inverted, a score is NaN, ``gt_iscrowd``
        holds values other than 0 and 1, or an option is out of range (thresholds
        outside [0, 1], unsorted recall thresholds, ``max_detections`` < 1, an area
        range with low > high, an unknown ``box_format``).
    NotImplementedError
        For Dask arrays: the evaluation sorts and matches eagerly.

    Examples
    --------
    Two images with one object each: the first detection covers its object exactly,
    the second covers half of its object (IoU 0.5), so it matches at the threshold 0.5
    only. Above it recall stops at 1/2, reached at 51 of the 101 recall thresholds.

    >>> import array_api_strict as xp
    >>> from xpops import coco_evaluate
    >>> r = coco_evaluate(
    ...     xp.asarray([[0.0, 0, 10, 10], [0, 0, 10, 5]]), xp.asarray([0.9, 0.8]),
    ...     xp.asarray([1, 1]), xp.asarray([1, 2]),
    ...     xp.asarray([[0.0, 0, 10, 10], [0, 0, 10, 10]]), xp.asarray([1, 1]),
    ...     xp.asarray([1, 2]))
    >>> [round(float(s), 3) for s in r.stats[:3]]  # AP (1 + 9 * 51/101) / 10, AP50, AP75
    [0.554, 1.0, 0.505]
    >>> r.precision.shape
    (10, 101, 1, 4, 3)
    """
    arrays = [det_boxes, det_scores, det_labels, det_image_ids, gt_boxes, gt_labels,
              gt_image_ids]
    optional = [a for a in (gt_iscrowd, gt_area, image_ids, category_ids) if a is not None]
    reject_lazy("coco_evaluate", SORTS_AND_MATCHES, *arrays, *optional)
    options = dict(gt_iscrowd=gt_iscrowd, gt_area=gt_area, box_format=box_format,
                   image_ids=image_ids, category_ids=category_ids,
                   iou_thresholds=iou_thresholds, recall_thresholds=recall_thresholds,
                   max_detections=max_detections, area_ranges=area_ranges,
                   use_categories=use_categories)
    moved = host_first(coco_evaluate, *arrays, **options)
    if moved is not NOT_MOVED:  # eager JAX: checked and evaluated as NumPy input
        return moved
    xp = array_namespace(*arrays, *optional)
    params = coco_params(iou_thresholds, recall_thresholds, max_detections, area_ranges,
                         use_categories)
    kind = iou_kind("bbox")
    floating = tuple(a.dtype for a in (det_scores, gt_area)
                     if a is not None and xp.isdtype(a.dtype, "real floating"))
    det, gt = kind.prepare(xp, det_boxes, gt_boxes, with_dtypes=floating,
                           box_format=box_format)
    labels = (det_labels, det_image_ids, gt_labels, gt_image_ids)
    _check_rows(xp, det_boxes.shape[0], gt_boxes.shape[0], det_scores, labels, gt_iscrowd,
                gt_area, image_ids, category_ids)

    def evaluate(xq: Any, *args: Any) -> CocoEvaluation:
        return _evaluate(xq, *args, kind=kind, params=params)

    return compute_elsewhere(xp, evaluate, det, gt, det_scores, labels, gt_iscrowd, gt_area,
                             image_ids, category_ids)
