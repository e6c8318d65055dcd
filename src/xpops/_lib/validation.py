"""Argument validation. Messages name the parameter and show the offending value."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

import array_api_compat

from .namespace import index_device, is_concrete

REDUCTIONS = ("none", "mean", "sum")


def size(x: Any) -> int:
    """Number of elements (``x.size`` is a method on torch tensors, None on some lazy arrays)."""
    return math.prod(x.shape)


# why the detection benchmarks cannot stay lazy (reject_lazy's "it ..." for both)
SORTS_AND_MATCHES = "sorts detections by score and matches them greedily to ground truth"


def reject_lazy(op: str, why: str, *arrays: Any) -> None:
    """Raise NotImplementedError naming ``op`` when any of ``arrays`` is a Dask array.

    For ops that cannot stay lazy on Dask (``Capabilities.lazy=False``): they sort, have
    a value-dependent output shape or loop on values, so a chunked graph would either
    compute inside the op or gather everything into one chunk. ``why`` completes
    "it ..." in the message. Called first, before any other work on the inputs.
    """
    if any(array_api_compat.is_dask_array(a) for a in arrays):
        msg = f"{op} does not support Dask arrays: it {why}"
        raise NotImplementedError(msg)


# ------------------------------------------------------------------ Python scalars
# One rule for every op: real numbers are any ``numbers.Real`` (NumPy scalars included),
# counts any ``numbers.Integral``; bool is neither. Messages read
# "`name` must be <what>, got <value>".


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def check_real(
    value: Any,
    name: str,
    *,
    finite: bool = False,
    allow_nan: bool = False,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A real Python or NumPy number as a float, within ``[low, high]`` when given.

    ``low_open`` / ``high_open`` exclude the bound itself. NaN is rejected unless
    ``allow_nan`` (then it passes every bound); infinities unless they fall inside the
    bounds and ``finite`` is False.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"`{name}` must be a real number, got {value!r}"
        raise TypeError(msg)
    out = float(value)
    if math.isnan(out):
        if allow_nan:
            return out
        msg = f"`{name}` must not be NaN, got {value!r}"
        raise ValueError(msg)
    inside = (
        (low is None or (out > low if low_open else out >= low))
        and (high is None or (out < high if high_open else out <= high))
        and (not finite or math.isfinite(out))
    )
    if not inside:
        what = " and ".join(
            w for w in ("finite" if finite else "", _interval(low, high, low_open, high_open)) if w
        )
        msg = f"`{name}` must be {what}, got {value!r}"
        raise ValueError(msg)
    return out


def check_probability(value: Any, name: str) -> float:
    """A real number in [0, 1]."""
    return check_real(value, name, low=0.0, high=1.0)


def check_beta(beta: Any) -> float:
    """The F-beta weight: a finite real number > 0."""
    return check_real(beta, "beta", finite=True, low=0.0, low_open=True)


def check_count(
    value: Any, name: str, *, minimum: int = 0, maximum: int | None = None, optional: bool = False
) -> int:
    """A Python or NumPy integer (not bool) as an int in ``[minimum, maximum]``.

    ``optional`` lets None through (returned as is, so the result may be None).
    """
    if value is None and optional:
        return value  # type: ignore[return-value]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        msg = f"`{name}` must be an int{' or None' if optional else ''}, got {value!r}"
        raise TypeError(msg)
    out = int(value)
    if out < minimum or (maximum is not None and out > maximum):
        what = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        msg = f"`{name}` must be {what}, got {out}"
        raise ValueError(msg)
    return out


def check_num_classes(num_classes: Any, name: str = "num_classes") -> int:
    """A count of classes: an integer >= 1."""
    return check_count(num_classes, name, minimum=1)


def check_ignore_index(ignore_index: Any) -> int | None:
    """``ignore_index``: any integer (negative ones included) or None."""
    if ignore_index is None:
        return None
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        msg = f"`ignore_index` must be an int or None, got {ignore_index!r}"
        raise TypeError(msg)
    return int(ignore_index)


# ------------------------------------------------------------------- label values


def check_label_range(
    xp: Any,
    x: Any,
    name: str,
    num_classes: int | None,
    *,
    keep: Any = None,
    ignore_index: int | None = None,
) -> None:
    """Raise when concrete integer labels lie outside ``[0, num_classes)``.

    ``num_classes=None`` checks only ``>= 0``. Positions where ``keep`` is False, or that
    equal ``ignore_index``, are not checked. The message names the parameter and the
    first bad value in row-major order. Skipped for traced or lazy arrays.
    """
    if not is_concrete(x) or size(x) == 0:
        return
    if keep is None and ignore_index is None:
        low, top = xp.min(x), xp.max(x)
        if not (is_concrete(low) and is_concrete(top)):
            return  # under jit, even for a concrete x closed over
        if int(low) >= 0 and (num_classes is None or int(top) < num_classes):
            return  # two reductions, no full-size temporaries: the common, valid case
    outside = x < 0 if num_classes is None else (x < 0) | (x >= num_classes)
    bad = _kept(outside, x, keep, ignore_index)
    if not concrete_true(xp.any(bad)):
        return
    allowed = "[0, inf)" if num_classes is None else f"[0, {num_classes})"
    msg = f"`{name}` holds labels outside {allowed}: " + _first_bad(xp, x, bad, ignore_index)
    raise ValueError(msg)


def _kept(bad: Any, x: Any, keep: Any, ignore_index: int | None) -> Any:
    """``bad`` where ``keep`` is True and ``x`` is not ``ignore_index``."""
    if keep is not None:
        bad = bad & keep
    if ignore_index is not None:
        bad = bad & (x != ignore_index)
    return bad


def _first_bad(xp: Any, x: Any, bad: Any, ignore_index: int | None) -> str:
    """"first bad value V at index I" for the first True of ``bad`` in row-major order."""
    if (elsewhere := index_device(xp, x)) is not None:  # argmax gives int64 (no_x64)
        bad, x = xp.asarray(bad, device=elsewhere), xp.asarray(x, device=elsewhere)
    first = int(xp.argmax(xp.astype(xp.reshape(bad, (-1,)), xp.int8)))
    flat = xp.reshape(x, (-1,))[first]
    value = int(flat) if xp.isdtype(x.dtype, "integral") else float(flat)
    index: list[int] = []
    for n in reversed(tuple(x.shape)):
        index.insert(0, first % n)
        first //= n
    return f"first bad value {value} at index {index[0] if len(index) == 1 else tuple(index)}" + (
        "" if ignore_index is None else f" (ignore_index={ignore_index})"
    )


def concrete_true(flag: Any) -> bool:
    """``bool(flag)`` where it can be read, else False (the check is skipped).

    A concrete array closed over by a jitted function still gives traced results, so the
    flag itself must be concrete, not only the array it was computed from.
    """
    return is_concrete(flag) and bool(flag)


def check_real_floating(xp: Any, x: Any, name: str) -> None:
    if not xp.isdtype(x.dtype, "real floating"):
        msg = f"`{name}` must have a real floating dtype, got {x.dtype}"
        raise TypeError(msg)


def check_integer(xp: Any, x: Any, name: str) -> None:
    if not xp.isdtype(x.dtype, "integral"):
        msg = f"`{name}` must have an integer dtype, got {x.dtype}"
        raise TypeError(msg)


def check_choice(value: Any, name: str, choices: Collection[Any]) -> None:
    if value not in choices:
        msg = f"`{name}` must be one of {tuple(choices)!r}, got {value!r}"
        raise ValueError(msg)


def normalize_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """Return ``axis`` as a non-negative int, or raise naming the array rank."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        msg = f"`{name}` must be an int, got {axis!r}"
        raise TypeError(msg)
    axis = int(axis)
    if not -ndim <= axis < ndim:
        msg = f"`{name}`={axis} is out of range for an array of rank {ndim}"
        raise ValueError(msg)
    return axis % ndim


