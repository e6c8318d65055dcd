"""Run a pure array-API function compiled once per shape when its inputs are JAX arrays.

Eager JAX dispatches (and compiles, per shape) every operation on its own: a pooling
window loop is some twenty small programs. Under ``jax.jit`` the same code is one
program. :func:`call_compiled` jits the function on JAX arrays (tracers included: an
inner ``jit`` is inlined into the outer one) and calls it directly on other namespaces.
The code that runs is the same array-API function either way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import array_api_compat

__all__ = ["call_compiled"]


@functools.cache
def _jitted(fn: Callable[..., Any], n_arrays: int, n_static: int) -> Callable[..., Any]:
    import jax

    return jax.jit(fn, static_argnums=tuple(range(n_arrays, n_arrays + n_static)))


def call_compiled(fn: Callable[..., Any], arrays: tuple[Any, ...], static: tuple[Any, ...]) -> Any:
    """``fn(*arrays, *static)``; jitted with ``static`` (hashable) as static arguments
    when an array is a JAX array."""
    if any(array_api_compat.is_jax_array(a) for a in arrays if a is not None):
        return _jitted(fn, len(arrays), len(static))(*arrays, *static)
    return fn(*arrays, *static)
