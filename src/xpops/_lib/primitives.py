"""Primitives some namespaces lack, each with a native path and a pure-standard fallback."""

from __future__ import annotations

from typing import Any

import array_api_compat

from .namespace import can_mutate, device

__all__ = ["take_along_last_axis", "clamped_root", "set_masked"]


def take_along_last_axis(xp: Any, x: Any, index: Any, *, native: bool = True) -> Any:
    """``x[..., index[..., j]]`` for ``index`` of shape ``(*batch, k)``.

    ``take_along_axis`` joined the standard in 2024.12; namespaces from before (Dask's
    array-api-compat wrapper among them) get a one-hot fallback, which costs one
    comparison per class and stays lazy.
    """
    if native and hasattr(xp, "take_along_axis"):
        return xp.take_along_axis(x, index, axis=-1)
    num_classes = x.shape[-1]
    classes = xp.arange(num_classes, dtype=index.dtype, device=device(index))
    hits = index[..., :, None] == classes  # (*batch, k, C)
    zero = xp.zeros((), dtype=x.dtype, device=device(x))
    return xp.sum(xp.where(hits, x[..., None, :], zero), axis=-1)


def clamped_root(xp: Any, x: Any, *, root: bool, native: bool = True) -> tuple[Any, Any]:
    """``(sqrt(max(x, 0)) if root else max(x, 0), row minima of max(x, 0))`` of a 2-D ``x``.

    ``x`` is consumed: the caller's own intermediate, which the NumPy path overwrites.
    There the three steps run on blocks of rows that stay in cache, one memory pass
    instead of three full-size temporaries; elsewhere they are standard calls.
    """
    if native and can_mutate(x) and x.ndim == 2:
        import numpy as np

        minima = np.empty(x.shape[0], dtype=x.dtype)
        rows = max(1, (1 << 16) // max(1, x.shape[1]))
        for start in range(0, x.shape[0], rows):  # a loop over blocks of rows
            block = x[start : start + rows]
            np.maximum(block, 0, out=block)
            if block.shape[1]:
                np.min(block, axis=1, out=minima[start : start + rows])
            if root:
                np.sqrt(block, out=block)
        return x, minima
    x = xp.maximum(x, xp.zeros((), dtype=x.dtype, device=device(x)))
    minima = xp.min(x, axis=1) if x.shape[1] else xp.zeros(x.shape[0], dtype=x.dtype,
                                                             device=device(x))
    return (xp.sqrt(x) if root else x), minima


def set_masked(xp: Any, x: Any, mask: Any, values: Any) -> Any:
    """``x`` with ``x[mask] = values`` (``values`` in row-major order of ``mask``).

    ``x`` is the caller's own intermediate: NumPy and namespaces with item assignment
    update it in place; torch (whose autograd may have saved ``x``) and JAX (immutable)
    return a new array.
    """
    if array_api_compat.is_torch_array(x):
        return x.index_put((mask,), values)
    if array_api_compat.is_jax_array(x):
        return x.at[mask].set(values)
    x[mask] = values
    return x