def check_same_shape(a: Any, b: Any, name_a: str, name_b: str) -> None:
    if tuple(a.shape) != tuple(b.shape):
        msg = (
            f"`{name_b}` must have the shape of `{name_a}`, "
            f"got {name_b}.shape={tuple(b.shape)} and {name_a}.shape={tuple(a.shape)}"
        )
        raise ValueError(msg)


def check_broadcastable(x: Any, shape: tuple, name: str, to: str) -> None:
    """Raise unless ``x`` broadcasts to exactly ``shape`` (the shape of parameter ``to``)."""
    src, dst = tuple(x.shape), tuple(shape)
    ok = len(src) <= len(dst) and all(
        s in (1, d) for s, d in zip(reversed(src), reversed(dst), strict=False)
    )
    if not ok:
        msg = f"`{name}` of shape {src} does not broadcast to the shape of `{to}` {dst}"
        raise ValueError(msg)


def check_in_unit_interval(xp: Any, x: Any, name: str) -> None:
    """Raise when a concrete array holds values outside [0, 1] (NaN passes through)."""
    if not is_concrete(x) or size(x) == 0:
        return
    if concrete_true(xp.any((x < 0) | (x > 1))):
        msg = (
            f"`{name}` must lie in [0, 1]; got values in "
            f"[{float(xp.min(x))}, {float(xp.max(x))}]"
        )
        raise ValueError(msg)


