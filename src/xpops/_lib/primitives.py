"""Primitives some namespaces lack, each with a native path and a pure-standard fallback.

Native fast paths are taken only while delegation is on (see :mod:`xpops._lib.native`).
"""

from __future__ import annotations

import sys
from typing import Any

import array_api_compat

from .namespace import can_mutate, default_int, device, is_concrete
from .native import natives_enabled

__all__ = [
    "take_along_last_axis", "stop_gradient", "clamped_root", "set_masked", "nonzero_padded",
    "set_pairs", "argsort_last", "argmax_last", "whole_axis",
]


def whole_axis(x: Any, axis: int) -> Any:
    """``x`` with ``axis`` in one chunk on Dask, else ``x`` itself.

    For the contraction axis of a matrix product: Dask then forms each output block in
    one product, as NumPy does, instead of summing partial products of the axis's chunks
    (which rounds differently and holds the partial blocks in memory).
    """
    if array_api_compat.is_dask_array(x) and len(x.chunks[axis]) > 1:
        return x.rechunk({axis: -1})
    return x


def take_along_last_axis(xp: Any, x: Any, index: Any, *, one_hot: bool = False) -> Any:
    """``x[..., index[..., j]]`` for ``index`` of shape ``(*batch, k)``.

    ``take_along_axis`` joined the standard in 2024.12; namespaces from before (Dask's
    array-api-compat wrapper among them) get a one-hot fallback, which costs one
    comparison per class and stays lazy. ``take_along_axis`` is the standard's own
    function, not a native kernel, so it runs under ``natives_disabled()`` too;
    ``one_hot=True`` forces the fallback (tests).
    """
    if not one_hot and hasattr(xp, "take_along_axis"):
        return xp.take_along_axis(x, index, axis=-1)
    num_classes = x.shape[-1]
    classes = xp.arange(num_classes, dtype=index.dtype, device=device(index))
    hits = index[..., :, None] == classes  # (*batch, k, C)
    zero = xp.zeros((), dtype=x.dtype, device=device(x))
    return xp.sum(xp.where(hits, x[..., None, :], zero), axis=-1)


