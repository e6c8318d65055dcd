"""The inputs rule every public op follows, applied once at its entry by :func:`array_op`.

1. **Everything follows the primary array.** Each op names its primary array (``preds``,
   ``logits``, ``x``, ``boxes``, ``query``...). NumPy arrays, NumPy scalars and Python
   sequences passed as its other array arguments are converted to the primary array's
   library and device (scikit-learn's rule for array-API inputs): labels from a data
   loader next to torch predictions on CUDA just work. Two different non-NumPy libraries,
   a non-NumPy side input next to a NumPy primary, or two devices of one library raise
   TypeError naming both parameters.
2. **Labels are counted in the default integer dtype.** Integer class labels, ids and
   counts of any width (int8 ... uint64) are cast to the namespace's default integer
   dtype before any arithmetic: ``target * K + preds`` in uint8 wraps past 255, and
   int8 indices fail in some backends' kernels.
3. **Half precision is computed in float32.** float16 and bfloat16 arrays are upcast to
   float32, the op runs, and its floating results are rounded back to the input's half
   dtype (when every floating input had that one dtype). The result is the float32
   result rounded once: within half a unit in the last place of the half dtype, plus
   float32's own error.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from array_api_compat import array_namespace, device, is_array_api_obj

from .namespace import default_int

__all__ = ["ArrayInputs", "array_op", "inputs_of", "HALF_DTYPES"]

HALF_DTYPES = ("float16", "bfloat16")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ArrayInputs:
    """An op's array parameters, as :func:`array_op` declares them."""

    primary: str  # the array whose library and device every other input follows
    sides: tuple[str, ...] = ()  # the other array parameters (None where optional)
    labels: tuple[str, ...] = ()  # integer labels, ids or counts: any integer dtype
    binary: tuple[str, ...] = ()  # labels that may also be bool (a 0/1 target or mask)
    mappings: tuple[str, ...] = ()  # named sets of arrays (network parameters)

    @property
    def arrays(self) -> tuple[str, ...]:
        return (self.primary, *self.sides)


def inputs_of(fn: Callable[..., Any]) -> ArrayInputs | None:
    """The declaration :func:`array_op` attached to ``fn`` (None for undecorated code)."""
    return getattr(fn, "__xpops_inputs__", None)