def check_binary_scores(xp: Any, scores: Any, target: Any) -> None:
    """Real floating ``scores`` without NaN and binary ``target`` (bool, integer or 0/1
    floats) of the same shape: the inputs of the threshold curves and average precision."""
    check_real_floating(xp, scores, "scores")
    if not xp.isdtype(target.dtype, ("bool", "integral", "real floating")):
        msg = (
            "`target` must hold binary labels (bool, integer or 0/1 floats), "
            f"got dtype {target.dtype}"
        )
        raise TypeError(msg)
    check_same_shape(scores, target, "scores", "target")
    if size(scores) == 0:
        return
    if is_concrete(scores) and concrete_true(xp.any(xp.isnan(scores))):
        msg = f"`scores` must not hold NaN; got NaN among {size(scores)} scores"
        raise ValueError(msg)
    if target.dtype != xp.bool and is_concrete(target):
        bad = (target != 0) & (target != 1)
        if concrete_true(xp.any(bad)):
            msg = (
                "`target` must be binary (0 or 1); got values in "
                f"[{float(xp.min(target))}, {float(xp.max(target))}]"
            )
            raise ValueError(msg)


def check_zero_division(value: Any) -> float:
    """``zero_division``: 0.0, 1.0 or nan (scikit-learn's ``"warn"`` is a bad value here)."""
    msg = f"`zero_division` must be 0.0, 1.0 or nan, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise (ValueError if isinstance(value, str) else TypeError)(msg)
    if not (math.isnan(value) or value in (0, 1)):
        raise ValueError(msg)
    return float(value)


def check_count_pair(value: Any, name: str, *, minimum: int = 0) -> tuple[int, int]:
    """One count for both spatial axes or a pair (tuple or list) of two, as a pair of ints.

    Each is an integer as :func:`check_count` takes it (NumPy integers included, bool
    rejected) and at least ``minimum``: the kernel, stride, padding and dilation of
    convolution and pooling.
    """
    values = value if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values
    ):
        msg = f"`{name}` must be an int or a pair of ints, got {value!r}"
        raise TypeError(msg)
    if any(int(v) < minimum for v in values):
        msg = f"`{name}` must be >= {minimum}, got {value!r}"
        raise ValueError(msg)
    return int(values[0]), int(values[1])


def check_binary_values(
    xp: Any, x: Any, name: str, *, keep: Any = None, ignore_index: int | None = None
) -> None:
    """Raise when concrete 0/1 labels or masks hold another value (bool always passes).

    Integer or floating ``x`` (NaN is not binary). Positions where ``keep`` is False, or
    that equal ``ignore_index``, are not checked. The message names the parameter and the
    first bad value in row-major order, as :func:`check_label_range` does. Skipped for
    traced or lazy arrays.
    """
    if x.dtype == xp.bool or not is_concrete(x) or size(x) == 0:
        return
    integral = xp.isdtype(x.dtype, "integral")
    if integral and keep is None and ignore_index is None:
        low, top = xp.min(x), xp.max(x)
        if not (is_concrete(low) and is_concrete(top)):
            return  # under jit, even for a concrete x closed over
        if int(low) >= 0 and int(top) <= 1:
            return  # two reductions, no full-size temporaries: the common, valid case
    bad = _kept((x != 0) & (x != 1), x, keep, ignore_index)
    if not concrete_true(xp.any(bad)):
        return
    msg = f"`{name}` must hold only 0 and 1: " + _first_bad(xp, x, bad, ignore_index)
    raise ValueError(msg)
