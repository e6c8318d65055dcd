"""Spec of ``voc_evaluate``: PASCAL VOC detection AP with the devkit's rules.

Porting notes: py-faster-rcnn's ``voc_eval`` (lib/datasets/voc_eval.py, copied into
detectron2's ``pascal_voc_evaluation`` and many VOC tools) differs from the devkit
(VOCevaldet.m) and from xpops in four places, measured by the native adapter below and
tests/test_voc.py:

- a match needs IoU **>** the threshold (``ovmax > ovthresh``); the devkit and xpops
  accept IoU >= threshold, so an IoU of exactly 0.5 is a miss there;
- detections are ranked with ``np.argsort(-confidence)``, NumPy's default quicksort, which
  is not stable: equal scores come out in an unspecified order (in practice input order
  for small arrays, not for larger ones), so TP/FP order among ties differs; xpops ranks
  with a stable sort over the input order;
- its 11-point rule samples ``np.arange(0, 1.1, 0.1)`` (0.30000000000000004, ...), not
  exactly k/10 (see ``spec/average_precision.py``);
- boxes are always pixel-inclusive (+1), i.e. ``offset=1``; a class without
  non-difficult ground truth divides by zero (a warning and a meaningless AP), where
  xpops gives NaN and leaves the class out of the mean.

Elsewhere they agree: each detection looks only at its highest-IoU ground truth (first
among equal IoUs), a taken object makes a duplicate a false positive, and a detection
whose best object is difficult counts as neither (py-faster-rcnn records tp = fp = 0
there, a point that repeats its predecessor and changes no AP).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..impl.detection import voc as impl_voc
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported
from .average_precision import curve_ap_oracle, voc_ap

# --------------------------------------------------------------------------- oracle


def _xyxy(boxes: np.ndarray, fmt: str) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if fmt == "xywh":
        return np.stack((b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]), axis=1)
    if fmt == "cxcywh":
        hw, hh = b[:, 2] / 2, b[:, 3] / 2
        return np.stack((b[:, 0] - hw, b[:, 1] - hh, b[:, 0] + hw, b[:, 1] + hh), axis=1)
    return b


def voc_evaluate_oracle(
    det_boxes, det_scores, det_labels, det_image_ids, gt_boxes, gt_labels, gt_image_ids,
    *, gt_difficult=None, iou_threshold=0.5, ap_method="all_points", offset=1,
    box_format="xyxy",
):
    """The devkit's VOCevaldet.m, one class and one detection at a time."""
    det, gt = _xyxy(det_boxes, box_format), _xyxy(gt_boxes, box_format)
    scores = [float(s) for s in det_scores]
    det_labels, det_images = [int(v) for v in det_labels], [int(v) for v in det_image_ids]
    gt_labels, gt_images = [int(v) for v in gt_labels], [int(v) for v in gt_image_ids]
    difficult = [False] * len(gt_labels) if gt_difficult is None else [
        bool(v) for v in gt_difficult]
    class_ids = sorted(set(gt_labels) | set(det_labels))

    def area(b):
        return (b[2] - b[0] + offset) * (b[3] - b[1] + offset)

    aps, positives = [], []
    for c in class_ids:
        objects: dict[int, list[int]] = {}  # image -> its objects of class c, in order
        for g, (label, image) in enumerate(zip(gt_labels, gt_images, strict=True)):
            if label == c:
                objects.setdefault(image, []).append(g)
        npos = sum(not difficult[g] for g in range(len(gt_labels)) if gt_labels[g] == c)
        taken: set[int] = set()
        ranked = sorted((d for d in range(len(scores)) if det_labels[d] == c),
                        key=lambda d: -scores[d])  # sorted() is stable
        tp, fp = [], []
        for d in ranked:
            bb = det[d]
            ovmax, jmax = -math.inf, -1
            for g in objects.get(det_images[d], []):
                bg = gt[g]
                iw = min(bb[2], bg[2]) - max(bb[0], bg[0]) + offset
                ih = min(bb[3], bg[3]) - max(bb[1], bg[1]) + offset
                if iw > 0 and ih > 0:
                    ov = iw * ih / (area(bb) + area(bg) - iw * ih)
                    if ov > ovmax:  # the first of equal IoUs stays
                        ovmax, jmax = ov, g
            if ovmax >= iou_threshold:
                if difficult[jmax]:
                    continue  # neither TP nor FP
                if jmax not in taken:
                    taken.add(jmax)
                    tp.append(1)
                    fp.append(0)
                    continue
            tp.append(0)
            fp.append(1)
        positives.append(npos)
        if npos == 0:
            aps.append(math.nan)
            continue
        ctp, cfp = np.cumsum(tp), np.cumsum(fp)
        aps.append(curve_ap_oracle(ctp / npos, ctp / np.maximum(ctp + cfp, 1), ap_method))
    ap = np.array(aps, dtype=np.float64)
    counted = ap[~np.isnan(ap)]
    mean = float(counted.mean()) if counted.size else math.nan
    return ap, np.float64(mean), np.array(class_ids, dtype=np.int64), np.array(
        positives, dtype=np.int64)


