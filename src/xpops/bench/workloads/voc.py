"""Workload of PASCAL VOC detection AP.

- ``voc_evaluate``: a generated VOC-like set, 2,000 images, 20 classes, 3 objects (10%
  difficult) and 10 detections per image at full size, integer-pixel boxes; numpy
  against the py-faster-rcnn ``voc_eval`` port in ``xpops.spec.voc`` (a Python loop per
  detection, as the original).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..peers import Peer, Side
from ._base import Generator, Workload, scale_of, xpops_op

IMAGES, CLASSES, OBJECTS_PER_IMAGE, DETECTIONS_PER_IMAGE = 2000, 20, 3, 10
_ARRAYS = ("det_boxes", "det_scores", "det_labels", "det_image_ids", "gt_boxes",
           "gt_labels", "gt_image_ids", "gt_difficult")
_NAMES = tuple(f"voc_{a}" for a in _ARRAYS)


def _images(size: tuple[int, int]) -> int:
    return max(1, round(IMAGES * scale_of(size)))


def _voc_set(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Everything in one float64 array of rows ``[x1 y1 x2 y2 score label image flag]``:
    the objects first (score -1, flag = difficult), then the detections (flag -1)."""
    images = _images(size)
    n_gt, n_det = images * OBJECTS_PER_IMAGE, images * DETECTIONS_PER_IMAGE
    xy = rng.integers(0, 400, size=(n_gt, 2))
    gt = np.concatenate((xy, xy + rng.integers(10, 120, size=(n_gt, 2))), axis=1)
    gt_labels = rng.integers(0, CLASSES, n_gt)
    gt_images = rng.integers(0, images, n_gt)
    src = rng.integers(0, n_gt, n_det)
    det = gt[src] + np.round(rng.normal(scale=8.0, size=(n_det, 4)))
    det = np.concatenate((np.minimum(det[:, :2], det[:, 2:]),
                          np.maximum(det[:, :2], det[:, 2:])), axis=1)
    det_labels = np.where(rng.random(n_det) < 0.7, gt_labels[src],
                          rng.integers(0, CLASSES, n_det))
    objects = np.column_stack((gt, -np.ones(n_gt), gt_labels, gt_images,
                               rng.random(n_gt) < 0.1))
    detections = np.column_stack((det, rng.random(n_det), det_labels, gt_images[src],
                                  -np.ones(n_det)))
    return np.concatenate((objects, detections)).astype(np.float64)


def _view(name: str) -> Callable[[np.ndarray], np.ndarray]:
    def view(rows: np.ndarray) -> np.ndarray:
        det = rows[rows[:, 7] < 0]
        gt = rows[rows[:, 7] >= 0]
        part = det if name.startswith("det") else gt
        if name.endswith("boxes"):
            return np.ascontiguousarray(part[:, :4])
        if name == "det_scores":
            return np.ascontiguousarray(part[:, 4])
        if name == "gt_difficult":
            return part[:, 7] > 0
        return part[:, 5 if name.endswith("labels") else 6].astype(np.int64)

    return view


INPUTS: dict[str, Generator] = {"voc_set": _voc_set}
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    f"voc_{a}": ("voc_set", _view(a)) for a in _ARRAYS
}


def _xpops_voc() -> Side:
    voc_evaluate = xpops_op("voc_evaluate")
    return Side(lambda *a: voc_evaluate(*a[:7], gt_difficult=a[7]).per_class_ap, _NAMES)


def _py_faster_rcnn() -> Side:
    from ...spec.voc import py_faster_rcnn_voc_eval

    return Side(lambda *a: py_faster_rcnn_voc_eval(*a[:7], gt_difficult=a[7])[0], _NAMES)


def _describe(size: tuple[int, int]) -> str:
    images = _images(size)
    return (f"{images} images, {CLASSES} classes, {images * OBJECTS_PER_IMAGE} objects, "
            f"{images * DETECTIONS_PER_IMAGE} detections, all_points")


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        op="voc_evaluate",
        describe=_describe,
        ours=_xpops_voc,
        peers={"numpy": (Peer("py-faster-rcnn voc_eval (port)", 0.1, _py_faster_rcnn),)},
    ),
)