def stop_gradient(x: Any) -> Any:
    """``x`` as a constant for autodiff: ``Tensor.detach`` on torch, ``jax.lax.stop_gradient``
    on JAX.

    The standard has no autodiff; namespaces without one (NumPy, array-api-strict, Dask)
    get ``x`` back unchanged, which is all a constant means there.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach()
    if "jax" in sys.modules and array_api_compat.is_jax_array(x):
        import jax

        return jax.lax.stop_gradient(x)
    return x


def clamped_root(xp: Any, x: Any, *, root: bool) -> tuple[Any, Any]:
    """``(y, row minima of y)`` for ``y = sqrt(max(x, 0)) if root else max(x, 0)``, 2-D.

    ``x`` is consumed: the caller's own intermediate, which the NumPy and torch paths
    overwrite. On NumPy the steps run on blocks of rows that stay in cache, one memory
    pass instead of full-size temporaries. With ``root``, those two in-place paths take
    the square root without clamping first: negative entries come out NaN, and so does
    the minimum of their row, which the caller must then repair (``~(d >= bound)``
    selects them). Elsewhere, and under ``natives_disabled()``, the result is clamped and
    never NaN for finite ``x``.
    """
    if natives_enabled() and (found := _native_clamped_root(x, root)) is not None:
        return found
    x = xp.maximum(x, xp.zeros((), dtype=x.dtype, device=device(x)))
    if root:
        x = xp.sqrt(x)
    minima = xp.min(x, axis=1) if x.shape[1] else xp.zeros(x.shape[0], dtype=x.dtype,
                                                             device=device(x))
    return x, minima


def _native_clamped_root(x: Any, root: bool) -> tuple[Any, Any] | None:
    if can_mutate(x) and x.ndim == 2 and x.shape[1]:
        import numpy as np

        minima = np.empty(x.shape[0], dtype=x.dtype)
        rows = max(1, (1 << 16) // x.shape[1])
        with np.errstate(invalid="ignore"):
            for start in range(0, x.shape[0], rows):  # a loop over blocks of rows
                block = x[start : start + rows]
                if root:
                    np.sqrt(block, out=block)
                else:
                    np.maximum(block, 0, out=block)
                np.min(block, axis=1, out=minima[start : start + rows])
        return x, minima
    if array_api_compat.is_torch_array(x) and not x.requires_grad and x.shape[1]:
        x = x.sqrt_() if root else x.clamp_min_(0)  # in place: outside autograd
        return x, x.amin(dim=1)
    return None


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


def nonzero_padded(xp: Any, mask: Any, size: int) -> tuple[Any, Any]:
    """(rows, cols) of the first ``size`` True entries of a 2-D ``mask`` in row-major
    order, padded with ``(0, 0)``: a static shape, so it runs under ``jax.jit``.

    A traced JAX mask takes ``jnp.nonzero(size=...)`` even under ``natives_disabled()``:
    the fallback's boolean indexing has no traced form.
    """
    if array_api_compat.is_jax_array(mask) and (natives_enabled() or not is_concrete(mask)):
        return _jax_nonzero_padded(mask, size)
    dev = device(mask)
    grid = (xp.arange(mask.shape[0], device=dev)[:, None], xp.arange(mask.shape[1], device=dev))
    rows = xp.broadcast_to(grid[0], mask.shape)[mask]
    cols = xp.broadcast_to(grid[1][None, :], mask.shape)[mask]
    rows, cols = rows[: min(size, rows.shape[0])], cols[: min(size, cols.shape[0])]
    pad = xp.zeros(size - rows.shape[0], dtype=rows.dtype, device=device(rows))
    return xp.concat([rows, pad]), xp.concat([cols, pad])


def _jax_nonzero_padded(mask: Any, size: int) -> tuple[Any, Any]:
    import jax.numpy as jnp

    rows, cols = jnp.nonzero(mask, size=size, fill_value=0)
    return rows, cols


def set_pairs(xp: Any, x: Any, rows: Any, cols: Any, values: Any) -> Any:
    """``x`` with ``x[rows[i], cols[i]] = values[i]`` (repeated pairs must carry equal
    values). ``x`` is the caller's intermediate; JAX and torch return a new array."""
    if array_api_compat.is_jax_array(x):
        return x.at[rows, cols].set(values)
    if array_api_compat.is_torch_array(x):
        return x.index_put((rows, cols), values)
    # standard: integer-array assignment is not in the standard; a one-hot over the
    # entries (P x size) suits the small inputs that reach this fallback
    flat = xp.reshape(x, (-1,))
    where_to = rows * x.shape[1] + cols
    hits = where_to[:, None] == xp.arange(flat.shape[0], dtype=where_to.dtype,
                                          device=device(x))[None, :]
    zero = xp.zeros((), dtype=x.dtype, device=device(x))
    total = xp.sum(xp.where(hits, values[:, None], zero), axis=0)
    count = xp.sum(xp.astype(hits, x.dtype), axis=0)
    safe = xp.where(count > 0, count, xp.ones_like(count))
    return xp.reshape(xp.where(count > 0, total / safe, flat), x.shape)


def _strict_without_int64(xp: Any, x: Any) -> bool:
    """array-api-strict 2.6 returns int64 from argsort and argmax even on its ``no_x64``
    device, which then rejects the result."""
    return bool(array_api_compat.is_array_api_strict_namespace(xp)) and (
        default_int(xp, device(x)) != xp.int64
    )


def argsort_last(xp: Any, x: Any) -> Any:
    """Stable ``argsort`` along the last axis, in the default integer dtype of ``x``'s
    device (array-api-strict without int64 sorts on its default device)."""
    if not _strict_without_int64(xp, x):
        return xp.argsort(x, axis=-1, stable=True)
    home = device(x)
    order = xp.argsort(xp.asarray(x, device=xp.__array_namespace_info__().default_device()),
                       axis=-1, stable=True)
    return xp.asarray(xp.astype(order, default_int(xp, home)), device=home)


def argmax_last(xp: Any, x: Any) -> Any:
    """Index of the first maximum along the last axis, in the default integer dtype."""
    int_dtype = default_int(xp, device(x))
    if not _strict_without_int64(xp, x):
        index = xp.argmax(x, axis=-1)
        return index if index.dtype == int_dtype else xp.astype(index, int_dtype)
    index = xp.arange(x.shape[-1], dtype=int_dtype, device=device(x))
    at_max = x == xp.max(x, axis=-1, keepdims=True)
    return xp.min(xp.where(at_max, index, xp.full_like(index, x.shape[-1])), axis=-1)
