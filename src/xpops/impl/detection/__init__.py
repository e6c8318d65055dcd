"""Detection evaluation: COCO (pycocotools' ``COCOeval``) and PASCAL VOC, vectorised.

Modules, in the order the work runs:

- :mod:`.inputs`: array checks shared by both evaluations, COCO's options and defaults;
- :mod:`.iou`: the IoU-kind interface and its registry; :mod:`.bbox`: the ``"bbox"``
  kind;
- :mod:`.grouping`: ids to indices, detections ranked within their (image, category)
  group, ground truth grouped, ignore flags per area range;
- :mod:`.matching`: pycocotools' greedy matching, every group, area range and IoU
  threshold at once;
- :mod:`.accumulate`: the precision, recall and scores tables;
- :mod:`.summary`: the 12 statistics, per-class AP and the printed summary;
- :mod:`.coco`: :func:`coco_evaluate` and :class:`CocoEvaluation`, the pipeline;
- :mod:`.voc`: :func:`voc_evaluate`, the devkit's rules (one candidate per detection,
  so sorts instead of a matcher), integrated by :mod:`xpops.impl.average_precision`.

Every input is checked before any backend dispatch; the work then runs where it runs
well (host NumPy for eager JAX, the default device for array-api-strict's ``no_x64``:
:mod:`xpops._lib.elsewhere`) and its results come back to the caller's library and
device.

IoU kinds
---------
The matcher, accumulation and summary never know what is compared. An IoU kind
(:class:`.iou.IouKind`) supplies two functions:

- ``prepare(xp, det, gt, *, with_dtypes, **options) -> (Geometry, Geometry)``: checks
  the kind's inputs and returns each side as a :class:`.iou.Geometry`: ``rows``, a tuple
  of arrays with one leading entry per object (boxes and their areas; RLE runs or
  masks; keypoints with their scales), and ``area`` ``(N,)``, compared with the area
  ranges (the ground truth's may be replaced by ``gt_area``);
- ``iou(xp, det_rows, gt_rows, crowd) -> (n, w)``: the overlap of ``n`` detections with
  the ground truth of each one's group, padded to ``w`` (padding rows are zero and
  their values discarded); ``crowd`` ``(n, w)`` for kinds that treat crowd regions
  apart.

The matcher hands the kind those gathered rows and applies the thresholds, crowd and
ignore rules itself. A new kind (``"segm"`` on RLE masks, ``"keypoints"`` with OKS,
boundary IoU) is one module defining these two functions and registering them with
``register_iou_kind(IouKind("segm", prepare=..., iou=...))``, plus its import below;
:func:`.iou.iou_kind` then finds it by name.
"""

from . import bbox  # noqa: F401  (registers the "bbox" IoU kind)
from .coco import CocoEvaluation, coco_evaluate, coco_summary
from .voc import VOCResult, voc_evaluate

__all__ = ["CocoEvaluation", "VOCResult", "coco_evaluate", "coco_summary", "voc_evaluate"]