# ------------------------------------------------------------------------ strategies

_FORMATS = st.sampled_from(["xyxy", "xyxy", "xywh", "cxcywh"])


def _from_xyxy(b: np.ndarray, fmt: str) -> np.ndarray:
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    if fmt == "xywh":
        return np.stack((b[:, 0], b[:, 1], w, h), axis=1)
    if fmt == "cxcywh":
        return np.stack((b[:, 0] + w / 2, b[:, 1] + h / 2, w, h), axis=1)
    return b


@st.composite
def _detections(draw: Any) -> Case:
    """Integer boxes on a small grid (exact IoUs, ties, IoU exactly at thresholds),
    detections jittered around ground truth, scores with heavy ties."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_gt = draw(st.integers(0, 12))
    n_det = draw(st.one_of(st.integers(0, 8), st.integers(17, 40)))
    images = np.array(draw(st.sampled_from([[7], [0, 3], [10, 11, 2012]])))
    labels = np.array(draw(st.sampled_from([[1], [0, 5], [2, 3, 9]])))
    xy = rng.integers(0, 20, size=(n_gt, 2))
    gt = np.concatenate((xy, xy + rng.integers(0, 10, size=(n_gt, 2))), axis=1)
    gt_labels = rng.choice(labels, n_gt)
    gt_images = rng.choice(images, n_gt)
    # most detections sit near an object (same image and label), the rest anywhere
    near = rng.random(n_det) < (0.8 if n_gt else 0.0)
    src = rng.integers(0, max(n_gt, 1), size=n_det)
    jitter = rng.integers(-1, 2, size=(n_det, 4)) * (rng.random((n_det, 1)) < 0.6)
    xy = rng.integers(0, 20, size=(n_det, 2))
    anywhere = np.concatenate((xy, xy + rng.integers(0, 10, size=(n_det, 2))), axis=1)
    det = np.where(near[:, None], gt[src] + jitter if n_gt else anywhere, anywhere)
    det = np.concatenate((np.minimum(det[:, :2], det[:, 2:]),
                          np.maximum(det[:, :2], det[:, 2:])), axis=1)
    det_labels = np.where(near, gt_labels[src] if n_gt else 0, rng.choice(labels, n_det))
    det_images = np.where(near, gt_images[src] if n_gt else 0, rng.choice(images, n_det))
    scores = (rng.integers(0, 4, n_det) / 4 if draw(st.booleans())
              else rng.random(n_det))
    fmt = draw(_FORMATS)
    kwargs: dict[str, Any] = {
        "iou_threshold": draw(st.sampled_from([0.5, 0.5, 0.25, 0.7, 1.0])),
        "ap_method": draw(st.sampled_from(["all_points", "voc11"])),
        "offset": draw(st.sampled_from([1, 0])),
        "box_format": fmt,
    }
    if draw(st.booleans()):
        kwargs["gt_difficult"] = rng.random(n_gt) < 0.25
        if draw(st.booleans()):
            kwargs["gt_difficult"] = kwargs["gt_difficult"].astype(np.int64)
    return Case((
        _from_xyxy(det.astype(np.float64), fmt), scores, det_labels.astype(np.int64),
        det_images.astype(np.int64), _from_xyxy(gt.astype(np.float64), fmt),
        gt_labels.astype(np.int64), gt_images.astype(np.int64),
    ), kwargs)


# ------------------------------------------------------------------------ properties


def _image_ids_are_names(run, case):
    """Any one-to-one renaming of the image ids changes nothing."""
    args = list(case.args)
    args[3], args[6] = 1000 - 3 * args[3], 1000 - 3 * args[6]
    return list(zip(run(case.with_args(*args)), run(case), strict=True))


def _translation(run, case):
    """Moving every box by the same integer offset changes nothing."""
    args = list(case.args)
    shift = np.array([5.0, -3.0, 5.0, -3.0] if case.kwargs.get("box_format", "xyxy") ==
                     "xyxy" else [5.0, -3.0, 0.0, 0.0])
    args[0], args[4] = args[0] + shift, args[4] + shift
    return list(zip(run(case.with_args(*args)), run(case), strict=True))


def _presorted(run, case):
    """Detections given already ranked (stable sort by score) give the same result."""
    args = list(case.args)
    order = np.argsort(-args[1], kind="stable")
    for i in range(4):
        args[i] = args[i][order]
    return list(zip(run(case.with_args(*args)), run(case), strict=True))


# --------------------------------------------------------------------------- natives


def py_faster_rcnn_voc_eval(
    det_boxes, det_scores, det_labels, det_image_ids, gt_boxes, gt_labels, gt_image_ids,
    *, gt_difficult=None, iou_threshold=0.5, ap_method="all_points",
):
    """py-faster-rcnn's ``voc_eval`` on flat arrays (xyxy, +1 pixels): its per-class loop,
    ``np.argsort(-confidence)``, strict ``ovmax > ovthresh`` and ``voc_ap`` kept."""
    det_boxes, gt_boxes = np.asarray(det_boxes, float), np.asarray(gt_boxes, float)
    det_scores = np.asarray(det_scores, float)
    det_labels, det_image_ids = np.asarray(det_labels), np.asarray(det_image_ids)
    gt_labels, gt_image_ids = np.asarray(gt_labels), np.asarray(gt_image_ids)
    difficult = (np.zeros(len(gt_labels), bool) if gt_difficult is None
                 else np.asarray(gt_difficult).astype(bool))
    class_ids = np.union1d(gt_labels, det_labels)
    recs: dict[Any, list[int]] = {  # the parsed annotations: image -> its objects
        image: [] for image in np.unique(np.concatenate((gt_image_ids, det_image_ids)))}
    for g, image in enumerate(gt_image_ids):
        recs[image].append(g)
    aps = []
    for c in class_ids:
        class_recs, npos = {}, 0
        for image, objects in recs.items():
            sel = np.array([g for g in objects if gt_labels[g] == c], dtype=np.int64)
            class_recs[image] = {"bbox": gt_boxes[sel], "difficult": difficult[sel],
                                 "det": [False] * len(sel)}
            npos += int(np.sum(~difficult[sel]))
        mine = det_labels == c
        image_ids, confidence, bb_all = det_image_ids[mine], det_scores[mine], det_boxes[mine]
        sorted_ind = np.argsort(-confidence)
        bb_all, image_ids = bb_all[sorted_ind, :], image_ids[sorted_ind]
        nd = len(image_ids)
        tp, fp = np.zeros(nd), np.zeros(nd)
        for d in range(nd):
            r = class_recs[image_ids[d]]
            bb, bbgt = bb_all[d, :], r["bbox"]
            ovmax = -np.inf
            if bbgt.size > 0:
                ixmin = np.maximum(bbgt[:, 0], bb[0])
                iymin = np.maximum(bbgt[:, 1], bb[1])
                ixmax = np.minimum(bbgt[:, 2], bb[2])
                iymax = np.minimum(bbgt[:, 3], bb[3])
                iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
                ih = np.maximum(iymax - iymin + 1.0, 0.0)
                inters = iw * ih
                uni = ((bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                       + (bbgt[:, 2] - bbgt[:, 0] + 1.0) * (bbgt[:, 3] - bbgt[:, 1] + 1.0)
                       - inters)
                overlaps = inters / uni
                ovmax, jmax = np.max(overlaps), np.argmax(overlaps)
            if ovmax > iou_threshold:
                if not r["difficult"][jmax]:
                    if not r["det"][jmax]:
                        tp[d] = 1.0
                        r["det"][jmax] = 1
                    else:
                        fp[d] = 1.0
            else:
                fp[d] = 1.0
        fp, tp = np.cumsum(fp), np.cumsum(tp)
        if npos == 0:
            aps.append(np.nan)
            continue
        rec = tp / float(npos)
        prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        aps.append(voc_ap(rec, prec, use_07_metric=ap_method == "voc11"))
    return np.array(aps, dtype=np.float64), class_ids


def _py_faster_rcnn():
    def native(*args, offset=1, box_format="xyxy", **kwargs):
        if offset != 1 or box_format != "xyxy":
            raise Unsupported("py-faster-rcnn's voc_eval takes pixel-inclusive xyxy boxes")
        ap, class_ids = py_faster_rcnn_voc_eval(*args, **kwargs)
        counted = ap[~np.isnan(ap)]
        # the spec's result fields; voc_eval's npos, counted the way it counts them
        gt_labels = np.asarray(args[5])
        difficult = kwargs.get("gt_difficult")
        kept = (np.ones(len(gt_labels), bool) if difficult is None
                else ~np.asarray(difficult).astype(bool))
        npos = np.array([np.sum(kept & (gt_labels == c)) for c in class_ids], np.int64)
        mean = np.asarray(counted.mean() if counted.size else np.nan, np.float64)
        return impl_voc.VOCResult(ap, mean, class_ids, npos)

    return native


# ----------------------------------------------------------------------------- specs


def _case(det, scores, det_labels, det_images, gt, gt_labels, gt_images, name, **kwargs):
    return Case((
        np.array(det, dtype=np.float64).reshape(-1, 4), np.array(scores, dtype=np.float64),
        np.array(det_labels, dtype=np.int64), np.array(det_images, dtype=np.int64),
        np.array(gt, dtype=np.float64).reshape(-1, 4), np.array(gt_labels, dtype=np.int64),
        np.array(gt_images, dtype=np.int64),
    ), kwargs, name=name)


_GT = [[0, 0, 9, 9], [20, 20, 29, 29]]
_EDGE_CASES = (
    _case([[0, 0, 9, 9], [0, 0, 9, 8], [21, 20, 29, 29]], [0.9, 0.8, 0.7], [1, 1, 1],
          [0, 0, 0], _GT, [1, 1], [0, 0], "duplicate detection is a false positive"),
    # [0, 0, 9, 4] vs [0, 0, 9, 9] with +1 pixels: 50 / 100 = IoU exactly 0.5
    _case([[0, 0, 9, 4]], [0.5], [1], [0], _GT[:1], [1], [0],
          "IoU exactly 0.5 matches (py-faster-rcnn: strict >, a miss)"),
    _case([[0, 0, 9, 4]], [0.5], [1], [0], _GT[:1], [1], [0], "offset 0: IoU 45/90",
          offset=0),
    _case([[0, 0, 9, 9], [0, 0, 9, 9], [20, 20, 29, 29]], [0.5, 0.5, 0.5], [1, 1, 1],
          [0, 0, 0], _GT, [1, 1], [0, 0], "tied scores keep input order"),
    _case([[0, 0, 9, 9], [20, 20, 29, 29]], [0.9, 0.8], [1, 1], [0, 0], _GT, [1, 1], [0, 0],
          "difficult object: its detection is neither TP nor FP",
          gt_difficult=np.array([True, False])),
    _case([[0, 0, 9, 9]], [0.9], [1], [0], _GT[:1], [1], [0],
          "only difficult objects: AP NaN, mAP NaN", gt_difficult=np.array([1])),
    _case([[0, 0, 9, 9], [5, 5, 9, 9]], [0.9, 0.8], [1, 4], [0, 0], _GT, [1, 2], [0, 0],
          "class without detections: AP 0; class without objects: NaN"),
    _case([], [], [], [], _GT, [1, 2], [3, 4], "no detections at all: AP 0"),
    _case([[0, 0, 9, 9], [1, 1, 5, 5]], [0.3, 0.8], [1, 1], [5, 5], [], [], [],
          "no ground truth at all: NaN"),
    _case([], [], [], [], [], [], [], "nothing at all: K = 0, mAP NaN"),
    # det 0 overlaps both objects equally (IoU 1/3): the first object in input order is its
    # candidate, and it is taken by det 1 (ranked higher): det 0 is a false positive
    _case([[5, 0, 14, 9], [0, 0, 9, 9]], [0.5, 0.9], [1, 1], [0, 0],
          [[0, 0, 9, 9], [10, 0, 19, 9]], [1, 1], [0, 0],
          "equal IoUs: the first object; taken means false positive", iou_threshold=0.25),
    _case([[0, 0, 9, 9], [0, 0, 9, 9], [20, 20, 29, 29]], [0.9, 0.1, 0.5], [1, 1, 1],
          [8, 9, 8], _GT + [[0, 0, 9, 9]], [1, 1, 1], [8, 8, 9],
          "images matched by id", ap_method="voc11"),
    _case([[0, 0, 9, 9], [20, 20, 29, 29], [40, 40, 49, 49]], [0.9, 0.8, 0.7], [1, 1, 1],
          [0, 0, 0], _GT, [1, 1], [0, 0], "11-point, recall 1 at rank 2",
          ap_method="voc11"),
)
del _GT


def _invalid(name: str, case: Case, raises: Any, match: str, values: bool = False):
    return InvalidCase(name, case, raises, match, needs_values=values)


_OK = _EDGE_CASES[0]


def _with(i: int, value: Any) -> Case:
    args = list(_OK.args)
    args[i] = value
    return _OK.with_args(*args)


INVALID_CASES = (
    _invalid("det_boxes not (D, 4)", _with(0, np.zeros((3, 3))), ValueError, "det_boxes"),
    _invalid("gt_boxes not (G, 4)", _with(4, np.zeros(8)), ValueError, "gt_boxes"),
    _invalid("scores length", _with(1, np.zeros(2)), ValueError, "det_scores"),
    _invalid("integer scores", _with(1, np.array([3, 2, 1])), TypeError, "det_scores"),
    _invalid("float labels", _with(2, np.ones(3)), TypeError, "det_labels"),
    _invalid("gt_image_ids length", _with(6, np.zeros(3, np.int64)), ValueError,
             "gt_image_ids"),
    _invalid("NaN score", _with(1, np.array([0.9, np.nan, 0.7])), ValueError, "det_scores",
             True),
    _invalid("inverted box", _with(0, np.array([[9.0, 0, 0, 9]] * 3)), ValueError,
             "det_boxes", True),
    _invalid("NaN box", _with(4, np.array([[0, 0, np.nan, 9], [1, 1, 2, 2]])), ValueError,
             "gt_boxes", True),
    _invalid("difficult not 0/1", _OK.with_args(*_OK.args, gt_difficult=np.array([0, 2])),
             ValueError, "gt_difficult", True),
    _invalid("difficult float", _OK.with_args(*_OK.args, gt_difficult=np.zeros(2)),
             TypeError, "gt_difficult"),
    _invalid("difficult length", _OK.with_args(*_OK.args, gt_difficult=np.zeros(3, bool)),
             ValueError, "gt_difficult"),
    _invalid("threshold 0", _OK.with_args(*_OK.args, iou_threshold=0.0), ValueError,
             "iou_threshold"),
    _invalid("threshold not a number", _OK.with_args(*_OK.args, iou_threshold="0.5"),
             TypeError, "iou_threshold"),
    _invalid("coco101 is not a VOC rule", _OK.with_args(*_OK.args, ap_method="coco101"),
             ValueError, "ap_method"),
    _invalid("offset 2", _OK.with_args(*_OK.args, offset=2), ValueError, "offset"),
    _invalid("unknown format", _OK.with_args(*_OK.args, box_format="yxyx"), ValueError,
             "box_format"),
)

VOC_EVALUATE = OpSpec(
    name="voc_evaluate",
    family="detection",
    impl=impl_voc.voc_evaluate,
    oracle=voc_evaluate_oracle,
    cases=_detections,
    signature=(
        "voc_evaluate(det_boxes, det_scores, det_labels, det_image_ids, gt_boxes, "
        "gt_labels, gt_image_ids, *, gt_difficult=None, iou_threshold=0.5, "
        'ap_method="all_points", offset=1, box_format="xyxy")'
    ),
    doc=(
        "PASCAL VOC devkit (VOCevaldet.m) rules on flat arrays. Classes: the labels of "
        "detections and ground truth together, ascending (class_ids). Per class, "
        "detections are ranked by a stable sort on score (ties keep input order). Each "
        "detection looks only at the object of its image and class with the highest IoU "
        "(the first in input order among equal IoUs; objects without positive "
        "intersection are never candidates); it is a TP when that IoU >= iou_threshold "
        "(in (0, 1]) and the object is not taken (it then takes it), else a FP; when "
        "that object is difficult it is neither and leaves the ranking. Difficult objects "
        "are not counted in recall. Boxes: box_format converted continuously to xyxy, "
        "then offset (default 1: +1 pixel) added to widths and heights. Curve: recall "
        "tp/P, precision tp/(tp + fp) at each rank; AP by interpolated_average_precision "
        "(all_points: VOC 2010+ area under the envelope; voc11: VOC 2007, recall exactly "
        "k/10). A class without non-difficult objects has AP NaN and is left out of map "
        "(NaN if no class is left); a class with objects but no detections has AP 0. "
        "Outputs (per_class_ap, map, class_ids, num_positives). Vectorised: candidate "
        "pairs by searchsorted over (image, class) keys, best candidate by two stable "
        "sorts, first taker by a stable sort, per-class curves laid out (K, N) with N the "
        "largest class's detection count. Data-dependent shapes: eager only."
    ),
    edge_cases=_EDGE_CASES,
    invalid_cases=INVALID_CASES,
    properties=(
        Property("image ids are names", _image_ids_are_names),
        Property("translation invariance", _translation),
        Property("detections given in rank order", _presorted),
    ),
    natives=(
        Native("numpy", "py-faster-rcnn voc_eval (port)", _py_faster_rcnn,
               "strict IoU > threshold, unstable np.argsort(-confidence), np.arange "
               "11-point thresholds, +1 pixels only"),
    ),
    capabilities=Capabilities(
        jit=False, differentiable=False, data_dependent_shape=True, lazy=False
    ),
    outputs=lambda r: (r.per_class_ap, r.map, r.class_ids, r.num_positives),
)

SPECS = (VOC_EVALUATE,)
