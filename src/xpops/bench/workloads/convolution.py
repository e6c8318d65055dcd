"""Workloads of conv2d and pooling (float32).

- ``conv2d``: x (8, 64, 56, 56), weight (64, 64, 3, 3), padding 1. torch against
  ``F.conv2d`` and JAX (jit) against ``lax.conv_general_dilated`` (targets 2.0); NumPy
  against one GEMM of the im2col shape, (8 * 56 * 56, 64 * 9) @ (64 * 9, 64): the ratio
  minus one is the patch-extraction overhead, at most 0.5 (target 1.5).
- ``max_pool2d`` / ``avg_pool2d``: 3x3, stride 2, padding 1 on (8, 64, 112, 112); torch
  against ``F.max_pool2d`` / ``F.avg_pool2d`` (target 3.0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..peers import Peer, Side
from ._base import Generator, Workload, scale_of, xpops_op

CONV_X = (8, 64, 56, 56)
CONV_W = (64, 64, 3, 3)
POOL_X = (8, 64, 112, 112)


def _side(full: int, size: tuple[int, int]) -> int:
    return max(3, round(full * math.sqrt(scale_of(size))))


def _conv_x_shape(size: tuple[int, int]) -> tuple[int, int, int, int]:
    side = _side(CONV_X[2], size)
    return (CONV_X[0], CONV_X[1], side, side)


def _pool_x_shape(size: tuple[int, int]) -> tuple[int, int, int, int]:
    side = _side(POOL_X[2], size)
    return (POOL_X[0], POOL_X[1], side, side)


def _normal(shape_of: Callable[[tuple[int, int]], tuple[int, ...]]) -> Generator:
    return lambda rng, size: rng.standard_normal(shape_of(size), dtype=np.float32)


def _gemm_shape(size: tuple[int, int]) -> tuple[int, int]:
    n, c, h, w = _conv_x_shape(size)
    return (n * h * w, c * CONV_W[2] * CONV_W[3])


INPUTS: dict[str, Generator] = {
    "conv_x": _normal(_conv_x_shape),
    "conv_w": _normal(lambda size: CONV_W),
    "gemm_patches": _normal(_gemm_shape),
    "gemm_weight": _normal(lambda size: (_gemm_shape(size)[1], CONV_W[0])),
    "pool_x": _normal(_pool_x_shape),
}
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {}


def _ours_conv() -> Side:
    conv2d = xpops_op("conv2d")
    return Side(lambda x, w: conv2d(x, w, padding=1), ("conv_x", "conv_w"))


def _gemm() -> Side:
    return Side(lambda a, b: a @ b, ("gemm_patches", "gemm_weight"))


def _torch_conv() -> Side:
    import torch

    return Side(lambda x, w: torch.nn.functional.conv2d(x, w, padding=1), ("conv_x", "conv_w"))


def _jax_conv() -> Side:
    import jax

    def conv(x: Any, w: Any) -> Any:
        return jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)))

    return Side(conv, ("conv_x", "conv_w"))


def _ours_pool(op: str) -> Callable[[], Side]:
    def load() -> Side:
        pool = xpops_op(op)
        return Side(lambda x: pool(x, 3, stride=2, padding=1), ("pool_x",))

    return load


def _torch_pool(op: str) -> Callable[[], Side]:
    def load() -> Side:
        import torch

        pool = getattr(torch.nn.functional, op)
        return Side(lambda x: pool(x, 3, 2, 1), ("pool_x",))

    return load


def _describe_pool(size: tuple[int, int]) -> str:
    return f"f32 {_pool_x_shape(size)}, 3x3 stride 2 padding 1"


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        op="conv2d",
        describe=lambda size: f"f32 x {_conv_x_shape(size)}, w {CONV_W}, padding 1",
        ours=_ours_conv,
        peers={
            "numpy": (Peer("one GEMM of the im2col shape (ratio - 1 = patch overhead)", 1.5,
                           _gemm),),
            "torch": (Peer("torch.nn.functional.conv2d", 2.0, _torch_conv),),
            "jax": (Peer("jax.lax.conv_general_dilated", 2.0, _jax_conv),),
        },
    ),
    *(
        Workload(
            op=op,
            describe=_describe_pool,
            ours=_ours_pool(op),
            peers={"torch": (Peer(f"torch.nn.functional.{op}", 3.0, _torch_pool(op)),)},
        )
        for op in ("max_pool2d", "avg_pool2d")
    ),
)
