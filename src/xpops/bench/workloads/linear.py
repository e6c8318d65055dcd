"""Workloads of the linear classifier losses: loss and analytic gradient.

- ``softmax_loss`` and ``svm_loss`` on float32 ``X (4096, 3072)`` (CIFAR-10 sized rows),
  ``W (3072, 10)``, ``reg=1e-3``: torch against the same loss from torch's own
  functions (``cross_entropy``, ``C * multi_margin_loss``) with ``torch.autograd``, JAX
  against ``jax.value_and_grad`` of the loss (optax for softmax), both jitted. The
  analytic gradient needs the same two matrix products the autodiff backward does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..peers import Peer, Side
from ._base import Generator, Workload, scale_of, xpops_op

ROWS, FEATURES, CLASSES = 4096, 3072, 10
REG = 1e-3


def _rows(size: tuple[int, int]) -> int:
    return max(2, round(ROWS * scale_of(size)))


def _features(size: tuple[int, int]) -> int:
    return max(2, round(FEATURES * math.sqrt(scale_of(size))))


def _x(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return rng.standard_normal((_rows(size), _features(size)), dtype=np.float32)


def _w(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return 1e-3 * rng.standard_normal((_features(size), CLASSES), dtype=np.float32)


def _y(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return rng.integers(0, CLASSES, size=_rows(size), dtype=np.int64)


INPUTS: dict[str, Generator] = {"linear_X": _x, "linear_W": _w, "linear_y": _y}
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {}
_ARGS = ("linear_W", "linear_X", "linear_y")


def _xpops_side(op: str) -> Callable[[], Side]:
    def load() -> Side:
        fn = xpops_op(op)
        return Side(lambda W, X, y: fn(W, X, y, reg=REG), _ARGS)

    return load


def _torch_side(op: str) -> Callable[[], Side]:
    def load() -> Side:
        import torch
        import torch.nn.functional as F

        def data_loss(s: Any, y: Any) -> Any:
            if op == "svm_loss":  # torch divides the sum over classes by C
                return s.shape[1] * F.multi_margin_loss(s, y)
            return F.cross_entropy(s, y)

        def loss_and_grad(W: Any, X: Any, y: Any) -> Any:
            W = W.detach().requires_grad_(True)
            loss = data_loss(X @ W, y) + REG * (W * W).sum()
            return loss.detach(), torch.autograd.grad(loss, W)[0]

        return Side(loss_and_grad, _ARGS)

    return load


def _jax_side(op: str) -> Callable[[], Side]:
    def load() -> Side:
        import jax
        import jax.numpy as jnp
        import optax

        def loss(W: Any, X: Any, y: Any) -> Any:
            s = X @ W
            if op == "svm_loss":
                correct = jnp.take_along_axis(s, y[:, None], axis=1)
                margins = jnp.maximum(0.0, s - correct + 1.0)
                data = (margins.sum() - X.shape[0]) / X.shape[0]  # the label's own margin is 1
            else:
                data = optax.softmax_cross_entropy_with_integer_labels(s, y).mean()
            return data + REG * jnp.sum(W * W)

        return Side(jax.value_and_grad(loss), _ARGS)

    return load


def _workload(op: str, torch_name: str) -> Workload:
    return Workload(
        op=op,
        describe=lambda size: (
            f"f32 X ({_rows(size)}, {_features(size)}), W ({_features(size)}, {CLASSES}), "
            "loss + dW"
        ),
        ours=_xpops_side(op),
        peers={
            "torch": (Peer(f"{torch_name} + torch.autograd", 1.5, _torch_side(op)),),
            "jax": (Peer("jax.value_and_grad", 1.5, _jax_side(op)),),
        },
    )


WORKLOADS: tuple[Workload, ...] = (
    _workload("softmax_loss", "F.cross_entropy"),
    _workload("svm_loss", "C * F.multi_margin_loss"),
)
