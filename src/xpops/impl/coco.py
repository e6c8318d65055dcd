"""COCO detection evaluation (bbox), with pycocotools' ``COCOeval`` semantics.

Inputs are flat arrays: one row per detection and per ground-truth box, with integer
image ids and category labels, so a whole data set is evaluated at once on any backend.

How it is vectorised (no Python loop over images or image-category pairs):

1. Detections are ordered by (group, -score, input order) with stable sorts, where a
   group is an (image, category) pair (an image when ``use_categories=False``); the
   first ``max(max_detections)`` of each group are kept and get a rank.
2. Greedy matching runs as one loop over detection rank ``r``. Groups that hold ground
   truth are laid out in slots ordered by their detection count (descending), so the
   groups still matching at rank ``r`` are a prefix of the slots and the detections of
   rank ``r`` are one contiguous block. Each step matches one detection of every such
   group against its padded ground truth, for every area range and IoU threshold at
   once: an ``(A, T, n_r, G_r)`` step.
3. Accumulation sorts all kept detections by (category, -score, image, rank) once and,
   per (area range, max detections), takes segment-wise cumulative sums per category.
   The precision envelope is only needed at the recall thresholds: the detections are
   split into blocks by how many thresholds their recall reaches, each block's maximum
   precision is a segment maximum, and a reverse cumulative maximum over the (at most
   ``R + 1``) blocks gives pycocotools' interpolated precision exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import array_api_compat
import array_api_compat.numpy

from .._lib.counting import bincount
from .._lib.inputs import array_op
from .._lib.namespace import array_namespace, default_int, device, index_device, is_concrete
from .._lib.native import natives_enabled
from .._lib.scans import reverse_cumulative_max
from .._lib.segments import segment_max
from .._lib.validation import (
    SORTS_AND_MATCHES,
    check_choice,
    check_integer,
    concrete_true,
    reject_lazy,
    size,
)
from .boxes import (
    BOX_FORMATS,
    areas_xyxy,
    float_boxes,
    pairwise_intersection_union,
    safe_ratio,
    xyxy_boxes,
)

__all__ = ["CocoEvaluation", "coco_evaluate", "coco_summary"]

DEFAULT_AREA_RANGES: Mapping[str, tuple[float, float]] = {
    "all": (0.0, 1e10),
    "small": (0.0, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, 1e10),
}
DEFAULT_MAX_DETECTIONS = (1, 10, 100)
_EPS = 2.220446049250313e-16  # np.spacing(1), pycocotools' precision denominator guard
_IOU_CAP = 1 - 1e-10  # pycocotools matches with IoU >= min(t, 1 - 1e-10)
_STEP_ELEMENTS = 1 << 22  # (area, threshold, slot, ground truth) cells per matching chunk


def linspace_like_numpy(start: float, stop: float, num: int) -> tuple[float, ...]:
    """``np.linspace(start, stop, num)`` as Python floats, bit for bit (i * step + start,
    last value exactly ``stop``): pycocotools' thresholds must be the same doubles."""
    step = (stop - start) / (num - 1)
    return (*(i * step + start for i in range(num - 1)), stop)


DEFAULT_IOU_THRESHOLDS = linspace_like_numpy(0.5, 0.95, 10)
DEFAULT_RECALL_THRESHOLDS = linspace_like_numpy(0.0, 1.0, 101)


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


_ARRAY_FIELDS = ("stats", "precision", "recall", "scores", "per_class_ap", "category_ids")


def _back(xp: Any, x: Any, dev: Any) -> Any:
    """A result array moved back to ``dev``, integers in its default integer dtype."""
    if xp.isdtype(x.dtype, "integral"):
        x = xp.astype(x, default_int(xp, dev))
    return x.to_device(dev)


def _on_host(xp: Any, dev: Any, call: dict[str, Any]) -> CocoEvaluation:
    """Evaluate JAX arrays with NumPy and move the results back to ``dev``.

    The op is eager and data-dependent (its shapes change with every matching step),
    which eager JAX answers by compiling each primitive for each new shape: seconds per
    call on small inputs. JAX arrays on the CPU are viewed by NumPy without a copy. A
    native fast path: ``natives_disabled()`` runs the array-API code on JAX itself.
    """
    import jax
    import numpy as np

    host = {k: np.asarray(v) if array_api_compat.is_jax_array(v) else v
            for k, v in call.items()}
    np_xp: Any = array_api_compat.numpy
    result = coco_evaluate(**{k: (np_xp.asarray(v)
                                  if isinstance(v, np.ndarray) else v)
                              for k, v in host.items()})
    return replace(result, **{f: jax.device_put(xp.asarray(getattr(result, f)), dev)
                              for f in _ARRAY_FIELDS})


# ------------------------------------------------------------------------ validation


def _check_vector(x: Any, name: str, length: int | None, length_of: str = "") -> None:
    if x.ndim != 1:
        msg = f"`{name}` must be 1-D, got {name}.shape={tuple(x.shape)}"
        raise ValueError(msg)
    if length is not None and x.shape[0] != length:
        msg = (
            f"`{name}` must have one entry per row of `{length_of}` ({length}), "
            f"got {name}.shape={tuple(x.shape)}"
        )
        raise ValueError(msg)


