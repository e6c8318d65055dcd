"""Primitives some namespaces lack, each with a native path and a pure-standard fallback."""

from __future__ import annotations

import sys
from typing import Any

import array_api_compat

from .namespace import device

__all__ = ["take_along_last_axis", "stop_gradient"]


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
