"""Delegation to a library's own kernel where its semantics equal the spec exactly.

An op validates its arguments first, then may hand the computation to a native fused
kernel (``torch.softmax`` is one pass where the standard needs several full-size
temporaries). Delegation is taken only for option combinations whose native semantics
match the spec on every input, which the conformance suite checks with natives on and
off. ``natives_disabled()`` forces the pure array-API path, for tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any

__all__ = [
    "natives_disabled", "natives_enabled", "native_torch", "native_jax", "jit_on_jax",
    "native_jax_jit",
]
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

__all__ = ["natives_disabled", "natives_enabled", "native_torch", "jax_compiled"]

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


def jit_on_jax(fn: Callable[..., Any], /, *arrays: Any, **static: Hashable) -> Any:
    """``fn(*arrays, **static)``, compiled as one program where the arrays are eager JAX
    arrays.

    Eager JAX compiles every operation separately for each new shape, which makes a
    kernel of a few dozen small operations cost seconds on first sight of a shape; one
    program per shape costs a fraction of that. Inside a trace (``jit``, ``grad``), for
    other libraries and under :func:`natives_disabled`, ``fn`` runs as it is. The keyword
    arguments are static (hashable): a new value compiles a new program.
    """
    jax = sys.modules.get("jax")
    if not _ENABLED.get() or jax is None or not arrays:
        return fn(*arrays, **static)
    if not all(isinstance(a, jax.Array) and not isinstance(a, jax.core.Tracer) for a in arrays):
        return fn(*arrays, **static)
    return _jitted(fn, tuple(sorted(static)))(*arrays, **static)


@functools.cache
def _jitted(fn: Callable[..., Any], static_names: tuple[str, ...]) -> Callable[..., Any]:
    import jax

    return jax.jit(fn, static_argnames=static_names)


def native_jax(*arrays: Any) -> Any:
    """The ``jax`` module when delegation is on and every array is a JAX array (tracers
    included, so delegation holds under ``jit`` and ``grad``)."""
    if not _ENABLED.get() or "jax" not in sys.modules:
        return None
    jax = sys.modules["jax"]
    if all(isinstance(a, jax.Array) for a in arrays if a is not None):
        return jax
    return None


_JITTED: dict[Any, Any] = {}


def native_jax_jit(fn: Any, *arrays: Any, **static: Any) -> Any:
    """``fn(*arrays, **static)`` compiled whole by ``jax.jit`` when the arrays are JAX's.

    Eager JAX dispatches and compiles every small operation separately for each new
    shape; one compiled function per (fn, static options) is many times faster. Returns
    None when delegation is off or the arrays are not JAX arrays. ``fn`` must run under
    tracing (no value-dependent Python control flow).
    """
    if not _ENABLED.get() or "jax" not in sys.modules:
        return None
    jax = sys.modules["jax"]
    if not all(isinstance(a, jax.Array) for a in arrays):
        return None
    key = (fn, tuple(sorted(static.items())))
    compiled = _JITTED.get(key)
    if compiled is None:
        import functools

        compiled = _JITTED[key] = jax.jit(functools.partial(fn, **static))
    return compiled(*arrays)
@functools.cache
def _jitted(fn: Callable[..., Any], static_argnames: tuple[str, ...]) -> Callable[..., Any]:
    import jax

    return jax.jit(fn, static_argnames=static_argnames)


def jax_compiled(
    fn: Callable[..., Any], *arrays: Any, static_argnames: tuple[str, ...] = ()
) -> Callable[..., Any]:
    """``jax.jit(fn)`` when delegation is on and every array is a JAX array, else ``fn``.

    For ops made of many small array-API calls: eager JAX compiles and dispatches each
    call (and, under ``jax.grad``, each of its derivatives) on its own, while one jitted
    function compiles once per shape. Inside an outer ``jit`` the inner one is inlined.
    ``fn`` is the op's own array-API code either way, only traced instead of run eagerly.
    """
    if not _ENABLED.get() or "jax" not in sys.modules:
        return fn
    jax = sys.modules["jax"]
    if all(isinstance(a, jax.Array) for a in arrays if a is not None):
        return _jitted(fn, static_argnames)
    return fn
