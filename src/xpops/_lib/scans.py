"""Cumulative maximum along the last axis, which the array API standard lacks.

Native paths: ``np.maximum.accumulate``, ``torch.cummax`` and ``jax.lax.cummax``
(when delegation is on, see :mod:`xpops._lib.native`). The pure-standard fallback is
a Hillis-Steele scan: ``ceil(log2 n)`` passes, each the elementwise maximum of the
array and itself shifted by a power of two. Exact (a maximum never rounds), O(n log n)
work, and jit-able.
"""

from __future__ import annotations

from typing import Any

import array_api_compat

from .native import natives_enabled

__all__ = ["cumulative_max", "reverse_cumulative_max"]


def cumulative_max(xp: Any, x: Any, /) -> Any:
    """``out[..., i] = max(x[..., :i + 1])`` for a real array of any rank >= 1.

    NaN handling is unspecified (callers validate): the native kernels propagate NaN,
    the fallback's ``maximum`` does too on every backend tested.
    """
    if x.shape[-1] == 0:
        return x
    if natives_enabled():
        out = _native_cumulative_max(x)
        if out is not None:
            return out
    n = x.shape[-1]
    shift = 1
    while shift < n:  # a loop over log2(n) passes, not over elements
        x = xp.concat((x[..., :shift], xp.maximum(x[..., shift:], x[..., :-shift])), axis=-1)
        shift *= 2
    return x


def reverse_cumulative_max(xp: Any, x: Any, /) -> Any:
    """``out[..., i] = max(x[..., i:])``: the suffix maximum (a precision envelope)."""
    axis = x.ndim - 1
    return xp.flip(cumulative_max(xp, xp.flip(x, axis=axis)), axis=axis)


def _native_cumulative_max(x: Any) -> Any:
    if array_api_compat.is_numpy_array(x):
        import numpy as np

        return np.maximum.accumulate(x, axis=-1)
    if array_api_compat.is_torch_array(x):
        import torch

        return torch.cummax(x, dim=-1).values
    if array_api_compat.is_jax_array(x):
        import jax

        return jax.lax.cummax(x, axis=x.ndim - 1)
    return None
