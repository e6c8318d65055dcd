"""Workloads of the box ops.

- ``box_iou``: 2000 x 2000 float32 xyxy boxes (uniform in 1000 x 1000, sides 1-100);
  torch against ``torchvision.ops.box_iou``, numpy against the plain broadcast IoU.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..peers import Peer, Side
from ._base import Generator, Workload, scale_of, xpops_op

IOU_BOXES = 2000


def _count(size: tuple[int, int]) -> int:
    return max(2, round(IOU_BOXES * math.sqrt(scale_of(size))))


def _uniform_boxes(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    n = _count(size)
    xy = rng.uniform(0.0, 1000.0, size=(n, 2))
    wh = rng.uniform(1.0, 100.0, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(np.float32)


INPUTS: dict[str, Generator] = {
    "iou_boxes1": _uniform_boxes,
    "iou_boxes2": _uniform_boxes,
}
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {}
_IOU_INPUTS = ("iou_boxes1", "iou_boxes2")


def _xpops_iou() -> Side:
    return Side(xpops_op("box_iou"), _IOU_INPUTS)


def _torchvision_iou() -> Side:
    from torchvision.ops import box_iou

    return Side(box_iou, _IOU_INPUTS)


def _numpy_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The textbook broadcast IoU (NaN where the union is 0)."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def _numpy_broadcast_iou() -> Side:
    return Side(_numpy_iou, _IOU_INPUTS)


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        op="box_iou",
        describe=lambda size: f"f32 xyxy {_count(size)} x {_count(size)} boxes",
        ours=_xpops_iou,
        peers={
            "numpy": (Peer("numpy broadcast IoU", 1.5, _numpy_broadcast_iou),),
            "torch": (Peer("torchvision.ops.box_iou", 1.5, _torchvision_iou),),
        },
    ),
)