def array_op(
    primary: str, *sides: str, labels: tuple[str, ...] = (), binary: tuple[str, ...] = (),
    mappings: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Apply the inputs rule (module docstring) at the entry of a public op."""
    rule = ArrayInputs(primary, tuple(sides), tuple(labels), tuple(binary), tuple(mappings))

    def decorate(fn: F) -> F:
        params = list(inspect.signature(fn).parameters.values())
        index = {p.name: i for i, p in enumerate(params)}
        unknown = [n for n in (*rule.arrays, *rule.labels) if n not in index]
        if unknown:
            raise TypeError(f"{fn.__name__} has no parameter {unknown[0]!r}")
        positional = {
            n: index[n] for n in rule.arrays
            if params[index[n]].kind is not inspect.Parameter.KEYWORD_ONLY
        }

        @functools.wraps(fn)
        def op(*args: Any, **kwargs: Any) -> Any:
            values: dict[str, Any] = {}
            for name in rule.arrays:
                i = positional.get(name)
                if i is not None and i < len(args):
                    values[name] = args[i]
                elif name in kwargs:
                    values[name] = kwargs[name]
            prepared, half = _prepare(rule, values)
            if prepared is None:
                return fn(*args, **kwargs)  # the op's own validation names the problem
            given = list(args)
            for name, value in prepared.items():
                i = positional.get(name)
                if i is not None and i < len(given):
                    given[i] = value
                else:
                    kwargs[name] = value
            result = fn(*given, **kwargs)
            return result if half is None else _round_floats(result, half)

        op.__xpops_inputs__ = rule  # type: ignore[attr-defined]
        return op  # type: ignore[return-value]

    return decorate


# ------------------------------------------------------------------------ libraries


def library(x: Any) -> str:
    """The array library ``x`` belongs to: numpy, torch, jax, dask, cupy, ..."""
    if isinstance(x, (np.ndarray, np.generic)):
        return "numpy"
    root = type(x).__module__.partition(".")[0]
    return "jax" if root == "jaxlib" else root


def _first_array(value: Any) -> Any:
    if isinstance(value, Mapping):
        return next((v for v in value.values() if is_array_api_obj(v)), None)
    return value if is_array_api_obj(value) else None


class _Home:
    """The primary array's library, namespace and device, looked up only when needed:
    the common call (every array already in one library, default dtypes) needs none of
    them, and each lookup costs about a microsecond."""

    def __init__(self, primary: Any) -> None:
        self.primary = primary
        self.type = type(primary)
        self.library = library(primary)
        self._xp: Any = None
        self._dev: Any = _UNSET

    @property
    def xp(self) -> Any:
        if self._xp is None:
            self._xp = array_namespace(self.primary)
        return self._xp

    @property
    def dev(self) -> Any:
        if self._dev is _UNSET:
            self._dev = device(self.primary)
        return self._dev

    def same_device(self, value: Any) -> bool:
        if self.library == "numpy":
            return True
        if self.library == "torch":
            return bool(value.device == self.primary.device)
        there = device(value)
        # a JAX tracer has no device: JAX itself checks what it can
        return there is None or self.dev is None or there == self.dev


_UNSET = object()


def _prepare(rule: ArrayInputs, values: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
    """(converted arguments, half dtype to round results to), or (None, None) when the
    primary is not an array."""
    primary = _first_array(values.get(rule.primary))
    if primary is None:
        return None, None
    home = _Home(primary)
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or (name in rule.mappings and not isinstance(value, Mapping)):
            continue  # a missing option, or a wrong type the op's own check names
        if isinstance(value, Mapping):
            # a mapping's entries follow only when NumPy: a list there stays an error
            moved = {
                k: _follow(home, rule, f"{name}[{k!r}]", v) if isinstance(v, np.ndarray) else v
                for k, v in value.items()
            }
            if any(moved[k] is not value[k] for k in value):
                out[name] = type(value)(moved) if isinstance(value, dict) else moved
            continue
        moved = value if value is primary else _follow(home, rule, name, value)
        if name in rule.labels:
            moved = _as_label_int(home, moved)
        if moved is not value:
            out[name] = moved
    current = {**values, **out} if out else values
    half = _half_dtype(current)
    if half is not None:
        for name, value in current.items():
            if isinstance(value, Mapping):
                out[name] = {k: _upcast(home.xp, v) for k, v in value.items()}
            elif value is not None:
                out[name] = _upcast(home.xp, value)
    return out, half


def _follow(home: _Home, rule: ArrayInputs, name: str, value: Any) -> Any:
    """``value`` in the primary's library and device (rule 1)."""
    if type(value) is home.type:
        lib = home.library
    else:
        if isinstance(value, (list, tuple, np.generic)) or (
            isinstance(value, (int, float)) and name != rule.primary
        ):
            value = np.asarray(value)
        if not is_array_api_obj(value):
            return value
        lib = library(value)
    if lib == home.library:
        if not home.same_device(value):
            raise TypeError(
                f"`{name}` is on device {device(value)!r} but `{rule.primary}` is on "
                f"{home.dev!r}: move one of them so both are on one device"
            )
        return value
    if lib != "numpy":
        raise TypeError(
            f"`{name}` is a {lib} array but `{rule.primary}` is a {home.library} array: "
            f"inputs follow `{rule.primary}`, and only NumPy arrays are converted to its "
            f"library"
        )
    xp, dev = home.xp, home.dev
    value = np.asarray(value)
    if (not value.flags.writeable or not value.flags.c_contiguous
            or any(stride < 0 for stride in value.strides)):
        # torch shares memory with NumPy: it rejects negative strides and warns on
        # read-only arrays
        value = np.array(value, order="C", copy=True)
    if value.dtype.kind in "iu" and (name in rule.labels or not _has_dtype(xp, dev, value)):
        value = _host_default_int(xp, dev, value)
    elif value.dtype == np.float64 and not _has_dtype(xp, dev, value):
        value = value.astype(np.float32)  # JAX without x64, array-api-strict's no_float64
    return xp.asarray(value, device=dev)


def _dtype_name(dtype: Any) -> str:
    """"int8" for torch.int8, array_api_strict.int8 and NumPy's int8 (cached: str() of a
    dtype is slow next to the rest of a small call)."""
    key = (type(dtype), dtype)  # keyed by type too: dtypes of two libraries never meet
    try:
        return _DTYPE_NAMES[key]
    except KeyError:
        name = _DTYPE_NAMES[key] = str(dtype).rpartition(".")[2]
        return name
    except TypeError:  # an unhashable dtype
        return str(dtype).rpartition(".")[2]


_DTYPE_NAMES: dict[tuple[type, Any], str] = {}


def _has_dtype(xp: Any, dev: Any, value: np.ndarray) -> bool:
    """Whether the destination device has ``value``'s dtype (no int64 and float64 in JAX
    without x64 and on array-api-strict's no_x64 device). For integers and float64 only:
    the namespaces list the standard's dtypes, never float16. Not cached: JAX's answer
    changes when x64 is switched on."""
    info = xp.__array_namespace_info__()
    try:
        names = info.dtypes(device=dev)
    except (TypeError, ValueError):
        names = info.dtypes()
    return value.dtype.name in names


def _host_default_int(xp: Any, dev: Any, value: np.ndarray) -> np.ndarray:
    """NumPy integers cast on the host to the destination's default integer, so that
    int64 labels reach a device without 64-bit integers (JAX without x64)."""
    return value.astype(np.dtype(_dtype_name(default_int(xp, dev))), copy=False)


def _as_label_int(home: _Home, x: Any) -> Any:
    """Integer labels in the default integer dtype (rule 2); other dtypes unchanged, so
    the op's own check names a float or bool where labels belong."""
    if not is_array_api_obj(x):
        return x
    name = _dtype_name(x.dtype)
    # int64 is the default integer wherever it exists (a namespace without it, like JAX
    # without x64, cannot hold an int64 array): no lookup for the common case
    if name == "int64" or not name.startswith(("int", "uint")):
        return x
    xp = home.xp
    dtype = default_int(xp, device(x))
    return x if x.dtype == dtype else xp.astype(x, dtype)


# ------------------------------------------------------------------ half precision


def _half_dtype(values: Mapping[str, Any]) -> Any:
    """The half dtype of the floating inputs when there is one, else None; also None when
    half inputs sit beside other floating dtypes (the float32 result stands then)."""
    floats = set()
    found = None
    for value in values.values():
        arrays = value.values() if isinstance(value, Mapping) else (value,)
        for a in arrays:
            if not is_array_api_obj(a):
                continue
            name = _dtype_name(a.dtype)
            if name.startswith(("float", "bfloat")):
                floats.add(name)
                if name in HALF_DTYPES:
                    found = a.dtype
    if found is None:
        return None
    return found if len(floats) == 1 else _MIXED


_MIXED = object()  # half inputs beside other floats: upcast, keep the float32 result


def _upcast(xp: Any, x: Any) -> Any:
    if is_array_api_obj(x) and _dtype_name(x.dtype) in HALF_DTYPES:
        return xp.astype(x, xp.float32)
    return x


def _round_floats(result: Any, half: Any) -> Any:
    """Floating float32 arrays of a result rounded to ``half`` (tuples, named tuples,
    dataclasses and mappings of arrays included)."""
    if half is _MIXED:
        return result
    if is_array_api_obj(result):
        if _dtype_name(result.dtype) == "float32":
            return array_namespace(result).astype(result, half)
        return result
    if isinstance(result, tuple):
        items = [_round_floats(r, half) for r in result]
        return type(result)(*items) if hasattr(result, "_fields") else tuple(items)
    if isinstance(result, list):
        return [_round_floats(r, half) for r in result]
    if isinstance(result, dict):
        return {k: _round_floats(v, half) for k, v in result.items()}
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        changes = {
            f.name: _round_floats(getattr(result, f.name), half)
            for f in dataclasses.fields(result) if f.init
        }
        return dataclasses.replace(result, **changes)
    return result
