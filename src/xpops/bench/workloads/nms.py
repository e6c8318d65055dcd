"""Workloads of non-maximum suppression (float32 boxes, uniform scores, IoU threshold 0.5).

- ``nms`` "clustered": N boxes of 60-80 px around 20 centres (jitter 8 px) in a
  1000 x 1000 image: few survive. "uniform": N boxes of 1-100 px anywhere: most survive.
  N in {1000, 5000, 20000}. torch against ``torchvision.ops.nms`` (targets: clustered
  N=20000 <= 1.0, uniform N=5000 <= 2.0; the other sizes informational), numpy against
  the classic pure-NumPy greedy loop (<= 0.5 everywhere, i.e. at least 2x faster).
- ``batched_nms``: the uniform N=20000 boxes with 80 random labels; torch against
  ``torchvision.ops.batched_nms`` (<= 1.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..peers import Peer, Side
from ._base import Generator, Workload, scale_of, xpops_op

SIZES = (1000, 5000, 20000)
LAYOUTS = ("clustered", "uniform")
CLASSES = 80
THRESHOLD = 0.5
TORCHVISION_TARGETS = {("clustered", 20000): 1.0, ("uniform", 5000): 2.0}


def _count(n: int, size: tuple[int, int]) -> int:
    return max(16, round(n * math.sqrt(scale_of(size))))  # pairs scale with N^2


def _layout(kind: str, n: int) -> Generator:
    """(N, 5) float32: xyxy boxes and a uniform score, drawn together."""

    def make(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
        m = _count(n, size)
        if kind == "clustered":
            centres = rng.uniform(100, 900, size=(20, 2))
            xy = centres[rng.integers(0, 20, m)] + rng.uniform(-8, 8, size=(m, 2))
            wh = rng.uniform(60, 80, size=(m, 2))
            boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
        else:
            xy = rng.uniform(0, 1000, size=(m, 2))
            boxes = np.concatenate([xy, xy + rng.uniform(1, 100, size=(m, 2))], axis=1)
        return np.concatenate([boxes, rng.random((m, 1))], axis=1).astype(np.float32)

    return make


def _labels(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return rng.integers(0, CLASSES, size=_count(20000, size), dtype=np.int64)


INPUTS: dict[str, Generator] = {
    **{f"nms_{k}_{n}": _layout(k, n) for k in LAYOUTS for n in SIZES},
    "nms_labels_80": _labels,
}
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    **{f"nms_{k}_{n}_boxes": (f"nms_{k}_{n}", lambda a: np.ascontiguousarray(a[:, :4]))
       for k in LAYOUTS for n in SIZES},
    **{f"nms_{k}_{n}_scores": (f"nms_{k}_{n}", lambda a: np.ascontiguousarray(a[:, 4]))
       for k in LAYOUTS for n in SIZES},
}


def _inputs(kind: str, n: int) -> tuple[str, str]:
    return f"nms_{kind}_{n}_boxes", f"nms_{kind}_{n}_scores"


def _ours(kind: str, n: int) -> Callable[[], Side]:
    def load() -> Side:
        nms = xpops_op("nms")
        return Side(lambda b, s: nms(b, s, THRESHOLD), _inputs(kind, n))

    return load


def _torchvision(kind: str, n: int) -> Callable[[], Side]:
    def load() -> Side:
        import torchvision

        return Side(lambda b, s: torchvision.ops.nms(b, s, THRESHOLD), _inputs(kind, n))

    return load


def _classic(kind: str, n: int) -> Callable[[], Side]:
    def load() -> Side:
        from ...spec.nms import classic_numpy_nms

        return Side(lambda b, s: classic_numpy_nms(b, s, THRESHOLD, 0), _inputs(kind, n))

    return load


def _nms_workload(kind: str, n: int) -> Workload:
    return Workload(
        op="nms",
        describe=lambda size: f"{_count(n, size)} f32 boxes, {kind}, IoU 0.5",
        ours=_ours(kind, n),
        peers={
            "numpy": (Peer("classic NumPy greedy loop", 0.5, _classic(kind, n)),),
            "torch": (Peer("torchvision.ops.nms", TORCHVISION_TARGETS.get((kind, n)),
                           _torchvision(kind, n)),),
        },
    )


_BATCHED_INPUTS = (*_inputs("uniform", 20000), "nms_labels_80")


def _ours_batched() -> Side:
    batched_nms = xpops_op("batched_nms")
    return Side(lambda b, s, c: batched_nms(b, s, c, THRESHOLD), _BATCHED_INPUTS)


def _torchvision_batched() -> Side:
    import torchvision

    def run(b: Any, s: Any, c: Any) -> Any:
        return torchvision.ops.batched_nms(b, s, c, THRESHOLD)

    return Side(run, _BATCHED_INPUTS)


WORKLOADS: tuple[Workload, ...] = (
    *(_nms_workload(k, n) for k in LAYOUTS for n in SIZES),
    Workload(
        op="batched_nms",
        describe=lambda size: f"{_count(20000, size)} f32 boxes, uniform, {CLASSES} classes",
        ours=_ours_batched,
        peers={"torch": (Peer("torchvision.ops.batched_nms", 1.5, _torchvision_batched),)},
    ),
)
