"""The benchmarked calls: xpops for every op, and the native peer of each library.

A side of a pair is a function of named input arrays (``logits``, ``labels``, ``probs``,
``binary``) so that the runner can hand it the backend's arrays and, on JAX, ``jit`` it.
Peers are loaded lazily; a loader raises ImportError when its library (SciPy, optax) is
absent, and the runner skips that row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import xpops

__all__ = ["OPS", "Side", "Peer", "xpops_side", "peers_for", "workload_description"]



@dataclass(frozen=True)
class Side:
    """A function and the names of the input arrays it takes, in order."""

    fn: Callable[..., Any]
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Peer:
    name: str
    target: float | None  # xpops / peer must be <= target; None: informational
    load: Callable[[], Side]  # raises ImportError when the peer's library is missing


_INPUTS: dict[str, tuple[str, ...]] = {
    "softmax": ("logits",),
    "log_softmax": ("logits",),
    "logsumexp": ("logits",),
    "sigmoid": ("logits",),
    "log_sigmoid": ("logits",),
    "cross_entropy": ("logits", "labels"),
    "binary_cross_entropy": ("probs", "binary"),
    "binary_cross_entropy_with_logits": ("logits", "binary"),
}


# Ops in report order.
OPS = tuple(_INPUTS)


def xpops_side(op: str) -> Side:
    """The xpops call for ``op`` on the workload (class axis last, default reduction)."""
    calls: dict[str, Callable[..., Any]] = {
        "softmax": lambda x: xpops.softmax(x, axis=-1),
        "log_softmax": lambda x: xpops.log_softmax(x, axis=-1),
        "logsumexp": lambda x: xpops.logsumexp(x, axis=-1),
        "sigmoid": xpops.sigmoid,
        "log_sigmoid": xpops.log_sigmoid,
        "cross_entropy": lambda x, t: xpops.cross_entropy(x, t),
        "binary_cross_entropy": lambda p, t: xpops.binary_cross_entropy(p, t),
        "binary_cross_entropy_with_logits": lambda x, t: (
            xpops.binary_cross_entropy_with_logits(x, t)
        ),
    }
    return Side(calls[op], _INPUTS[op])


def workload_description(op: str, size: tuple[int, int]) -> str:
    shape = f"({size[0]}, {size[1]})"
    if op in ("softmax", "log_softmax", "logsumexp"):
        return f"f32 {shape}, axis=-1"
    if op in ("sigmoid", "log_sigmoid"):
        return f"f32 {shape}"
    if op == "cross_entropy":
        return f"f32 logits {shape}, int labels ({size[0]},), mean"
    if op == "binary_cross_entropy":
        return f"f32 probs {shape}, 0/1 targets, mean"
    return f"f32 logits {shape}, 0/1 targets, mean"


# --------------------------------------------------------------------------- NumPy


def _scipy_special() -> Any:
    import scipy.special

    return scipy.special


def _np_softmax() -> Side:
    sp = _scipy_special()
    return Side(lambda x: sp.softmax(x, axis=-1), ("logits",))


def _np_log_softmax() -> Side:
    sp = _scipy_special()
    return Side(lambda x: sp.log_softmax(x, axis=-1), ("logits",))


def _np_logsumexp() -> Side:
    sp = _scipy_special()
    return Side(lambda x: sp.logsumexp(x, axis=-1), ("logits",))


def _np_sigmoid() -> Side:
    return Side(_scipy_special().expit, ("logits",))


def _np_log_sigmoid() -> Side:
    import numpy as np

    return Side(lambda x: -np.logaddexp(0, -x), ("logits",))


def _np_cross_entropy() -> Side:
    import numpy as np

    sp = _scipy_special()

    def ce(x: Any, t: Any) -> Any:
        logp = sp.log_softmax(x, axis=-1)
        return -np.mean(np.take_along_axis(logp, t[:, None], axis=-1))

    return Side(ce, ("logits", "labels"))


def _np_bce() -> Side:
    import numpy as np

    def bce(p: Any, t: Any) -> Any:
        log_p = np.maximum(np.log(p), -100)
        log_1mp = np.maximum(np.log1p(-p), -100)
        return -np.mean(t * log_p + (1 - t) * log_1mp)

    return Side(bce, ("probs", "binary"))


def _np_bce_with_logits() -> Side:
    import numpy as np

    def bce(x: Any, t: Any) -> Any:
        return np.mean(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))))

    return Side(bce, ("logits", "binary"))


_NUMPY = {
    "softmax": Peer("scipy.special.softmax", 1.0, _np_softmax),
    "log_softmax": Peer("scipy.special.log_softmax", 1.0, _np_log_softmax),
    "logsumexp": Peer("scipy.special.logsumexp", None, _np_logsumexp),
    "sigmoid": Peer("scipy.special.expit", None, _np_sigmoid),
    "log_sigmoid": Peer("-np.logaddexp(0, -x)", None, _np_log_sigmoid),
    "cross_entropy": Peer("scipy log_softmax + take_along_axis", 1.0, _np_cross_entropy),
    "binary_cross_entropy": Peer("NumPy composition", None, _np_bce),
    "binary_cross_entropy_with_logits": Peer("NumPy composition", None, _np_bce_with_logits),
}

# --------------------------------------------------------------------------- PyTorch


def _torch_side(attr: str, inputs: tuple[str, ...], **kwargs: Any) -> Callable[[], Side]:
    def load() -> Side:
        import torch
        import torch.nn.functional as F  # noqa: N812

        fn = getattr(F, attr) if hasattr(F, attr) else getattr(torch, attr)
        return Side(lambda *a: fn(*a, **kwargs), inputs)

    return load


_TORCH = {
    "softmax": Peer("torch.softmax", 2.0, _torch_side("softmax", ("logits",), dim=-1)),
    "log_softmax": Peer(
        "torch.log_softmax", 2.0, _torch_side("log_softmax", ("logits",), dim=-1)
    ),
    "logsumexp": Peer("torch.logsumexp", None, _torch_side("logsumexp", ("logits",), dim=-1)),
    "sigmoid": Peer("torch.sigmoid", None, _torch_side("sigmoid", ("logits",))),
    "log_sigmoid": Peer("F.logsigmoid", None, _torch_side("logsigmoid", ("logits",))),
    "cross_entropy": Peer(
        "F.cross_entropy", 2.0, _torch_side("cross_entropy", ("logits", "labels"))
    ),
    "binary_cross_entropy": Peer(
        "F.binary_cross_entropy", None, _torch_side("binary_cross_entropy", ("probs", "binary"))
    ),
    "binary_cross_entropy_with_logits": Peer(
        "F.binary_cross_entropy_with_logits",
        None,
        _torch_side("binary_cross_entropy_with_logits", ("logits", "binary")),
    ),
}

# --------------------------------------------------------------------------- JAX


def _jax_nn(attr: str, **kwargs: Any) -> Callable[[], Side]:
    def load() -> Side:
        import jax

        fn = getattr(jax.nn, attr)
        return Side(lambda x: fn(x, **kwargs), ("logits",))

    return load


def _optax_ce() -> Side:
    import optax

    return Side(
        lambda x, t: optax.softmax_cross_entropy_with_integer_labels(x, t).mean(),
        ("logits", "labels"),
    )


def _optax_bce_with_logits() -> Side:
    import optax

    return Side(
        lambda x, t: optax.sigmoid_binary_cross_entropy(x, t).mean(), ("logits", "binary")
    )


def _jnp_bce() -> Side:
    import jax.numpy as jnp

    def bce(p: Any, t: Any) -> Any:
        log_p = jnp.maximum(jnp.log(p), -100)
        log_1mp = jnp.maximum(jnp.log1p(-p), -100)
        return -jnp.mean(t * log_p + (1 - t) * log_1mp)

    return Side(bce, ("probs", "binary"))


_JAX = {
    "softmax": Peer("jax.nn.softmax", 1.5, _jax_nn("softmax", axis=-1)),
    "log_softmax": Peer("jax.nn.log_softmax", 1.5, _jax_nn("log_softmax", axis=-1)),
    "logsumexp": Peer("jax.nn.logsumexp", None, _jax_nn("logsumexp", axis=-1)),
    "sigmoid": Peer("jax.nn.sigmoid", None, _jax_nn("sigmoid")),
    "log_sigmoid": Peer("jax.nn.log_sigmoid", None, _jax_nn("log_sigmoid")),
    "cross_entropy": Peer("optax.softmax_cross_entropy_with_integer_labels", 1.5, _optax_ce),
    "binary_cross_entropy": Peer("jnp composition", None, _jnp_bce),
    "binary_cross_entropy_with_logits": Peer(
        "optax.sigmoid_binary_cross_entropy", None, _optax_bce_with_logits
    ),
}

_PEERS = {"numpy": _NUMPY, "torch": _TORCH, "jax": _JAX}


def peers_for(library: str) -> dict[str, Peer]:
    """The peer of every op for ``library`` ("numpy", "torch" or "jax")."""
    return _PEERS[library]