def _check_boxes_2d(boxes: Any, name: str) -> None:
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        msg = f"`{name}` must have shape (N, 4), got {name}.shape={tuple(boxes.shape)}"
        raise ValueError(msg)


def _floats(values: Any, name: str, *, unit: bool, ascending: bool) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in values)
    except TypeError as exc:
        msg = f"`{name}` must be a sequence of real numbers, got {values!r}"
        raise TypeError(msg) from exc
    if not out:
        msg = f"`{name}` must not be empty"
        raise ValueError(msg)
    if unit and not all(0.0 <= v <= 1.0 for v in out):
        msg = f"`{name}` must lie in [0, 1], got {out}"
        raise ValueError(msg)
    if ascending and any(b < a for a, b in zip(out, out[1:], strict=False)):
        msg = f"`{name}` must be sorted ascending, got {out}"
        raise ValueError(msg)
    return out


def _check_max_detections(values: Any) -> tuple[int, ...]:
    try:
        items = tuple(values)
    except TypeError as exc:
        msg = f"`max_detections` must be a sequence of positive ints, got {values!r}"
        raise TypeError(msg) from exc
    if not items or any(isinstance(v, bool) or not isinstance(v, int) for v in items):
        msg = f"`max_detections` must be a non-empty sequence of ints, got {values!r}"
        raise TypeError(msg) if items else ValueError(msg)
    if any(v < 1 for v in items):
        msg = f"`max_detections` must be positive, got {values!r}"
        raise ValueError(msg)
    return tuple(sorted(items))  # pycocotools sorts maxDets


def _check_area_ranges(ranges: Any) -> tuple[tuple[str, float, float], ...]:
    if ranges is None:
        ranges = DEFAULT_AREA_RANGES
    if not isinstance(ranges, Mapping) or not ranges:
        msg = f"`area_ranges` must be a non-empty mapping name -> (low, high), got {ranges!r}"
        raise TypeError(msg)
    out = []
    for name, bounds in ranges.items():
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError) as exc:
            msg = f"`area_ranges[{name!r}]` must be a (low, high) pair, got {bounds!r}"
            raise TypeError(msg) from exc
        if not low <= high:
            msg = f"`area_ranges[{name!r}]` must have low <= high, got {bounds!r}"
            raise ValueError(msg)
        out.append((str(name), low, high))
    return tuple(out)


def _check_not_nan(xp: Any, x: Any, name: str) -> None:
    if is_concrete(x) and size(x) and concrete_true(xp.any(xp.isnan(x))):
        msg = f"`{name}` holds NaN"
        raise ValueError(msg)


def _float_dtype(xp: Any, arrays: Sequence[Any]) -> Any:
    floats = [a.dtype for a in arrays if xp.isdtype(a.dtype, "real floating")]
    return xp.result_type(*floats)


def _validate(
    xp: Any, det_boxes: Any, det_scores: Any, det_labels: Any, det_image_ids: Any,
    gt_boxes: Any, gt_labels: Any, gt_image_ids: Any, *, gt_iscrowd: Any, gt_area: Any,
    box_format: str, image_ids: Any, category_ids: Any, iou_thresholds: Any,
    recall_thresholds: Any, max_detections: Any, area_ranges: Any, use_categories: Any,
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[int, ...], tuple[Any, ...]]:
    """Shapes, dtypes and options of :func:`coco_evaluate`; the parsed options."""
    check_choice(box_format, "box_format", BOX_FORMATS)
    if not isinstance(use_categories, bool):
        msg = f"`use_categories` must be a bool, got {use_categories!r}"
        raise TypeError(msg)
    _check_boxes_2d(det_boxes, "det_boxes")
    _check_boxes_2d(gt_boxes, "gt_boxes")
    n_det, n_gt = det_boxes.shape[0], gt_boxes.shape[0]
    if not xp.isdtype(det_scores.dtype, ("real floating", "integral")):
        msg = f"`det_scores` must have a real floating dtype, got {det_scores.dtype}"
        raise TypeError(msg)
    _check_vector(det_scores, "det_scores", n_det, "det_boxes")
    for x, name, n, of in (
        (det_labels, "det_labels", n_det, "det_boxes"),
        (det_image_ids, "det_image_ids", n_det, "det_boxes"),
        (gt_labels, "gt_labels", n_gt, "gt_boxes"),
        (gt_image_ids, "gt_image_ids", n_gt, "gt_boxes"),
    ):
        check_integer(xp, x, name)
        _check_vector(x, name, n, of)
    for x, name in ((image_ids, "image_ids"), (category_ids, "category_ids")):
        if x is not None:
            check_integer(xp, x, name)
            _check_vector(x, name, None)
    if gt_iscrowd is not None:
        if not xp.isdtype(gt_iscrowd.dtype, ("bool", "integral")):
            msg = f"`gt_iscrowd` must hold booleans or 0/1 integers, got {gt_iscrowd.dtype}"
            raise TypeError(msg)
        _check_vector(gt_iscrowd, "gt_iscrowd", n_gt, "gt_boxes")
        if gt_iscrowd.dtype != xp.bool and is_concrete(gt_iscrowd) and size(gt_iscrowd):
            if concrete_true(xp.any((gt_iscrowd != 0) & (gt_iscrowd != 1))):
                msg = "`gt_iscrowd` must hold only 0 and 1"
                raise ValueError(msg)
    if gt_area is not None:
        if not xp.isdtype(gt_area.dtype, ("real floating", "integral")):
            msg = f"`gt_area` must have a real dtype, got {gt_area.dtype}"
            raise TypeError(msg)
        _check_vector(gt_area, "gt_area", n_gt, "gt_boxes")
    ious = _floats(
        DEFAULT_IOU_THRESHOLDS if iou_thresholds is None else iou_thresholds,
        "iou_thresholds", unit=True, ascending=False,
    )
    recs = _floats(
        DEFAULT_RECALL_THRESHOLDS if recall_thresholds is None else recall_thresholds,
        "recall_thresholds", unit=True, ascending=True,
    )
    max_dets = _check_max_detections(max_detections)
    ranges = _check_area_ranges(area_ranges)
    return ious, recs, max_dets, ranges


