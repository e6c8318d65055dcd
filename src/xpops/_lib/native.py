"""Delegation to a library's own kernel where its semantics equal the spec exactly.

An op validates its arguments first, then may hand the computation to a native fused
kernel (``torch.softmax`` is one pass where the standard needs several full-size
temporaries). Delegation is taken only for option combinations whose native semantics
match the spec on every input, which the conformance suite checks with natives on and
off. ``natives_disabled()`` forces the pure array-API path, for tests and benchmarks:
every native fast path reads this switch, the ``_lib`` primitives' kernels (bincount,
top-k, scans, padding, in-place passes) and the host NumPy paths for eager JAX included.
Only what has no pure form stays, such as ``jax.lax.while_loop`` on traced values.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

__all__ = ["natives_disabled", "natives_enabled", "native_torch", "native_jax"]

_ENABLED: ContextVar[bool] = ContextVar("xpops_natives", default=True)


def natives_enabled() -> bool:
    return _ENABLED.get()


@contextlib.contextmanager
def natives_disabled() -> Iterator[None]:
    """Run every op on its pure array-API path inside this block."""
    token = _ENABLED.set(False)
    try:
        yield
    finally:
        _ENABLED.reset(token)


def native_torch(*arrays: Any) -> Any:
    """The ``torch`` module when delegation is on and every array is a torch tensor."""
    if not _ENABLED.get() or "torch" not in sys.modules:
        return None
    torch = sys.modules["torch"]
    if all(isinstance(a, torch.Tensor) for a in arrays if a is not None):
        return torch
    return None


def native_jax(*arrays: Any) -> Any:
    """The ``jax`` module when delegation is on and every array is a JAX array (tracers
    included, so delegation holds under ``jit`` and ``grad``)."""
    if not _ENABLED.get() or "jax" not in sys.modules:
        return None
    jax = sys.modules["jax"]
    if all(isinstance(a, jax.Array) for a in arrays if a is not None):
        return jax
    return None
