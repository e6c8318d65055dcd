"""Compute elsewhere, bring back: an op's array-API code run where it runs well.

Two kinds of input run an op's own code badly where they live:

- eager JAX arrays, for code whose shapes depend on values (sorting, matching, NMS):
  JAX would compile every primitive for every new shape, so the work runs on host NumPy
  copies (:func:`~xpops._lib.jax_eager.host_arrays`). This is a native shortcut:
  under ``natives_disabled()`` the code runs on the JAX arrays themselves;
- arrays on array-api-strict's ``no_x64`` device, which rejects the int64 indices its
  own ``argsort`` and ``nonzero`` return (:func:`~xpops._lib.namespace.index_device`):
  the work runs on the default device. This is no shortcut but the only way to sort
  there, taken whatever the switch.

Either way the results come back as arrays of the inputs' namespace on their device,
integers in that namespace's default integer dtype there (int32 for JAX without x64 and
on ``no_x64``), other dtypes unchanged. Arguments and results may be arrays, None, and
tuples, lists, dicts or dataclasses of them; other values (floats, strings) pass through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from .jax_eager import from_host, host_arrays
from .namespace import array_namespace, default_int, device, index_device, is_array_api_obj

__all__ = ["compute_elsewhere", "bring_home", "host_first"]


def _leaves(obj: Any) -> list[Any]:
    """The arrays inside ``obj``, in the order :func:`_map_arrays` visits them."""
    out: list[Any] = []

    def keep(a: Any) -> Any:
        out.append(a)
        return a

    _map_arrays(keep, obj)
    return out


def _map_arrays(fn: Callable[[Any], Any], obj: Any) -> Any:
    """``obj`` with ``fn`` applied to every array inside it, its structure kept."""
    if obj is None or isinstance(obj, (str, bytes)):
        return obj
    if is_array_api_obj(obj):
        return fn(obj)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_map_arrays(fn, item) for item in obj)
    if isinstance(obj, dict):
        return {key: _map_arrays(fn, value) for key, value in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{
            f.name: _map_arrays(fn, getattr(obj, f.name))
            for f in dataclasses.fields(obj) if f.init
        })
    return obj


def bring_home(xp: Any, x: Any, home: Any) -> Any:
    """An array of ``xp`` computed on another device, moved to ``home``: integers in the
    default integer dtype there, other dtypes unchanged."""
    if xp.isdtype(x.dtype, "integral"):
        x = xp.astype(x, default_int(xp, home))
    return x.to_device(home)


def compute_elsewhere(
    xp: Any, fn: Callable[..., Any], *args: Any, jax_on_host: bool = True
) -> Any:
    """``fn(xp_work, *args_work)`` where it runs well, its results back in ``xp``.

    ``args`` hold the op's validated arrays (None allowed), ``fn`` takes the namespace
    to compute with first. Eager JAX arrays run on host NumPy copies when
    ``jax_on_host`` (ops whose shapes depend on values; fixed-shape ops compile
    instead and pass False), arrays on a device without 64-bit integers on the default
    device, anything else where it is. Results return to the device of the first array.
    """
    leaves = _leaves(args)
    if not leaves:
        return fn(xp, *args)
    home = device(leaves[0])
    host = host_arrays(*leaves) if jax_on_host else None
    if host is not None:
        import array_api_compat.numpy as numpy_xp  # only here: ~25 ms of import time

        copies = iter(host)
        out = fn(numpy_xp, *_map_arrays(lambda _: next(copies), args))
        return _map_arrays(lambda x: from_host(xp, x, home), out)
    work = index_device(xp, leaves[0])
    if work is None:
        return fn(xp, *args)
    out = fn(xp, *_map_arrays(lambda a: a.to_device(work), args))
    return _map_arrays(lambda x: bring_home(xp, x, home), out)


def host_first(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on host NumPy copies when every array is eager JAX, its
    results back on the JAX device; ``NOT_MOVED`` otherwise.

    For ops whose validation reads values (box inversion, NaN, 0/1 flags) before their
    work moves to the host anyway: on eager JAX every check would compile its own small
    programs first (the first ``coco_evaluate`` on real data took 0.75 s instead of
    0.2 s). ``fn`` is the op itself, so the checks and their messages are the ones NumPy
    input gets. A native shortcut: under ``natives_disabled()`` nothing moves.
    """
    leaves = _leaves((args, kwargs))
    host = host_arrays(*leaves) if leaves else None
    if host is None:
        return NOT_MOVED
    xp, home = array_namespace(leaves[0]), device(leaves[0])
    copies = iter(host)
    args, kwargs = _map_arrays(lambda _: next(copies), (args, kwargs))
    out = fn(*args, **kwargs)
    return _map_arrays(lambda x: from_host(xp, x, home), out)


NOT_MOVED = object()
