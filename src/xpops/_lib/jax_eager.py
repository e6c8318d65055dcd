"""Running array-API code fast on eager JAX arrays.

Outside ``jax.jit``, JAX compiles every primitive for every new shape, so an op made of
a few dozen standard calls pays a few dozen compilations per input size. Two ways out,
both taken only while delegation is on (see :mod:`xpops._lib.native`), so that
``natives_disabled()`` still runs the plain array-API code on JAX:

- :func:`jitted`: fixed-shape code is traced once under ``jax.jit`` per input shape
  (inside a user's own ``jax.jit`` it is simply inlined);
- :func:`host_arrays`: code with data-dependent shapes (detection evaluation) runs on
  host NumPy copies of concrete JAX arrays; the caller moves the results back.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np

from .namespace import is_concrete
from .native import natives_enabled

__all__ = ["jitted", "host_arrays"]

_JITTED: dict[tuple[Any, ...], Callable[..., Any]] = {}


def _all_jax(arrays: tuple[Any, ...]) -> bool:
    present = [a for a in arrays if a is not None]
    return (
        bool(present) and natives_enabled() and "jax" in sys.modules
        and all(array_api_compat.is_jax_array(a) for a in present)
    )


def jitted(fn: Callable[..., Any], xp: Any, *arrays: Any, **static: Any) -> Any:
    """``fn(xp, *arrays, **static)``, under ``jax.jit`` when every array is a JAX array.

    ``static`` values must be hashable; they key the cache of compiled functions.
    """
    if not _all_jax(arrays):
        return fn(xp, *arrays, **static)
    import jax

    key = (fn, id(xp), tuple(sorted(static.items())))
    compiled = _JITTED.get(key)
    if compiled is None:
        compiled = _JITTED[key] = jax.jit(functools.partial(fn, xp, **static))
    return compiled(*arrays)


def host_arrays(*arrays: Any) -> tuple[Any, ...] | None:
    """NumPy copies of concrete JAX arrays (None stays None), or None when not all are."""
    if not _all_jax(arrays) or not all(a is None or is_concrete(a) for a in arrays):
        return None
    return tuple(None if a is None else np.asarray(a) for a in arrays)
