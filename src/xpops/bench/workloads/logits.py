"""The (rows, classes) float32 logits workloads of the activations and losses.

Their inputs (logits, labels, probabilities, binary targets) come from the runner; the
calls and peers per library are in ``bench/peers.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..peers import OPS as LOGITS_OPS
from ..peers import peers_for, workload_description, xpops_side
from ._base import Generator, Workload

INPUTS: dict[str, Generator] = {}
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {}


def _logits_workload(op: str) -> Workload:
    return Workload(
        op=op,
        describe=lambda size: workload_description(op, size),
        ours=lambda: xpops_side(op),
        peers={
            library: (peers_for(library)[op],)
            for library in ("numpy", "torch", "jax")
            if op in peers_for(library)
        },
    )


WORKLOADS: tuple[Workload, ...] = tuple(_logits_workload(op) for op in LOGITS_OPS)
