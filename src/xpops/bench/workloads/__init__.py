"""Every benchmarked case, one module per op family.

Each family module defines ``INPUTS`` (named input generators), ``DERIVED`` (named views
of other inputs: name -> (source, function)) and ``WORKLOADS``. Sizes scale with the
runner's ``size``: the default (4096, 4096) gives every workload its full size and
smaller sizes shrink each one's element count in proportion (tests run them tiny).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import (
    attention,
    boxes,
    coco,
    convolution,
    linear,
    logits,
    metrics,
    neighbors,
    nms,
    voc,
)
from ._base import FULL_SIZE, Generator, Workload, scale_of, xpops_op

__all__ = [
    "Workload", "Generator", "INPUTS", "DERIVED", "WORKLOADS", "BENCH_OPS", "FULL_SIZE",
    "scale_of", "xpops_op",
]

FAMILIES = (
    logits,
    metrics,
    boxes,
    nms,
    coco,
    voc,
    attention,
    convolution,
    neighbors,
    linear,
)

INPUTS: dict[str, Generator] = {k: v for f in FAMILIES for k, v in f.INPUTS.items()}
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    k: v for f in FAMILIES for k, v in f.DERIVED.items()
}
WORKLOADS: tuple[Workload, ...] = tuple(w for f in FAMILIES for w in f.WORKLOADS)

# Ops in report order.
BENCH_OPS = tuple(dict.fromkeys(w.op for w in WORKLOADS))