# ------------------------------------------------------------------------- helpers


def _areas(xp: Any, raw: Any, xyxy: Any, fmt: str) -> Any:
    """pycocotools' box area: ``w * h`` of the (x, y, w, h) it is given."""
    if fmt == "xyxy":
        return areas_xyxy(xyxy, 0)
    return raw[:, 2] * raw[:, 3]


def _sorted_unique(xp: Any, x: Any) -> Any:
    return xp.sort(xp.unique_values(x))


def _lookup(xp: Any, table: Any, values: Any) -> tuple[Any, Any]:
    """Positions of ``values`` in the sorted ``table`` and whether they are present."""
    n = table.shape[0]
    pos = xp.searchsorted(table, values)
    if n == 0:
        return pos, xp.zeros(values.shape, dtype=xp.bool, device=device(values))
    clipped = xp.clip(pos, max=n - 1)
    return clipped, (pos < n) & (xp.take(table, clipped) == values)


def _stable_order(xp: Any, *keys: Any) -> Any:
    """Permutation sorting by ``keys`` lexicographically, first key most significant."""
    perm = None
    for key in reversed(keys):
        k = key if perm is None else xp.take(key, perm)
        step = xp.argsort(k, stable=True)
        perm = step if perm is None else xp.take(perm, step)
    return perm


def _ranks(xp: Any, sorted_groups: Any) -> Any:
    """Position of each element within its run of equal values (``sorted_groups`` sorted)."""
    n = sorted_groups.shape[0]
    first = xp.searchsorted(sorted_groups, sorted_groups, side="left")
    return xp.arange(n, dtype=first.dtype, device=device(first)) - first


def _as(xp: Any, x: Any, dtype: Any) -> Any:
    return x if x.dtype == dtype else xp.astype(x, dtype)


