"""The value checks of one call: outputs against the oracle, inputs untouched, properties.

Each check raises :class:`CheckFailed` naming itself ("namespace", "dtype", "values",
"mutation", "property: ...") with what it found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..spec import Case, OpSpec
from .backends import Backend
from .variants import HALF_TOLERANCE

__all__ = [
    "CheckFailed",
    "check_output",
    "check_properties",
    "check_unchanged",
    "compare",
    "tolerance",
]


class CheckFailed(AssertionError):
    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message


def compare(got: Any, want: Any, rtol: float, atol: float) -> tuple[float, float, str]:
    """(max abs error, worst error / tolerance, problem or "") for two NumPy arrays.

    NaN must match NaN and infinities must match exactly; finite values must satisfy
    ``|got - want| <= atol + rtol * |want|``.
    """
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return np.inf, np.inf, f"shape {got.shape} != expected {want.shape}"
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    if (nan_got != nan_want).any():
        idx = np.argwhere(nan_got != nan_want)[0]
        return np.inf, np.inf, (
            f"NaN mismatch at {tuple(int(i) for i in idx)}: got {got[tuple(idx)]!r}, "
            f"expected {want[tuple(idx)]!r}"
        )
    inf_want = np.isinf(want) & ~nan_want
    if (got[inf_want] != want[inf_want]).any() or (np.isinf(got) & ~inf_want).any():
        idx = np.argwhere((np.isinf(got) | inf_want) & (got != want))[0]
        return np.inf, np.inf, (
            f"infinity mismatch at {tuple(int(i) for i in idx)}: got {got[tuple(idx)]!r}, "
            f"expected {want[tuple(idx)]!r}"
        )
    finite = np.isfinite(want)
    if not finite.any():
        return 0.0, 0.0, ""
    err = np.abs(got[finite] - want[finite])
    ratio = err / (atol + rtol * np.abs(want[finite]))
    worst = int(np.argmax(ratio))
    max_err, max_ratio = float(err.max()), float(ratio[worst])
    if max_ratio > 1.0:
        where = tuple(int(i) for i in np.argwhere(finite)[worst])
        return max_err, max_ratio, (
            f"value mismatch at {where}: got {got[where]!r}, expected {want[where]!r} "
            f"(|err|={err[worst]:.3g} > atol={atol:g} + rtol={rtol:g}*|expected|)"
        )
    return max_err, max_ratio, ""


def tolerance(spec: OpSpec, float_dtype: str) -> tuple[float, float]:
    """(rtol, atol) for results in ``float_dtype``: a half dtype is computed in float32
    and rounded once, so it gets float32's tolerance plus half an ulp of its own."""
    if float_dtype not in HALF_TOLERANCE:
        return spec.rtol_atol(float_dtype)
    rtol, atol = spec.rtol_atol("float32")
    half_rtol, half_atol = HALF_TOLERANCE[float_dtype]
    return rtol + half_rtol, atol + half_atol


def check_output(
    backend: Backend, i: int, out: Any, exp: np.ndarray, float_dtype: str,
    rtol: float, atol: float, record: Callable[[float, float], None],
) -> np.ndarray:
    """Output ``i``'s namespace, device, dtype, shape and values against ``exp``; the
    output as NumPy. ``record`` receives the max abs error and the worst error /
    tolerance, of a failing output too (the report shows how far off it was)."""
    from array_api_compat import array_namespace, is_array_api_obj

    label = f"output {i}: " if i else ""
    if not is_array_api_obj(out):
        raise CheckFailed("namespace", f"{label}returned {type(out).__name__}, not an array")
    if backend.library == "numpy" and not isinstance(out, np.ndarray):
        raise CheckFailed("namespace", f"{label}returned a NumPy scalar, not a 0-d array")
    if array_namespace(out) is not backend.xp:
        raise CheckFailed(
            "namespace", f"{label}array of {array_namespace(out).__name__}, expected "
            f"{backend.xp.__name__}"
        )
    if not backend.same_device(out):
        from array_api_compat import device

        raise CheckFailed("device", f"{label}on {device(out)!r}, inputs on {backend.device!r}")
    want_dtype = {"f": float_dtype, "b": "bool"}.get(exp.dtype.kind, backend.int_dtype)
    got_dtype = backend.dtype_name(out)
    if got_dtype != want_dtype:
        raise CheckFailed("dtype", f"{label}dtype {got_dtype}, expected {want_dtype}")
    got = backend.to_numpy(out)
    if got.shape != exp.shape:
        raise CheckFailed("shape", f"{label}shape {got.shape}, expected {exp.shape}")
    max_err, ratio, problem = compare(got, exp, rtol, atol)
    record(max_err, ratio)
    if problem:
        raise CheckFailed("values", label + problem)
    return got


def check_unchanged(before: Sequence[np.ndarray], after: Sequence[np.ndarray]) -> None:
    """The inputs' values after the call equal the copies taken before it."""
    for b, a in zip(before, after, strict=True):
        if not np.array_equal(b, a, equal_nan=True):
            raise CheckFailed("mutation", "an input array was modified in place")


def check_properties(
    spec: OpSpec, run: Callable[[Case], Any], case: Case, rtol: float, atol: float
) -> list[str]:
    """The spec's properties on ``case``, ``run`` computing each side; the names of
    those that applied (a property may have nothing to compare on a case)."""
    held = []
    for prop in spec.properties:
        pairs = prop.check(run, case)
        for lhs, rhs in pairs:
            # relations like 1 - sigmoid(x) lose relative precision: allow rtol absolutely
            _, _, problem = compare(lhs, rhs, 4 * rtol, 4 * max(rtol, atol))
            if problem:
                raise CheckFailed(f"property: {prop.name}", problem)
        if pairs:
            held.append(prop.name)
    return held
