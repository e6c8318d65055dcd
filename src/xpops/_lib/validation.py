"""Argument validation. Messages name the parameter and show the offending value."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import array_api_compat

from .namespace import is_concrete

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


def check_num_classes(num_classes: Any, name: str = "num_classes") -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        msg = f"`{name}` must be an int, got {num_classes!r}"
        raise TypeError(msg)
    if num_classes < 1:
        msg = f"`{name}` must be at least 1, got {num_classes}"
        raise ValueError(msg)
    return num_classes


def check_ignore_index(ignore_index: Any) -> None:
    if ignore_index is not None and (
        isinstance(ignore_index, bool) or not isinstance(ignore_index, int)
    ):
        msg = f"`ignore_index` must be an int or None, got {ignore_index!r}"
        raise TypeError(msg)


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
    if isinstance(axis, bool) or not isinstance(axis, int):
        msg = f"`{name}` must be an int, got {axis!r}"
        raise TypeError(msg)
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
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise (ValueError if isinstance(value, str) else TypeError)(msg)
    if not (math.isnan(value) or value in (0, 1)):
        raise ValueError(msg)
    return float(value)