# ---------------------------------------------------------------------------- public


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

    Parameters
    ----------
    det_boxes : array ``(D, 4)`` in ``box_format``; det_scores ``(D,)``;
    det_labels, det_image_ids : integer arrays ``(D,)`` (category and image ids).
    gt_boxes : array ``(G, 4)``; gt_labels, gt_image_ids : integer arrays ``(G,)``.
    gt_iscrowd : ``(G,)`` booleans or 0/1 integers, optional
        Crowd regions: always ignored, matchable by any number of detections, with
        IoU = intersection / detection area.
    gt_area : ``(G,)``, optional
        The area used for the area ranges (COCO's segmentation area); default ``w * h``.
    box_format : {"xyxy", "xywh", "cxcywh"}
        Converted continuously (x2 = x + w). Areas are ``w * h`` as pycocotools takes
        them (``(x2 - x1) * (y2 - y1)`` for xyxy).
    image_ids : integer array, optional
        The images evaluated (sorted and unique, as pycocotools does); rows of other
        images are left out. Default: the union of ``gt_image_ids`` and ``det_image_ids``.
    category_ids : integer array, optional
        The categories evaluated (pycocotools' ``catIds``); default: the union of the
        labels. K follows them in ascending order.
    iou_thresholds : sequence of floats in [0, 1], default ``.50:.05:.95``
    recall_thresholds : ascending floats in [0, 1], default ``0:.01:1`` (101 points)
    max_detections : ints, default ``(1, 10, 100)``; kept per image and category, sorted.
    area_ranges : mapping name -> (low, high), both ends inclusive; default all, small,
        medium, large. ``stats`` reads the ranges by those names (-1 when absent).
    use_categories : bool
        False pools the categories of an image (pycocotools ``useCats=0``); K is then 1.

    Returns
    -------
    CocoEvaluation
        ``stats``, ``precision``, ``recall``, ``scores``, ``per_class_ap``,
        ``category_ids`` (see the class). Float arrays take the floating dtype of the
        boxes and scores.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> import xpops
    >>> r = xpops.coco_evaluate(
    ...     xp.asarray([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0]]),
    ...     xp.asarray([0.9, 0.8]), xp.asarray([1, 1]), xp.asarray([7, 7]),
    ...     xp.asarray([[0.0, 0.0, 10.0, 9.0]]), xp.asarray([1]), xp.asarray([7]),
    ... )
    >>> [round(float(s), 4) for s in r.stats[:3]]  # IoU 0.9: matched at 9 of 10 thresholds
    [0.9, 1.0, 1.0]
    >>> r.precision.shape
    (10, 101, 1, 4, 3)
    """
    arrays = [det_boxes, det_scores, det_labels, det_image_ids, gt_boxes, gt_labels,
              gt_image_ids]
    optional = [a for a in (gt_iscrowd, gt_area, image_ids, category_ids) if a is not None]
    reject_lazy("coco_evaluate", SORTS_AND_MATCHES, *arrays, *optional)
    xp = array_namespace(*arrays, *optional)
    dev = device(det_boxes)
    if array_api_compat.is_jax_namespace(xp) and natives_enabled():
        return _on_host(xp, dev, dict(
            det_boxes=det_boxes, det_scores=det_scores, det_labels=det_labels,
            det_image_ids=det_image_ids, gt_boxes=gt_boxes, gt_labels=gt_labels,
            gt_image_ids=gt_image_ids, gt_iscrowd=gt_iscrowd, gt_area=gt_area,
            box_format=box_format, image_ids=image_ids, category_ids=category_ids,
            iou_thresholds=iou_thresholds, recall_thresholds=recall_thresholds,
            max_detections=max_detections, area_ranges=area_ranges,
            use_categories=use_categories,
        ))
    elsewhere = index_device(xp, det_boxes)
    if elsewhere is not None:  # sort and count where int64 indices are allowed
        moved = coco_evaluate(
            *(a.to_device(elsewhere) for a in arrays),
            **{name: None if v is None else v.to_device(elsewhere) for name, v in (
                ("gt_iscrowd", gt_iscrowd), ("gt_area", gt_area), ("image_ids", image_ids),
                ("category_ids", category_ids))},
            box_format=box_format, iou_thresholds=iou_thresholds,
            recall_thresholds=recall_thresholds, max_detections=max_detections,
            area_ranges=area_ranges, use_categories=use_categories,
        )
        return replace(moved, **{f: _back(xp, getattr(moved, f), dev) for f in _ARRAY_FIELDS})
    ious, recs, max_dets, ranges = _validate(
        xp, det_boxes, det_scores, det_labels, det_image_ids, gt_boxes, gt_labels,
        gt_image_ids, gt_iscrowd=gt_iscrowd, gt_area=gt_area, box_format=box_format,
        image_ids=image_ids, category_ids=category_ids, iou_thresholds=iou_thresholds,
        recall_thresholds=recall_thresholds, max_detections=max_detections,
        area_ranges=area_ranges, use_categories=use_categories,
    )
    n_gt = gt_boxes.shape[0]

    d_raw = float_boxes(xp, det_boxes, "det_boxes")
    g_raw = float_boxes(xp, gt_boxes, "gt_boxes")
    d_xyxy = xyxy_boxes(xp, det_boxes, fmt=box_format, name="det_boxes")
    g_xyxy = xyxy_boxes(xp, gt_boxes, fmt=box_format, name="gt_boxes")
    _check_not_nan(xp, det_scores, "det_scores")
    ft = _float_dtype(xp, [d_raw, g_raw, det_scores] + ([] if gt_area is None else [gt_area]))
    d_raw, g_raw, d_xyxy, g_xyxy = (_as(xp, b, ft) for b in (d_raw, g_raw, d_xyxy, g_xyxy))
    scores = _as(xp, det_scores, ft)
    d_area = _areas(xp, d_raw, d_xyxy, box_format)
    g_box_area = _areas(xp, g_raw, g_xyxy, box_format)
    g_range_area = g_box_area if gt_area is None else _as(xp, gt_area, ft)
    crowd = (
        xp.zeros((n_gt,), dtype=xp.bool, device=dev) if gt_iscrowd is None
        else gt_iscrowd != 0 if gt_iscrowd.dtype != xp.bool else gt_iscrowd
    )

    # ---- images and categories -> indices; rows outside them are left out
    id_dtype = xp.result_type(det_image_ids.dtype, gt_image_ids.dtype,
                              *([] if image_ids is None else [image_ids.dtype]))
    d_img, g_img = _as(xp, det_image_ids, id_dtype), _as(xp, gt_image_ids, id_dtype)
    images = _sorted_unique(xp, xp.concat((g_img, d_img)) if image_ids is None
                            else _as(xp, image_ids, id_dtype))
    lab_dtype = xp.result_type(det_labels.dtype, gt_labels.dtype,
                               *([] if category_ids is None else [category_ids.dtype]))
    d_lab, g_lab = _as(xp, det_labels, lab_dtype), _as(xp, gt_labels, lab_dtype)
    cats = _sorted_unique(xp, xp.concat((g_lab, d_lab)) if category_ids is None
                          else _as(xp, category_ids, lab_dtype))
    num_k = cats.shape[0]
    d_img_i, d_img_ok = _lookup(xp, images, d_img)
    d_k, d_k_ok = _lookup(xp, cats, d_lab)
    g_img_i, g_img_ok = _lookup(xp, images, g_img)
    g_k, g_k_ok = _lookup(xp, cats, g_lab)
    it = default_int(xp, dev)
    d_img_i, d_k, g_img_i, g_k = (_as(xp, a, it) for a in (d_img_i, d_k, g_img_i, g_k))

    # ---- detections: order within each group, keep the top max(max_dets)
    d_keep = xp.nonzero(d_img_ok & d_k_ok)[0]
    d_img_i, d_k = xp.take(d_img_i, d_keep), xp.take(d_k, d_keep)
    d_grp = d_img_i * num_k + d_k if use_categories else d_img_i
    neg_score = -xp.take(scores, d_keep)
    # pycocotools pools an image's categories in catIds order when useCats=0
    perm = (_stable_order(xp, d_grp, neg_score) if use_categories
            else _stable_order(xp, d_grp, neg_score, d_k))
    d_grp = xp.take(d_grp, perm)
    rank = _ranks(xp, d_grp)
    top = xp.nonzero(rank < max_dets[-1])[0]
    perm, d_grp, rank = xp.take(perm, top), xp.take(d_grp, top), xp.take(rank, top)
    d_img_i, d_k = xp.take(d_img_i, perm), xp.take(d_k, perm)
    order = xp.take(d_keep, perm)
    d_score = xp.take(scores, order)
    d_box = xp.take(d_xyxy, order, axis=0)
    d_ar = xp.take(d_area, order)

    # ---- ground truth, grouped the same way (input order within a group)
    g_keep = xp.nonzero(g_img_ok & g_k_ok)[0]
    g_img_i, g_k = xp.take(g_img_i, g_keep), xp.take(g_k, g_keep)
    g_grp0 = g_img_i * num_k + g_k if use_categories else g_img_i
    g_perm = _stable_order(xp, g_grp0) if use_categories else _stable_order(xp, g_grp0, g_k)
    g_src = xp.take(g_keep, g_perm)
    g_grp, g_k = xp.take(g_grp0, g_perm), xp.take(g_k, g_perm)
    g_crowd = xp.take(crowd, g_src)
    g_rng = xp.take(g_range_area, g_src)
    g_ignore = xp.stack([g_crowd | (g_rng < lo) | (g_rng > hi) for _, lo, hi in ranges])

    num_acc = num_k if use_categories else 1
    acc_k = g_k if use_categories else xp.zeros_like(g_k)
    npig = xp.stack([  # (A, K): non-ignored ground truth per category
        bincount(xp, xp.take(acc_k, xp.nonzero(~g_ignore[a, :])[0]), length=num_acc)
        for a in range(len(ranges))
    ])

    matched, by_ignored = _match(
        xp, d_box, d_ar, d_grp, rank, g_grp, xp.take(g_xyxy, g_src, axis=0),
        xp.take(g_box_area, g_src), g_crowd, g_ignore, ious, ft,
    )
    d_out = xp.stack([(d_ar < lo) | (d_ar > hi) for _, lo, hi in ranges])  # (A, D)
    ignored = by_ignored | (~matched & d_out[:, None, :])

    acc_det_k = d_k if use_categories else xp.zeros_like(d_k)
    precision, recall, score_table = _accumulate(
        xp, acc_det_k, d_score, d_img_i, rank, matched, ignored, npig, num_acc,
        recs, max_dets, ft,
    )
    stats = _stats(xp, precision, recall, ious, ranges, max_dets)
    per_class = _per_class_ap(xp, precision, ranges)
    cat_out = cats if use_categories else xp.asarray([-1], dtype=lab_dtype, device=dev)
    return CocoEvaluation(
        stats=stats, precision=precision, recall=recall, scores=score_table,
        per_class_ap=per_class, category_ids=cat_out, iou_thresholds=ious,
        recall_thresholds=recs, area_ranges=ranges, max_detections=max_dets,
    )


# ------------------------------------------------------------------------- matching


def _match(
    xp: Any, d_box: Any, d_area: Any, d_grp: Any, rank: Any, g_grp: Any, g_box: Any,
    g_area: Any, g_crowd: Any, g_ignore: Any, ious: tuple[float, ...], ft: Any,
) -> tuple[Any, Any]:
    """Greedy matching of every kept detection, for every area range and threshold.

    Returns ``matched`` and ``by_ignored`` ``(A, T, D)`` booleans in the order of the
    detections: matched at all, and matched to an ignored ground truth.
    """
    dev = device(d_box)
    n_ranges, n_thr, n_det = g_ignore.shape[0], len(ious), d_box.shape[0]
    false = xp.zeros((n_ranges, n_thr, n_det), dtype=xp.bool, device=dev)
    # groups holding ground truth, and their runs in the sorted ground truth
    gt_groups = xp.unique_values(g_grp) if g_grp.shape[0] else g_grp
    gt_groups = xp.sort(gt_groups)
    g_start = xp.searchsorted(g_grp, gt_groups, side="left")
    g_count = xp.searchsorted(g_grp, gt_groups, side="right") - g_start
    _, has_gt = _lookup(xp, gt_groups, d_grp)
    sel = xp.nonzero(has_gt)[0]
    if sel.shape[0] == 0:
        return false, false
    # slots: the groups matched, ordered by detection count, largest first
    m_grp = xp.take(d_grp, sel)
    m_rank = xp.take(rank, sel)
    groups = xp.unique_values(m_grp)
    groups = xp.sort(groups)
    det_count = xp.searchsorted(m_grp, groups, side="right") - xp.searchsorted(
        m_grp, groups, side="left")
    slot_order = xp.argsort(-det_count, stable=True)
    num_slots = groups.shape[0]
    slot_of = xp.argsort(slot_order, stable=True)  # group (sorted) -> slot
    gpos = xp.take(_lookup(xp, gt_groups, groups)[0], slot_order)
    slot_count = xp.take(det_count, slot_order)
    slot_gstart = xp.take(g_start, gpos)
    slot_gcount = xp.take(g_count, gpos)
    # detections in (rank, slot) order: rank r is the block of the first n_r slots
    m_slot = xp.take(slot_of, _lookup(xp, groups, m_grp)[0])
    block_order = xp.argsort(m_rank * num_slots + _as(xp, m_slot, m_rank.dtype), stable=True)
    m_idx = xp.take(sel, block_order)
    boxes = xp.take(d_box, m_idx, axis=0)
    areas = xp.take(d_area, m_idx)
    # padded ground truth per slot (column j < count holds the group's j-th box)
    g_max = int(xp.max(slot_gcount))
    cols = xp.arange(g_max, dtype=slot_gstart.dtype, device=dev)
    n_gt = g_grp.shape[0]
    cell = xp.where(cols[None, :] < slot_gcount[:, None], slot_gstart[:, None] + cols,
                    xp.asarray(n_gt, dtype=cols.dtype, device=dev))
    flat = xp.reshape(cell, (-1,))
    pad_box = xp.concat((g_box, xp.zeros((1, 4), dtype=ft, device=dev)))
    pad_area = xp.concat((g_area, xp.zeros((1,), dtype=ft, device=dev)))
    pad_crowd = xp.concat((g_crowd, xp.zeros((1,), dtype=xp.bool, device=dev)))
    pad_ign = xp.concat((g_ignore, xp.ones((n_ranges, 1), dtype=xp.bool, device=dev)), axis=1)
    s_box = xp.reshape(xp.take(pad_box, flat, axis=0), (num_slots, g_max, 4))
    s_area = xp.reshape(xp.take(pad_area, flat), (num_slots, g_max))
    s_crowd = xp.reshape(xp.take(pad_crowd, flat), (num_slots, g_max))
    s_real = cell < n_gt
    s_ign = xp.reshape(xp.take(pad_ign, flat, axis=1), (n_ranges, num_slots, g_max))
    thr = xp.asarray([min(t, _IOU_CAP) for t in ious], dtype=ft, device=dev)[:, None, None]

    # block sizes n_r and padded widths G_r (non-increasing in r), read once
    max_rank = int(xp.max(slot_count))
    sizes = [int(xp.sum(xp.astype(slot_count > r, xp.int32))) for r in range(max_rank)]
    widths = [int(xp.max(slot_gcount[:n])) for n in sizes]

    taken = xp.zeros((n_ranges, n_thr, sizes[0], widths[0]), dtype=xp.bool, device=dev)
    out_m: list[Any] = []
    out_i: list[Any] = []
    start = 0
    for n, w in zip(sizes, widths, strict=True):  # one step per detection rank
        taken = taken[:, :, :n, :w]
        # slots in chunks, so temporaries stay near _STEP_ELEMENTS whatever the widths
        chunk = max(1, _STEP_ELEMENTS // (n_ranges * n_thr * w))
        parts = []
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            parts.append(_match_step(
                xp, boxes[start + lo:start + hi, :], areas[start + lo:start + hi],
                s_box[lo:hi, :w, :], s_area[lo:hi, :w], s_crowd[lo:hi, :w],
                s_real[lo:hi, :w], s_ign[:, lo:hi, :w], taken[:, :, lo:hi, :], thr,
            ))
        start += n
        taken = parts[0][0] if len(parts) == 1 else xp.concat([p[0] for p in parts], axis=2)
        out_m.extend(p[1] for p in parts)
        out_i.extend(p[2] for p in parts)
    block_m = xp.concat(out_m, axis=-1)
    block_i = xp.concat(out_i, axis=-1)
    # back to detection order: those without ground truth in their group are unmatched
    rest = xp.nonzero(~has_gt)[0]
    where = xp.concat((m_idx, rest))
    back = xp.argsort(where, stable=True)
    pad = xp.zeros((n_ranges, n_thr, rest.shape[0]), dtype=xp.bool, device=dev)
    matched = xp.take(xp.concat((block_m, pad), axis=-1), back, axis=-1)
    by_ignored = xp.take(xp.concat((block_i, pad), axis=-1), back, axis=-1)
    return matched, by_ignored


# ---------------------------------------------------------------------- accumulation


def _match_step(
    xp: Any, box: Any, da: Any, g_box: Any, g_area: Any, crowd: Any, real: Any, ign: Any,
    taken: Any, thr: Any,
) -> tuple[Any, Any, Any]:
    """One detection per slot against its slot's padded ground truth, for every area
    range and threshold: (taken after the step, matched, matched to ignored)."""
    dev = device(box)
    minus = xp.asarray(-1.0, dtype=box.dtype, device=dev)
    inter, _ = pairwise_intersection_union(xp, box[:, None, :], g_box, 0)
    inter = inter[:, 0, :]
    union = xp.where(crowd, da[:, None], da[:, None] + g_area - inter)
    iou = xp.where(real, safe_ratio(xp, inter, union), minus)
    ign = ign[:, None, :, :]  # (A, 1, n, w)
    cand = (iou >= thr)[None, ...] & (~taken | crowd)  # (A, T, n, w)
    any_kept = xp.any(cand & ~ign, axis=-1)
    # prefer non-ignored ground truth; among the preferred, the best IoU, last on ties
    pref = cand & (ign != any_kept[..., None])
    best = xp.max(xp.where(pref, iou, minus), axis=-1)
    hit = pref & (iou == best[..., None])
    col = xp.arange(iou.shape[-1], dtype=default_int(xp, dev), device=dev)
    choice = xp.max(xp.where(hit, col, xp.asarray(-1, dtype=col.dtype, device=dev)), axis=-1)
    found = choice >= 0
    return taken | (col == choice[..., None]), found, found & ~any_kept


def _accumulate(
    xp: Any, det_k: Any, score: Any, img: Any, rank: Any, matched: Any, ignored: Any,
    npig: Any, num_k: int, recs: tuple[float, ...], max_dets: tuple[int, ...], ft: Any,
) -> tuple[Any, Any, Any]:
    """pycocotools' ``accumulate``: precision ``(T, R, K, A, M)``, recall, scores."""
    dev = device(score)
    n_ranges, n_thr = matched.shape[0], matched.shape[1]
    n_rec = len(recs)
    it = default_int(xp, dev)
    # one order for every (area, maxDet): category, then score (stable), image, rank
    img_rank = img * (max_dets[-1] + 1) + rank
    order = _stable_order(xp, det_k, -score, img_rank)
    det_k, score, rank = xp.take(det_k, order), xp.take(score, order), xp.take(rank, order)
    matched = xp.take(matched, order, axis=-1)
    ignored = xp.take(ignored, order, axis=-1)
    rec_thr = xp.asarray(recs, dtype=ft, device=dev)
    eps = xp.asarray(_EPS, dtype=ft, device=dev)
    minus = xp.asarray(-1.0, dtype=ft, device=dev)
    zero = xp.asarray(0.0, dtype=ft, device=dev)
    cats = xp.arange(num_k, dtype=it, device=dev)
    t_base = xp.arange(n_thr, dtype=it, device=dev)[:, None] * num_k
    n_blocks = n_thr * num_k * (n_rec + 1)
    rec_idx = xp.arange(n_rec, dtype=it, device=dev)
    prec_am, rec_am, score_am = [], [], []
    for a in range(n_ranges):
        defined = npig[a, :] > 0  # (K,)
        den = _as(xp, xp.where(defined, npig[a, :], xp.ones_like(npig[a, :])), ft)
        prec_m, rec_m, score_m = [], [], []
        for m in max_dets:
            keep = xp.nonzero(rank < m)[0]
            k = xp.take(det_k, keep)
            n = k.shape[0]
            s = xp.take(score, keep)
            mt = xp.take(matched[a, ...], keep, axis=-1)
            ig = xp.take(ignored[a, ...], keep, axis=-1)
            seg_start = xp.searchsorted(k, cats, side="left")
            seg_len = xp.searchsorted(k, cats, side="right") - seg_start
            tps = xp.cumulative_sum(xp.astype(mt & ~ig, it), axis=-1, include_initial=True)
            fps = xp.cumulative_sum(xp.astype(~mt & ~ig, it), axis=-1, include_initial=True)
            first = xp.take(seg_start, k)  # segment start of each detection
            tp_base, fp_base = xp.take(tps, first, axis=-1), xp.take(fps, first, axis=-1)
            tp = _as(xp, tps[:, 1:] - tp_base, ft)
            fp = _as(xp, fps[:, 1:] - fp_base, ft)
            rc = tp / xp.take(den, k)[None, :]
            pr = tp / (fp + tp + eps)
            # block of a detection: how many recall thresholds its recall reaches
            blk = _as(xp, xp.searchsorted(rec_thr, xp.reshape(rc, (-1,)), side="right"), it)
            ids = (xp.reshape(t_base + k[None, :], (-1,))) * (n_rec + 1) + blk
            best = segment_max(xp, xp.reshape(pr, (-1,)), ids, num_segments=n_blocks,
                               fill=0.0)
            best = xp.reshape(best, (n_thr, num_k, n_rec + 1))
            q = reverse_cumulative_max(xp, best)[..., 1:]  # (T, K, R)
            # detections of each (t, k) segment whose recall is below threshold r
            seg_first = (t_base + cats[None, :]) * (n_rec + 1)  # (T, K) first block id
            upto = xp.searchsorted(ids, xp.reshape(seg_first[..., None] + rec_idx, (-1,)),
                                   side="right")
            start = xp.searchsorted(ids, xp.reshape(seg_first, (-1,)))
            below = xp.reshape(upto, (n_thr, num_k, n_rec)) - xp.reshape(
                start, (n_thr, num_k, 1))
            reach = below < seg_len[None, :, None]
            if n:
                at = xp.clip(seg_start[None, :, None] + below, max=n - 1)
                ss = xp.where(reach, xp.reshape(xp.take(s, xp.reshape(at, (-1,))),
                                                at.shape), zero)
            else:
                ss = xp.zeros(reach.shape, dtype=ft, device=dev)
            seg_end = seg_start + seg_len
            tp_total = _as(xp, xp.take(tps, seg_end, axis=-1) - xp.take(tps, seg_start,
                                                                         axis=-1), ft)
            ok = defined[None, :, None]
            prec_m.append(xp.where(ok, q, minus))
            score_m.append(xp.where(ok, ss, minus))
            rec_m.append(xp.where(defined[None, :], tp_total / den[None, :], minus))
        prec_am.append(xp.stack(prec_m, axis=-1))  # (T, K, R, M)
        rec_am.append(xp.stack(rec_m, axis=-1))  # (T, K, M)
        score_am.append(xp.stack(score_m, axis=-1))
    precision = xp.permute_dims(xp.stack(prec_am, axis=-2), (0, 2, 1, 3, 4))
    scores = xp.permute_dims(xp.stack(score_am, axis=-2), (0, 2, 1, 3, 4))
    recall = xp.stack(rec_am, axis=-2)  # (T, K, A, M)
    return precision, recall, scores


# ----------------------------------------------------------------------- summaries

# (ap, iou threshold or None, area name, which maxDets: index or the value 100)
_STATS = (
    (True, None, "all", 100), (True, 0.5, "all", 2), (True, 0.75, "all", 2),
    (True, None, "small", 2), (True, None, "medium", 2), (True, None, "large", 2),
    (False, None, "all", 0), (False, None, "all", 1), (False, None, "all", 2),
    (False, None, "small", 2), (False, None, "medium", 2), (False, None, "large", 2),
)


def _stat_max_dets(which: int, max_dets: tuple[int, ...]) -> int | None:
    if which == 100:  # summarize()'s first line always asks for maxDets=100
        return 100
    return max_dets[which] if which < len(max_dets) else None


def _masked_mean(xp: Any, s: Any) -> Any:
    ok = s > -1
    count = xp.sum(xp.astype(ok, s.dtype))
    total = xp.sum(xp.where(ok, s, xp.zeros_like(s)))
    return xp.where(count > 0, total / xp.where(count > 0, count, xp.ones_like(count)),
                    xp.asarray(-1.0, dtype=s.dtype, device=device(s)))


def _stats(
    xp: Any, precision: Any, recall: Any, ious: tuple[float, ...],
    ranges: tuple[tuple[str, float, float], ...], max_dets: tuple[int, ...],
) -> Any:
    names = [r[0] for r in ranges]
    minus = xp.asarray(-1.0, dtype=precision.dtype, device=device(precision))
    out = []
    for ap, iou, area, which in _STATS:
        md = _stat_max_dets(which, max_dets)
        t_idx = list(range(len(ious))) if iou is None else [
            i for i, t in enumerate(ious) if t == iou]
        if area not in names or md not in max_dets or not t_idx:
            out.append(minus)
            continue
        a, m = names.index(area), max_dets.index(md)
        t_sel = xp.asarray(t_idx, dtype=default_int(xp, device(precision)),
                           device=device(precision))
        s = precision[..., a, m] if ap else recall[..., a, m]
        out.append(_masked_mean(xp, xp.take(s, t_sel, axis=0)))
    return xp.stack(out)


def _per_class_ap(xp: Any, precision: Any, ranges: tuple[tuple[str, float, float], ...]) -> Any:
    names = [r[0] for r in ranges]
    a = names.index("all") if "all" in names else 0
    s = precision[:, :, :, a, -1]  # (T, R, K)
    ok = s > -1
    count = xp.sum(xp.astype(ok, s.dtype), axis=(0, 1))
    total = xp.sum(xp.where(ok, s, xp.zeros_like(s)), axis=(0, 1))
    return xp.where(count > 0, total / xp.where(count > 0, count, xp.ones_like(count)),
                    xp.asarray(-1.0, dtype=s.dtype, device=device(s)))


def coco_summary(result: CocoEvaluation) -> str:
    """The 12 lines pycocotools' ``COCOeval.summarize()`` prints, for ``result``."""
    line = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"
    ious = result.iou_thresholds
    lines = []
    for (ap, iou, area, which), value in zip(_STATS, result.stats, strict=True):
        md = _stat_max_dets(which, result.max_detections)
        iou_str = (f"{ious[0]:0.2f}:{ious[-1]:0.2f}" if iou is None else f"{iou:0.2f}")
        lines.append(line.format(
            "Average Precision" if ap else "Average Recall", "(AP)" if ap else "(AR)",
            iou_str, area, -1 if md is None else md, float(value),
        ))
    return "\n".join(lines)

