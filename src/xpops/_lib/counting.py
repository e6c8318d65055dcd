"""Counting: a bincount with a static length, which the array API standard lacks.

Native paths: ``np.bincount``, ``torch.bincount``, ``jax.ops.segment_sum``,
``cupy.bincount`` and ``dask.array.bincount``, taken only while delegation is on (see
:mod:`xpops._lib.native`). The pure-standard fallback compares blocks of values against
every bin and sums the hits: exact, memory bounded by ``_BLOCK_ELEMENTS`` comparisons per
block, but O(n * length) work, so it suits the namespaces without a native count
(array-api-strict) rather than large label sets.
(A sort + ``searchsorted`` fallback would be O(n log n), but a cumulative sum of
weights in sorted order loses float32 precision to cancellation.)
"""

from __future__ import annotations

from typing import Any

import array_api_compat

from .namespace import default_int, device
from .native import natives_enabled

__all__ = ["bincount"]

_BLOCK_ELEMENTS = 1 << 22


def bincount(xp: Any, x: Any, /, *, length: int, weights: Any = None) -> Any:
    """Counts (or summed ``weights``) of each value of ``x`` in ``[0, length)``.

    ``x`` is an integer array of any shape (flattened); its values must lie in
    ``[0, length)``, which callers validate. The result has shape ``(length,)`` and the
    namespace's default integer dtype, or the dtype of ``weights``.
    """
    flat = xp.reshape(x, (-1,))
    w = None if weights is None else xp.reshape(weights, (-1,))
    out_dtype = default_int(xp, device(x)) if w is None else w.dtype
    if natives_enabled():
        counts = _native_bincount(xp, flat, length, w)
        if counts is not None:
            return counts if counts.dtype == out_dtype else xp.astype(counts, out_dtype)
    return _onehot_bincount(xp, flat, length, w, out_dtype)


def _native_bincount(xp: Any, flat: Any, length: int, w: Any) -> Any:
    if array_api_compat.is_numpy_array(flat) or array_api_compat.is_cupy_array(flat):
        lib = __import__("cupy" if array_api_compat.is_cupy_array(flat) else "numpy")
        return xp.asarray(lib.bincount(flat, weights=w, minlength=length)[:length])
    if array_api_compat.is_torch_array(flat):
        import torch

        return torch.bincount(flat, weights=w, minlength=length)[:length]
    if array_api_compat.is_jax_array(flat):
        import jax

        ones = xp.ones(flat.shape, dtype=default_int(xp, device(flat))) if w is None else w
        return jax.ops.segment_sum(ones, flat, num_segments=length)
    if array_api_compat.is_dask_array(flat):
        import dask.array as da

        return da.bincount(flat, weights=w, minlength=length)[:length]
    return None


def _onehot_bincount(xp: Any, flat: Any, length: int, w: Any, out_dtype: Any) -> Any:
    dev = device(flat)
    bins = xp.arange(length, dtype=flat.dtype, device=dev)
    one = xp.ones((), dtype=out_dtype, device=dev) if w is None else None
    zero = xp.zeros((), dtype=out_dtype, device=dev)
    totals = xp.zeros((length,), dtype=out_dtype, device=dev)
    n = flat.shape[0]
    block = max(1, _BLOCK_ELEMENTS // max(length, 1))
    for start in range(0, n, block):  # a loop over blocks, not elements
        stop = min(start + block, n)  # the standard leaves out-of-bounds stops unspecified
        hits = flat[start:stop, None] == bins[None, :]
        value = one if w is None else w[start:stop, None]
        totals = totals + xp.sum(xp.where(hits, value, zero), axis=0, dtype=out_dtype)
    return totals
