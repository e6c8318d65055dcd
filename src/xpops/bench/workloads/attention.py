"""Workloads of the attention family.

- ``scaled_dot_product_attention``: float32 query, key and value of shape
  (4, 8, 1024, 64) (batch, heads, length, features), no mask; torch against
  ``torch.nn.functional.scaled_dot_product_attention`` (target 2.0), JAX (jitted) against
  ``jax.nn.dot_product_attention`` (target 1.3), which receives the same arrays in its own
  (B, T, N, H) layout, transposed ahead of time so that neither side pays for a transpose.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..peers import Peer, Side
from ._base import Generator, Workload, scale_of, xpops_op

SDPA_SHAPE = (4, 8, 1024, 64)


def _sdpa_shape(size: tuple[int, int]) -> tuple[int, int, int, int]:
    # time grows with L^2: smaller sizes shrink the length by the square root
    b, h, length, e = SDPA_SHAPE
    return (b, h, max(4, round(length * math.sqrt(scale_of(size)))), e)


def _sdpa_input(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return rng.standard_normal(_sdpa_shape(size), dtype=np.float32)


def _btnh(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(x, (0, 2, 1, 3)))


_NAMES = ("sdpa_query", "sdpa_key", "sdpa_value")
INPUTS: dict[str, Generator] = dict.fromkeys(_NAMES, _sdpa_input)
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    f"{name}_btnh": (name, _btnh) for name in _NAMES
}


def _xpops_sdpa() -> Side:
    return Side(xpops_op("scaled_dot_product_attention"), _NAMES)


def _torch_sdpa() -> Side:
    import torch.nn.functional as F

    return Side(F.scaled_dot_product_attention, _NAMES)


def _jax_sdpa() -> Side:
    import jax

    return Side(jax.nn.dot_product_attention, tuple(f"{n}_btnh" for n in _NAMES))


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        op="scaled_dot_product_attention",
        describe=lambda size: f"f32 q, k, v {_sdpa_shape(size)}, no mask",
        ours=_xpops_sdpa,
        peers={
            "torch": (Peer("F.scaled_dot_product_attention", 2.0, _torch_sdpa),),
            "jax": (Peer("jax.nn.dot_product_attention", 1.3, _jax_sdpa),),
        },
    ),
)
