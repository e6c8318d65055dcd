"""Namespace, device and dtype helpers shared by every op."""

from __future__ import annotations

import sys
from typing import Any

import array_api_compat
import numpy as np
from array_api_compat import array_namespace, device, is_array_api_obj

__all__ = [
    "index_device",
    "array_namespace",
    "device",
    "is_array_api_obj",
    "is_concrete",
    "values_readable",
    "is_real_floating",
    "is_integer",
    "default_float",
    "default_int",
    "as_default_int",
    "can_mutate",
    "as_array",
]


def is_concrete(x: Any) -> bool:
    """True when the values of ``x`` can be read now.

    False only for JAX tracers (under ``jit``/``grad``/``vmap``) and for Dask arrays,
    the two cases where reading values would break the transformation or force a
    compute. array-api-compat's ``is_lazy_array`` is True for every JAX array, eager
    ones too, so it is the wrong test for "may I validate values here".
    """
    if array_api_compat.is_dask_array(x):
        return False
    if "jax" in sys.modules and array_api_compat.is_jax_array(x):
        import jax

        return not isinstance(x, jax.core.Tracer)
    return True


def values_readable(xp: Any, x: Any) -> bool:
    """True when values derived from ``x`` can be read now.

    Stricter than :func:`is_concrete`: inside ``jax.jit`` even a concrete array closed
    over by the traced function gives traced results, so a tiny derived array is probed.
    """
    return is_concrete(x) and is_concrete(xp.reshape(x, (-1,))[:0])


def is_real_floating(xp: Any, x: Any) -> bool:
    return bool(xp.isdtype(x.dtype, "real floating"))


def is_integer(xp: Any, x: Any) -> bool:
    return bool(xp.isdtype(x.dtype, "integral"))


def _default_dtypes(xp: Any, dev: Any) -> dict:
    info = xp.__array_namespace_info__()
    try:
        return info.default_dtypes(device=dev)
    except (TypeError, ValueError):  # some namespaces only describe their default device
        return info.default_dtypes()


def default_float(xp: Any, dev: Any) -> Any:
    """The namespace's default real floating dtype on ``dev`` (float32 for JAX without x64)."""
    return _default_dtypes(xp, dev)["real floating"]


def default_int(xp: Any, dev: Any) -> Any:
    """The namespace's default integer dtype on ``dev`` (int32 where int64 is absent)."""
    return _default_dtypes(xp, dev)["integral"]


def as_default_int(xp: Any, x: Any) -> Any:
    """Labels in the namespace's default integer dtype, for index arithmetic and
    comparisons: ``target * K + preds`` in uint8 wraps past 255, and torch compares a
    uint8 tensor with ``-100`` as with 156."""
    dtype = default_int(xp, device(x))
    return x if x.dtype == dtype else xp.astype(x, dtype)


def can_mutate(x: Any) -> bool:
    """True when intermediates derived from ``x`` may be updated in place.

    Only for NumPy: in-place updates save a full-size allocation there, while JAX
    arrays are immutable and torch autograd rejects in-place edits of saved tensors.
    """
    return array_api_compat.is_numpy_array(x)


def as_array(xp: Any, x: Any) -> Any:
    """``x`` as a 0-d array where a NumPy reduction handed back a NumPy scalar."""
    if isinstance(x, np.generic):
        return xp.asarray(x)
    return x


def index_device(xp: Any, x: Any) -> Any:
    """Where to sort and count when ``x``'s device cannot: else None.

    array-api-strict 2.6 returns int64 from argsort, argmax, nonzero and integer
    cumulative sums even on its ``no_x64`` device, which rejects int64; there the
    computation runs on the default device and only the float results move back.
    """
    if not array_api_compat.is_array_api_strict_namespace(xp):
        return None
    if default_int(xp, device(x)) == xp.int64:
        return None
    return xp.__array_namespace_info__().default_device()
