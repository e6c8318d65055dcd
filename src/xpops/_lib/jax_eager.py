"""Running array-API code fast on JAX arrays.

Outside ``jax.jit``, JAX compiles every primitive for every new shape, so an op made of
a few dozen standard calls pays a few dozen compilations per input size (and, under
``jax.grad``, as many again for their derivatives). Two ways out, both taken only while
delegation is on (see :mod:`xpops._lib.native`), so that ``natives_disabled()`` still
runs the plain array-API code op by op:

- :func:`run_compiled`: fixed-shape code is traced once under ``jax.jit`` per input
  shape and static arguments (inside a user's own ``jax.jit`` it is simply inlined);
- :func:`host_arrays`: code with data-dependent shapes (detection evaluation) runs on
  host NumPy copies of concrete JAX arrays; the caller moves the results back.

The code that runs is the op's own array-API function either way.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .namespace import default_int, is_concrete
from .native import natives_enabled

__all__ = ["on_jax", "run_compiled", "host_arrays", "from_host", "as_pytree"]


def _leaves(arrays: tuple[Any, ...]) -> list[Any]:
    """The arrays, those inside mapping arguments (parameter sets) included; None dropped."""
    out: list[Any] = []
    for a in arrays:
        out += [v for v in a.values() if v is not None] if isinstance(a, Mapping) else [a]
    return [a for a in out if a is not None]


def on_jax(*arrays: Any) -> bool:
    """Delegation is on and every (non-None) array is a JAX array, tracers included."""
    jax = sys.modules.get("jax")
    present = _leaves(arrays)
    return (
        bool(present) and natives_enabled() and jax is not None
        and all(isinstance(a, jax.Array) for a in present)
    )


@functools.cache
def _jitted(
    fn: Callable[..., Any], n_arrays: int, n_static: int, static_names: tuple[str, ...]
) -> Callable[..., Any]:
    import jax

    static_argnums = tuple(range(n_arrays, n_arrays + n_static))
    return jax.jit(fn, static_argnums=static_argnums, static_argnames=static_names)


def run_compiled(fn: Callable[..., Any], arrays: tuple[Any, ...], /, *static: Any,
                 **static_kw: Any) -> Any:
    """``fn(*arrays, *static, **static_kw)``, as one compiled program on JAX arrays.

    ``arrays`` may hold None and mappings of arrays; ``static`` and ``static_kw`` values
    must be hashable: each new value compiles a new program.
    """
    if not on_jax(*arrays):
        return fn(*arrays, *static, **static_kw)
    compiled = _jitted(fn, len(arrays), len(static), tuple(sorted(static_kw)))
    return compiled(*arrays, *static, **static_kw)


def host_arrays(*arrays: Any) -> tuple[Any, ...] | None:
    """NumPy copies of concrete JAX arrays (None stays None), or None when not all are."""
    if not on_jax(*arrays) or not all(a is None or is_concrete(a) for a in arrays):
        return None
    return tuple(None if a is None else np.asarray(a) for a in arrays)


def from_host(xp: Any, x: Any, home: Any) -> Any:
    """A NumPy result of :func:`host_arrays` work back as an array of ``xp`` on ``home``:
    integers in ``xp``'s default integer dtype there, other dtypes unchanged."""
    integral = x.dtype.kind in "iu"
    return xp.asarray(x, dtype=default_int(xp, home) if integral else None, device=home)


_PYTREES: set[type] = set()


def as_pytree(result: Any) -> Any:
    """``result``, a dataclass of arrays, with its class registered as a JAX pytree once
    JAX is imported, so that ``jax.jit`` and ``jax.vmap`` of an op can return it.

    Registration waits for the first result built after ``import jax``: xpops itself
    never imports JAX.
    """
    cls = type(result)
    if cls not in _PYTREES and "jax" in sys.modules:
        import dataclasses

        fields = [f.name for f in dataclasses.fields(cls)]
        sys.modules["jax"].tree_util.register_dataclass(
            cls, data_fields=fields, meta_fields=[]
        )
        _PYTREES.add(cls)
    return result
