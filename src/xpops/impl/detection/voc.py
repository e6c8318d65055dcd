"""PASCAL VOC detection AP, with the devkit's matching rules, vectorised.

The devkit walks each class's detections in score order and, for each, looks at the
ground truth of the same image and class with the highest IoU. That candidate does not
depend on which ground truth earlier detections took, so the walk reduces to sorts:

1. candidate pairs: detections and ground truth of the same (image, class), found with
   one ``searchsorted`` over ground truth sorted by that key (no D x G matrix);
2. each detection's best ground truth: pairs sorted by IoU (descending, stable: the
   first of equal IoUs in annotation order, as the devkit's ``max``), then by detection;
3. a matched ground truth goes to the best-ranked detection that has it as candidate
   (one stable sort by candidate over the score ranking); the others are false
   positives; detections whose candidate is difficult are dropped from the ranking;
4. per-class curves are laid out as a ``(K, N)`` array, N the largest class's
   detection count, and integrated by the batched AP of
   :mod:`xpops.impl.average_precision`.

No Python loop runs over detections, images or classes; memory is O(pairs + K N).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..._lib.counting import bincount
from ..._lib.elsewhere import NOT_MOVED, compute_elsewhere, host_first
from ..._lib.inputs import array_op
from ..._lib.namespace import array_namespace, default_int, device
from ..._lib.sorting import dense_codes
from ..._lib.validation import (
    SORTS_AND_MATCHES,
    check_choice,
    check_real,
    check_real_floating,
    reject_lazy,
)
from ..average_precision import envelope_average_precision
from ..boxes import BOX_FORMATS, check_offset, pairwise_iou_xyxy, xyxy_boxes
from .inputs import check_boxes_2d, check_flags, check_ids, check_no_nan, check_rows

__all__ = ["VOCResult", "voc_evaluate"]

VOC_AP_METHODS = ("all_points", "voc11")


@dataclass(frozen=True)
class VOCResult:
    """Result of :func:`voc_evaluate`.

    ``class_ids`` ``(K,)``: the label values of detections and ground truth together,
    ascending; ``per_class_ap`` ``(K,)``: AP of each, NaN for a class without
    non-difficult ground truth; ``map``: the mean of the non-NaN entries (0-d, NaN when
    there are none); ``num_positives`` ``(K,)``: non-difficult ground truth per class.
    """

    per_class_ap: Any
    map: Any
    class_ids: Any
    num_positives: Any


# ------------------------------------------------------------------------ validation


def _checked_boxes(
    xp: Any, det: tuple[Any, Any, Any, Any], gt: tuple[Any, Any, Any], difficult: Any,
    box_format: str,
) -> tuple[Any, Any]:
    """Every array checked; the boxes as xyxy, without NaN."""
    det_boxes, det_scores, det_labels, det_image_ids = det
    gt_boxes, gt_labels, gt_image_ids = gt
    check_choice(box_format, "box_format", BOX_FORMATS)
    check_boxes_2d(det_boxes, "det_boxes")
    check_boxes_2d(gt_boxes, "gt_boxes")
    d, g = det_boxes.shape[0], gt_boxes.shape[0]
    check_real_floating(xp, det_scores, "det_scores")
    check_rows(det_scores, "det_scores", d, "det_boxes")
    check_ids(xp, det_labels, "det_labels", d, "det_boxes")
    check_ids(xp, det_image_ids, "det_image_ids", d, "det_boxes")
    check_ids(xp, gt_labels, "gt_labels", g, "gt_boxes")
    check_ids(xp, gt_image_ids, "gt_image_ids", g, "gt_boxes")
    check_no_nan(xp, det_scores, "det_scores")
    if difficult is not None:
        check_flags(xp, difficult, "gt_difficult", g, "gt_boxes")
    det_xyxy = xyxy_boxes(xp, det_boxes, fmt=box_format, name="det_boxes")
    gt_xyxy = xyxy_boxes(xp, gt_boxes, fmt=box_format, name="gt_boxes")
    check_no_nan(xp, det_xyxy, "det_boxes")
    check_no_nan(xp, gt_xyxy, "gt_boxes")
    return det_xyxy, gt_xyxy


# ------------------------------------------------------------------------- compute


def _best_candidates(
    xp: Any, det_key: Any, gt_key: Any, det_xyxy: Any, gt_xyxy: Any, offset: int
) -> tuple[Any, Any]:
    """Each detection's highest-IoU ground truth of the same key and that IoU.

    IoU is -1 for a detection whose (image, class) has no ground truth; the index is
    then meaningless. Among equal IoUs the first ground truth in input order wins.
    """
    dev, index = device(det_key), det_key.dtype
    n_det = det_key.shape[0]
    gt_order = xp.argsort(gt_key, stable=True)
    sorted_keys = xp.take(gt_key, gt_order)
    lo = xp.astype(xp.searchsorted(sorted_keys, det_key, side="left"), index)
    hi = xp.astype(xp.searchsorted(sorted_keys, det_key, side="right"), index)
    count = hi - lo
    n_pairs = int(xp.sum(count))
    minus_one = xp.full((n_det,), -1.0, dtype=det_xyxy.dtype, device=dev)
    if n_pairs == 0:
        return xp.zeros((n_det,), dtype=index, device=dev), minus_one
    # pairs, grouped by detection; within a detection, ground truth in input order
    pair_det = xp.repeat(xp.arange(n_det, dtype=index, device=dev), count)
    block_start = xp.cumulative_sum(count) - count
    within = xp.arange(n_pairs, dtype=index, device=dev) - xp.take(block_start, pair_det)
    pair_gt = xp.take(gt_order, xp.take(lo, pair_det) + within)
    iou = pairwise_iou_xyxy(
        xp,
        xp.take(det_xyxy, pair_det, axis=0)[:, None, :],
        xp.take(gt_xyxy, pair_gt, axis=0)[:, None, :],
        offset,
    )[:, 0, 0]
    by_iou = xp.argsort(-iou, stable=True)
    best_first = xp.take(by_iou, xp.argsort(xp.take(pair_det, by_iou), stable=True))
    has = count > 0
    first_pair = xp.take(best_first, xp.where(has, block_start, xp.zeros_like(block_start)))
    return xp.take(pair_gt, first_pair), xp.where(has, xp.take(iou, first_pair), minus_one)


def _class_curves(
    xp: Any, cls: Any, tp: Any, num_positives: Any, k: int, dtype: Any
) -> tuple[Any, Any]:
    """Recall and precision ``(K, N)`` of each class from the ranked detections' class
    (``k``: left out) and true-positive flags; N is the largest class's count.

    Past a class's last detection the curve holds its final recall with precision 0,
    points worth nothing under every AP rule.
    """
    dev, index = device(cls), cls.dtype
    by_class = xp.argsort(cls, stable=True)  # stable: score order within a class
    cls = xp.take(cls, by_class)
    zero = xp.zeros((1,), dtype=index, device=dev)
    cum_tp = xp.concat((zero, xp.cumulative_sum(xp.astype(xp.take(tp, by_class), index))))
    classes = xp.arange(k, dtype=index, device=dev)
    start = xp.astype(xp.searchsorted(cls, classes, side="left"), index)
    stop = xp.astype(xp.searchsorted(cls, classes, side="right"), index)
    width = int(xp.max(stop - start)) if k else 0
    j = xp.arange(1, width + 1, dtype=index, device=dev)  # rank within the class
    valid = j[None, :] <= (stop - start)[:, None]
    end = xp.where(valid, start[:, None] + j[None, :], stop[:, None])
    tp_count = xp.reshape(xp.take(cum_tp, xp.reshape(end, (-1,))), (k, width))
    tp_count = xp.astype(tp_count - xp.take(cum_tp, start)[:, None], dtype)
    npos = xp.astype(num_positives, dtype)
    recall = tp_count / xp.maximum(npos, xp.ones_like(npos))[:, None]
    precision = xp.where(valid, tp_count / xp.astype(j, dtype), xp.zeros_like(tp_count))
    return recall, precision


@array_op(
    "det_boxes", "det_scores", "det_labels", "det_image_ids",
    "gt_boxes", "gt_labels", "gt_image_ids", "gt_difficult",
    labels=("det_labels", "det_image_ids", "gt_labels", "gt_image_ids", "gt_difficult"),
    binary=("gt_difficult",),
)
def voc_evaluate(
    det_boxes: Any,
    det_scores: Any,
    det_labels: Any,
    det_image_ids: Any,
    gt_boxes: Any,
    gt_labels: Any,
    gt_image_ids: Any,
    *,
    gt_difficult: Any = None,
    iou_threshold: float = 0.5,
    ap_method: str = "all_points",
    offset: int = 1,
    box_format: str = "xyxy",
) -> VOCResult:
    r"""PASCAL VOC detection average precision per class, and its mean (mAP).

    The devkit's rules: per class, detections are ranked by score with a stable sort
    (ties keep input order). Each detection looks only at the ground truth of its image
    and class with the highest IoU (the first in input order among equal IoUs); it is a
    true positive if that IoU is >= ``iou_threshold`` and that object is not taken yet,
    and then takes it; otherwise it is a false positive. A detection whose candidate is
    difficult is neither (it leaves the ranking) and difficult objects are not counted
    in recall. Precision :math:`tp/(tp + fp)` and recall :math:`tp/P` at each rank give
    the curve integrated by :func:`interpolated_average_precision`. A class without
    non-difficult ground truth has AP NaN and is left out of ``map``; a class with
    ground truth but no detections has AP 0. Data-dependent shapes (K, candidate
    pairs): eager only, not jit-able.

    Parameters
    ----------
    det_boxes : array
        ``(D, 4)`` real floating or integer boxes in ``box_format``.
    det_scores : array
        ``(D,)`` real floating scores, without NaN.
    det_labels, det_image_ids : array
        ``(D,)`` integer class and image ids of the detections (ids, not indices).
    gt_boxes : array
        ``(G, 4)`` ground-truth boxes in ``box_format``.
    gt_labels, gt_image_ids : array
        ``(G,)`` integer class and image ids of the ground truth.
    gt_difficult : array or None, default None
        ``(G,)`` booleans or 0/1 integers; None: no object is difficult.
    iou_threshold : float, default 0.5
        In (0, 1]: a detection matches when IoU >= ``iou_threshold``.
    ap_method : {"all_points", "voc11"}, default "all_points"
        ``"all_points"``: area under the precision envelope (VOC 2010+ devkit);
        ``"voc11"``: the VOC 2007 11-point rule, recalls exactly k/10.
    offset : {1, 0}, default 1
        Added to every width and height (1: the devkit's pixel-inclusive boxes).
    box_format : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Converted to xyxy continuously (x2 = x + w) before ``offset`` applies.

    Returns
    -------
    VOCResult
        ``per_class_ap`` ``(K,)`` and ``map`` (0-d) in the boxes' and scores' common
        floating dtype, ``class_ids`` ``(K,)`` ascending (the labels of detections and
        ground truth together) and ``num_positives`` ``(K,)`` in the default integer
        dtype, on the device of ``det_boxes``.

    Raises
    ------
    TypeError
        When the scores are not real floating, ids or labels not integers, boxes
        boolean, ``gt_difficult`` neither boolean nor integer, or ``iou_threshold`` not
        a real number.
    ValueError
        When shapes do not match, a box is inverted or NaN, a score is NaN,
        ``gt_difficult`` holds values other than 0 and 1, ``iou_threshold`` lies outside
        (0, 1], or ``ap_method``, ``offset`` or ``box_format`` is unknown.
    NotImplementedError
        For Dask arrays: detections are sorted and matched eagerly.

    Examples
    --------
    Two images with one object each. Ranked by score: a hit on image 0 (precision 1,
    recall 1/2), a miss on image 1 (precision 1/2), a hit on image 1 (precision 2/3,
    recall 1): AP = 1/2 * 1 + 1/2 * 2/3.

    >>> import array_api_strict as xp
    >>> from xpops import voc_evaluate
    >>> gt = xp.asarray([[0.0, 0, 10, 10], [0, 0, 10, 10]])
    >>> det = xp.asarray([[0.0, 0, 10, 10], [50, 50, 60, 60], [0, 0, 10, 10]])
    >>> r = voc_evaluate(det, xp.asarray([0.9, 0.8, 0.7]), xp.asarray([1, 1, 1]),
    ...                  xp.asarray([0, 1, 1]), gt, xp.asarray([1, 1]), xp.asarray([0, 1]))
    >>> r.per_class_ap
    Array([0.8333], dtype=array_api_strict.float64)
    >>> r.class_ids, r.num_positives
    (Array([1], dtype=array_api_strict.int64), Array([2], dtype=array_api_strict.int64))
    """
    arrays = [det_boxes, det_scores, det_labels, det_image_ids, gt_boxes, gt_labels,
              gt_image_ids]
    difficult = [] if gt_difficult is None else [gt_difficult]
    reject_lazy("voc_evaluate", SORTS_AND_MATCHES, *arrays, *difficult)
    moved = host_first(voc_evaluate, *arrays, gt_difficult=gt_difficult,
                       iou_threshold=iou_threshold, ap_method=ap_method, offset=offset,
                       box_format=box_format)
    if moved is not NOT_MOVED:  # eager JAX: checked and evaluated as NumPy input
        return moved
    xp = array_namespace(*arrays, *difficult)
    iou_threshold = check_real(iou_threshold, "iou_threshold", low=0.0, high=1.0,
                               low_open=True)
    check_choice(ap_method, "ap_method", VOC_AP_METHODS)
    offset = check_offset(offset)
    det_xyxy, gt_xyxy = _checked_boxes(
        xp, (det_boxes, det_scores, det_labels, det_image_ids),
        (gt_boxes, gt_labels, gt_image_ids), gt_difficult, box_format)

    def evaluate(xq: Any, *args: Any) -> VOCResult:
        return _evaluate(xq, *args, iou_threshold=iou_threshold, ap_method=ap_method,
                         offset=offset)

    return compute_elsewhere(xp, evaluate, det_xyxy, det_scores, det_labels, det_image_ids,
                             gt_xyxy, gt_labels, gt_image_ids, gt_difficult)


def _evaluate(
    xp: Any, det_xyxy: Any, det_scores: Any, det_labels: Any, det_image_ids: Any,
    gt_xyxy: Any, gt_labels: Any, gt_image_ids: Any, gt_difficult: Any, *,
    iou_threshold: float, ap_method: str, offset: int,
) -> VOCResult:
    dev = device(det_scores)
    index = default_int(xp, dev)
    dtype = xp.result_type(det_xyxy.dtype, gt_xyxy.dtype, det_scores.dtype)
    det_xyxy, gt_xyxy = xp.astype(det_xyxy, dtype), xp.astype(gt_xyxy, dtype)
    n_det, n_gt = det_xyxy.shape[0], gt_xyxy.shape[0]

    class_ids, gt_cls, det_cls = dense_codes(xp, gt_labels, det_labels, index)
    k = class_ids.shape[0]
    _, gt_img, det_img = dense_codes(xp, gt_image_ids, det_image_ids, index)
    difficult = (
        xp.zeros((n_gt,), dtype=xp.bool, device=dev) if gt_difficult is None
        else xp.astype(gt_difficult, xp.bool)
    )
    num_positives = bincount(
        xp, xp.where(difficult, xp.full_like(gt_cls, k), gt_cls), length=k + 1
    )[:k]

    best_gt, best_iou = _best_candidates(
        xp, det_img * k + det_cls, gt_img * k + gt_cls, det_xyxy, gt_xyxy, offset
    )
    matched = best_iou >= xp.asarray(iou_threshold, dtype=dtype, device=dev)

    # walk in score order: stable, so equal scores keep input order
    rank = xp.argsort(-det_scores, stable=True)
    matched = xp.take(matched, rank)
    candidate = xp.where(matched, xp.take(best_gt, rank), xp.full_like(rank, n_gt))
    # the best-ranked detection of each candidate takes it; later ones are duplicates
    by_candidate = xp.argsort(candidate, stable=True)
    grouped = xp.take(candidate, by_candidate)
    first = xp.concat((xp.ones((1,), dtype=xp.bool, device=dev),
                       grouped[1:] != grouped[:-1])) if n_det else matched
    first = xp.take(first, xp.argsort(by_candidate))
    padded_difficult = xp.concat((difficult, xp.zeros((1,), dtype=xp.bool, device=dev)))
    ignored = matched & xp.take(padded_difficult, candidate)
    tp = matched & first & ~ignored

    recall, precision = _class_curves(
        xp, xp.where(ignored, xp.full_like(rank, k), xp.take(det_cls, rank)), tp,
        num_positives, k, dtype,
    )
    ap = envelope_average_precision(xp, recall, precision, method=ap_method)
    has_positives = num_positives > 0
    ap = xp.where(has_positives, ap, xp.full_like(ap, math.nan))
    counted = xp.astype(has_positives, dtype)
    n_counted = xp.sum(counted)
    total = xp.sum(xp.where(has_positives, ap, xp.zeros_like(ap)))
    mean = xp.where(n_counted > 0, total / xp.maximum(n_counted, xp.ones_like(n_counted)),
                    xp.asarray(math.nan, dtype=dtype, device=dev))
    return VOCResult(ap, mean, xp.astype(class_ids, index), num_positives)
