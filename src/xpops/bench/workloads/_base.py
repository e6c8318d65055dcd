"""What every family's workload module builds on: the :class:`Workload` record, input
generators and the size scale."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import xpops

from ..peers import Peer, Side

__all__ = ["FULL_SIZE", "Generator", "Workload", "scale_of", "xpops_op"]

FULL_SIZE = (4096, 4096)  # the runner's default size, at which workloads are full size

# (rng, size) -> a NumPy input array; each named input gets its own seed stream
Generator = Callable[[np.random.Generator, tuple[int, int]], np.ndarray]


def scale_of(size: tuple[int, int]) -> float:
    """The fraction of the full element count that ``size`` asks for."""
    return (size[0] * size[1]) / (FULL_SIZE[0] * FULL_SIZE[1])


@dataclass(frozen=True)
class Workload:
    """One benchmarked case of ``op``: its xpops call and peers, per library."""

    op: str
    describe: Callable[[tuple[int, int]], str]
    ours: Callable[[], Side]
    peers: Mapping[str, tuple[Peer, ...]] = field(default_factory=dict)


def xpops_op(name: str) -> Callable[..., Any]:
    """``xpops.<name>``, looked up when a workload loads: the runner skips ops xpops lacks."""
    return getattr(xpops, name)
