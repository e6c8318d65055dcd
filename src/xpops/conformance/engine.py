"""The conformance engine: run an implementation against a spec on one backend.

For every (op, backend, float dtype) it draws cases with hypothesis and checks, per case:
the output's namespace, device, dtype and shape; its values against the float64 oracle
within the spec's tolerance; that inputs were not mutated; the spec's properties; and,
on the first few cases, ``jax.jit`` (JAX backends, jit-able ops) and gradients against
the native framework's autodiff (torch and JAX, differentiable ops). Named edge cases run
the same checks; invalid cases must raise the stated exception naming the parameter.
Failures carry the minimal input hypothesis shrinks to.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .._lib.native import natives_disabled
from ..spec import Case, OpSpec, Unsupported
from .backends import Backend
from .variants import (
    HALF_TOLERANCE,
    Variant,
    cycled,
    param_names,
    present,
    present_torch,
    round_through,
    variants,
)

__all__ = ["Failure", "OpResult", "check_op", "run_conformance", "compare"]

JIT_CASES = 3  # drawn cases per dtype that also run under jax.jit
GRAD_CASES = 3  # drawn cases per dtype whose gradients are compared with native autodiff
GRAD_TOLERANCE = {"float32": (2e-3, 1e-4), "float64": (1e-9, 1e-10)}


@dataclass
class Failure:
    check: str  # "values", "dtype", "invalid", "property: ...", "jit", "grad", "error", ...
    dtype: str
    message: str
    reproducer: str = ""


@dataclass
class OpResult:
    op: str
    backend: str
    # "pass", "fail", "not installed", "not provided", "not supported" (an op that cannot
    # stay lazy, on Dask), "unsupported" (every case used an option the implementation
    # does not offer: a native counterpart's adapter said so), "error" (the cell could not
    # finish: its worker process crashed or ran out of time; ``reason`` says what is
    # known) or "not run" (the run was interrupted first)
    status: str
    cases: int = 0
    max_abs_err: float = 0.0
    worst_tolerance_ratio: float = 0.0  # max |got - want| / (atol + rtol |want|); <= 1 passes
    checks: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    reason: str = ""
    impl: str = "xpops"  # whose code ran: xpops, or a native counterpart's name
    # cases skipped because the implementation raised Unsupported: reason -> count
    unsupported: dict[str, int] = field(default_factory=dict)
    executables: int = 0  # programs JAX compiled for this cell, freed after it
    seconds: float = 0.0  # wall time of the cell's checks
    # the dtypes each array parameter was checked in ("uint8", "float16", ...), and how
    # often each other form ran ("target as NumPy", "x strided", ...)
    inputs: dict[str, list[str]] = field(default_factory=dict)
    forms: dict[str, int] = field(default_factory=dict)


_CANONICAL = Variant()  # the case as the spec wrote it


class CheckFailed(AssertionError):
    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message


# ---------------------------------------------------------------------- comparison


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


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


# ------------------------------------------------------------------------- runner


class _Runner:
    """Runs one implementation on one backend and float dtype, and checks each case."""

    def __init__(
        self, spec: OpSpec, impl: Callable[..., Any], backend: Backend, dtype: str,
        result: OpResult, jit_cases: int = JIT_CASES, grad_cases: int = GRAD_CASES,
        first_dtype: bool = True,
    ) -> None:
        self.spec, self.impl, self.backend, self.dtype = spec, impl, backend, dtype
        self.result = result
        self.rtol, self.atol = spec.rtol_atol(dtype)
        self.first_dtype = first_dtype
        self.jit_left = jit_cases
        self.grad_left = grad_cases

    # conversion ------------------------------------------------------------------
    def _convert(self, v: Any, name: str = "", variant: Variant = _CANONICAL) -> Any:
        if isinstance(v, Mapping):  # a named set of arrays, e.g. a network's parameters
            return {k: self._convert(x, name, variant) for k, x in v.items()}
        if not isinstance(v, (np.ndarray, np.generic)):
            return v
        v = np.asarray(v)
        if name in variant.dtypes:
            v = v.astype(variant.dtypes[name])
        half = variant.half
        if v.dtype.kind == "f" and half is not None:
            # rounded on the host, so that the oracle sees exactly what the op sees
            v = round_through(v, half).astype(np.float32)
        if name in variant.numpy_sides:  # handed over as NumPy, as a data loader would
            if v.dtype.kind == "f":
                v = v.astype(half if half == "float16" else self.dtype)
            return present(v, variant.layouts.get(name, ""))
        dtype = self.dtype if v.dtype.kind == "f" and half is None else None
        out = self.backend.asarray(v, dtype)
        if v.dtype.kind == "f" and half is not None:
            out = self.backend.xp.astype(out, getattr(self.backend.xp, half))
        layout = variant.layouts.get(name)
        if layout and self.backend.library == "numpy":
            out = present(out, layout)
        elif layout and self.backend.library == "torch":
            out = present_torch(out, layout)
        return out

    def _rounded(self, v: Any, half: str | None = None) -> Any:
        """What the oracle sees: floats rounded through the dtype under test."""
        if isinstance(v, Mapping):
            return {k: self._rounded(x, half) for k, x in v.items()}
        if isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind == "f":
            return round_through(np.asarray(v), half or self.dtype)
        return v

    def convert(
        self, case: Case, *, valid: bool = True, variant: Variant = _CANONICAL
    ) -> tuple[list[Any], dict[str, Any]]:
        if valid and self.backend.library == "dask" and self.spec.lazy_case is not None:
            case = self.spec.lazy_case(case)
        if not variant:
            return [self._convert(a) for a in case.args], {
                k: self._convert(v) for k, v in case.kwargs.items()
            }
        names = list(param_names(self.spec, case))
        return [self._convert(a, names[i], variant) for i, a in enumerate(case.args)], {
            k: self._convert(v, k, variant) for k, v in case.kwargs.items()
        }

    def oracle(self, case: Case, half: str | None = None) -> tuple[np.ndarray, ...]:
        args = [self._rounded(a, half) for a in case.args]
        kwargs = {k: self._rounded(v, half) for k, v in case.kwargs.items()}
        with np.errstate(all="ignore"):
            outs = tuple(np.asarray(o) for o in _as_tuple(self.spec.oracle(*args, **kwargs)))
        if half is None:
            return outs
        # the op rounds its float32 result to the half dtype once; so does the expectation
        return tuple(round_through(o, half) if o.dtype.kind == "f" else o for o in outs)

    def call(self, fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    def run_numpy(self, case: Case) -> Any:
        args, kwargs = self.convert(case)
        result = self.call(self.impl, args, kwargs)
        outs = tuple(self.backend.to_numpy(o) for o in self.spec.output_arrays(result))
        return outs[0] if len(outs) == 1 else outs

    # checks ----------------------------------------------------------------------
    def _record(self, max_err: float, ratio: float) -> None:
        self.result.max_abs_err = max(self.result.max_abs_err, max_err)
        self.result.worst_tolerance_ratio = max(self.result.worst_tolerance_ratio, ratio)

    def skip(self, exc: Unsupported) -> None:
        reason = str(exc) or "unsupported option"
        self.result.unsupported[reason] = self.result.unsupported.get(reason, 0) + 1

    def _note(self, check: str) -> None:
        if check not in self.result.checks:
            self.result.checks.append(check)

    def check_case(self, case: Case, *, drawn: bool, variant: Variant = _CANONICAL) -> None:
        if not self.first_dtype and not _has_float(case):
            return  # without float inputs every dtype pass would run the same case again
        self.result.cases += 1
        try:
            self._check_case(case, drawn=drawn, variant=variant)
        except Unsupported as exc:  # an option the implementation lacks: not a failure
            self.result.cases -= 1
            self.skip(exc)
        except CheckFailed:
            raise
        except Exception as exc:  # conversion, compute or comparison broke on this input
            raise CheckFailed("error", f"{type(exc).__name__}: {exc}") from exc

    def _result_float(self, case: Case, half: str | None = None) -> str:
        """The float dtype results must have: the dtype under test when the case holds a
        floating array, else the namespace's default float (ops on integer labels)."""
        if _has_float(case):
            return half or self.dtype
        from .._lib.namespace import default_float

        xp, dev = self.backend.xp, self.backend.device
        return self.backend.dtype_name(xp.zeros((), dtype=default_float(xp, dev), device=dev))

    def _host(self, a: Any) -> np.ndarray:
        """An input's values on the host (side inputs may be NumPy on any backend)."""
        return a if isinstance(a, np.ndarray) else self.backend.to_numpy(a)

    def _tolerance(self, float_dtype: str) -> tuple[float, float]:
        if float_dtype not in HALF_TOLERANCE:
            return self.spec.rtol_atol(float_dtype)
        rtol, atol = self.spec.rtol_atol("float32")  # computed in float32, then rounded
        half_rtol, half_atol = HALF_TOLERANCE[float_dtype]
        return rtol + half_rtol, atol + half_atol

    def _note_inputs(self, case: Case, args: list[Any], kwargs: dict[str, Any],
                     variant: Variant) -> None:
        names = list(param_names(self.spec, case))
        named = {**dict(zip(names, args, strict=False)), **kwargs}
        for name, value in named.items():
            if not _is_array(value):
                continue
            seen = self.result.inputs.setdefault(name, [])
            dtype = self.backend.dtype_name(value)
            if dtype not in seen:
                seen.append(dtype)
        forms = [f"{k} as NumPy" for k in variant.numpy_sides]
        forms += [f"{k} {v}" for k, v in variant.layouts.items()]
        for form in forms:
            self.result.forms[form] = self.result.forms.get(form, 0) + 1

    def _check_case(self, case: Case, *, drawn: bool, variant: Variant = _CANONICAL) -> None:
        float_dtype = self._result_float(case, variant.half)
        self.rtol, self.atol = self._tolerance(float_dtype)
        args, kwargs = self.convert(case, variant=variant)
        self._note_inputs(case, args, kwargs, variant)
        before = [  # copies: to_numpy may share memory with the input
            np.array(self._host(a), copy=True) for a in _arrays(args, kwargs)
        ]
        try:
            outs = self.spec.output_arrays(self.call(self.impl, args, kwargs))
        except Unsupported:
            raise
        except Exception as exc:
            raise CheckFailed("error", f"raised {type(exc).__name__}: {exc}") from exc
        want = self.oracle(case, variant.half)
        if len(outs) != len(want):
            raise CheckFailed("outputs", f"{len(outs)} outputs, expected {len(want)}")
        got_np = []
        for i, (out, exp) in enumerate(zip(outs, want, strict=True)):
            got_np.append(self._check_output(i, out, exp, float_dtype))
        self._note("namespace/device/dtype/shape")
        self._note("values")
        after = [self._host(a) for a in _arrays(args, kwargs)]
        for b, a in zip(before, after, strict=True):
            if not np.array_equal(b, a, equal_nan=True):
                raise CheckFailed("mutation", "an input array was modified in place")
        self._note("inputs unchanged")
        if variant:
            self._note("dtypes, libraries and layouts users hold")
            return  # properties, jit and gradients run on the canonical form
        if drawn:
            self._check_properties(case)
        if self.backend.library == "jax" and self.spec.capabilities.jit and self.jit_left > 0:
            self.jit_left -= 1
            self._check_jit(case, got_np)
        if self.spec.capabilities.differentiable and self.grad_left > 0:
            if self._check_grad(case, got_np):
                self.grad_left -= 1

    def _check_output(self, i: int, out: Any, exp: np.ndarray, float_dtype: str) -> np.ndarray:
        from array_api_compat import array_namespace, is_array_api_obj

        label = f"output {i}: " if i else ""
        if not is_array_api_obj(out):
            raise CheckFailed("namespace", f"{label}returned {type(out).__name__}, not an array")
        if self.backend.library == "numpy" and not isinstance(out, np.ndarray):
            raise CheckFailed("namespace", f"{label}returned a NumPy scalar, not a 0-d array")
        if array_namespace(out) is not self.backend.xp:
            raise CheckFailed(
                "namespace", f"{label}array of {array_namespace(out).__name__}, expected "
                f"{self.backend.xp.__name__}"
            )
        if not self.backend.same_device(out):
            from array_api_compat import device

            raise CheckFailed(
                "device", f"{label}on {device(out)!r}, inputs on {self.backend.device!r}"
            )
        want_dtype = {"f": float_dtype, "b": "bool"}.get(exp.dtype.kind, self.backend.int_dtype)
        got_dtype = self.backend.dtype_name(out)
        if got_dtype != want_dtype:
            raise CheckFailed("dtype", f"{label}dtype {got_dtype}, expected {want_dtype}")
        got = self.backend.to_numpy(out)
        if got.shape != exp.shape:
            raise CheckFailed("shape", f"{label}shape {got.shape}, expected {exp.shape}")
        max_err, ratio, problem = compare(got, exp, self.rtol, self.atol)
        self._record(max_err, ratio)
        if problem:
            raise CheckFailed("values", label + problem)
        return got

    def _check_properties(self, case: Case) -> None:
        for prop in self.spec.properties:
            pairs = prop.check(self.run_numpy, case)
            for lhs, rhs in pairs:
                # relations like 1 - sigmoid(x) lose relative precision: allow rtol absolutely
                _, _, problem = compare(lhs, rhs, 4 * self.rtol, 4 * max(self.rtol, self.atol))
                if problem:
                    raise CheckFailed(f"property: {prop.name}", problem)
            if pairs:
                self._note(f"property: {prop.name}")

    def _check_jit(self, case: Case, eager: list[np.ndarray]) -> None:
        import jax

        args, kwargs = self.convert(case)
        array_keys = [k for k, v in kwargs.items() if _is_array(v)]
        static = {k: v for k, v in kwargs.items() if k not in array_keys}
        n = len(args)

        def fn(*arrays: Any) -> Any:
            traced = dict(zip(array_keys, arrays[n:], strict=True))
            return self.impl(*arrays[:n], **static, **traced)

        def arrays_of(*arrays: Any) -> tuple[Any, ...]:
            return self.spec.output_arrays(fn(*arrays))

        try:
            outs = self.call(jax.jit(arrays_of), [*args, *(kwargs[k] for k in array_keys)], {})
        except Exception as exc:
            raise CheckFailed("jit", f"jax.jit raised {type(exc).__name__}: {exc}") from exc
        for out, exp in zip(outs, eager, strict=True):
            _, _, problem = compare(self.backend.to_numpy(out), exp, 4 * self.rtol, 4 * self.atol)
            if problem:
                raise CheckFailed("jit", "jitted result differs from eager: " + problem)
        self._note("jax.jit")

    def _native_agrees(
        self, native_fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any],
        eager: np.ndarray,
    ) -> bool:
        """Whether the native's value equals xpops' on this input (its porting-reference
        record lists where it does not: a fully masked attention row, a subgradient)."""
        try:
            outs = self.spec.output_arrays(self.call(native_fn, args, kwargs))
        except Exception:  # Unsupported, or an input the native rejects
            return False
        if len(outs) != 1:
            return False
        _, _, problem = compare(self.backend.to_numpy(outs[0]), eager, 4 * self.rtol,
                                4 * self.atol)
        return not problem

    def _check_grad(self, case: Case, eager: list[np.ndarray]) -> bool:
        """Compare gradients with the native op's autodiff; False when not applicable."""
        library = self.backend.library
        native = self.spec.native(library)
        if library not in ("torch", "jax") or native is None:
            return False
        if len(eager) != 1 or eager[0].size == 0 or not np.isfinite(eager[0]).all():
            return False
        if self.spec.differentiable_at is not None and not self.spec.differentiable_at(case):
            return False
        if not all(
            isinstance(case.args[i], np.ndarray) and case.args[i].dtype.kind == "f"
            and np.isfinite(case.args[i]).all()
            for i in self.spec.grad_argnums
        ):
            return False
        try:
            native_fn = native.load()
        except ImportError:
            return False
        cotangent = np.random.default_rng(eager[0].size).normal(size=eager[0].shape)
        args, kwargs = self.convert(case)
        if not self._native_agrees(native_fn, args, kwargs, eager[0]):
            return False  # the native computes something else here: no gradient to compare
        grad = _torch_grad if library == "torch" else _jax_grad
        try:
            want = grad(native_fn, args, kwargs, self.spec.grad_argnums, cotangent)
        except Unsupported:
            return False
        try:
            got = grad(self.impl, args, kwargs, self.spec.grad_argnums, cotangent)
        except Exception as exc:
            raise CheckFailed("grad", f"autodiff raised {type(exc).__name__}: {exc}") from exc
        rtol, atol = GRAD_TOLERANCE.get(self.dtype, GRAD_TOLERANCE["float32"])
        for g, w in zip(got, want, strict=True):
            g_np, w_np = self.backend.to_numpy(g), self.backend.to_numpy(w)
            scale = max(1.0, float(np.max(np.abs(w_np), initial=0.0)))
            _, _, problem = compare(g_np, w_np, rtol, atol * scale)
            if problem:
                raise CheckFailed("grad", f"gradient differs from {native.name}: {problem}")
        self._note(f"grad vs {native.name}")
        return True


def _has_float(case: Case) -> bool:
    return any(
        isinstance(v, (np.ndarray, np.generic)) and np.asarray(v).dtype.kind == "f"
        for v in (*case.args, *case.kwargs.values())
    )


def _arrays(args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """The array arguments, those inside a mapping argument included."""
    values = [*args, *kwargs.values()]
    values += [x for v in values if isinstance(v, Mapping) for x in v.values()]
    return [v for v in values if _is_array(v)]


def _is_array(v: Any) -> bool:
    from array_api_compat import is_array_api_obj

    return is_array_api_obj(v)


def _torch_grad(fn, args, kwargs, argnums, cotangent):
    import torch

    args = list(args)
    leaves = []
    for i in argnums:
        args[i] = args[i].detach().clone().requires_grad_(True)
        leaves.append(args[i])
    with np.errstate(all="ignore"):
        out = fn(*args, **kwargs)
    ct = torch.asarray(cotangent, dtype=out.dtype, device=out.device)
    return torch.autograd.grad((out * ct).sum(), leaves)


def _jax_grad(fn, args, kwargs, argnums, cotangent):
    import jax
    import jax.numpy as jnp

    def scalar(*diff):
        full = list(args)
        for i, d in zip(argnums, diff, strict=True):
            full[i] = d
        out = fn(*full, **kwargs)
        return jnp.sum(out * jnp.asarray(cotangent, dtype=out.dtype))

    return jax.grad(scalar, argnums=tuple(range(len(argnums))))(*(args[i] for i in argnums))


# --------------------------------------------------------------------------- driver


def _fail(
    result: OpResult, dtype: str, exc: CheckFailed, case: Case | None,
    variant: Variant = _CANONICAL,
) -> None:
    reproducer = "" if case is None else repr(case)
    if case is not None and variant:
        reproducer += f"  # inputs: {variant!r}"
    result.failures.append(Failure(exc.check, dtype, exc.message, reproducer))


def check_op(
    spec: OpSpec,
    backend: Backend,
    impl: Callable[..., Any] | None = None,
    *,
    max_examples: int = 50,
    seed: int = 0,
    natives: bool = True,
    impl_name: str = "xpops",
    dtypes: Iterable[str] | None = None,
    jit_cases: int = JIT_CASES,
    grad_cases: int = GRAD_CASES,
) -> OpResult:
    """Run every check of ``spec`` on ``backend``; ``impl`` defaults to xpops' own.

    ``natives=False`` forces xpops' pure array-API path where it would otherwise hand
    the computation to the backend's own kernel. An implementation may raise
    :class:`~xpops.spec.Unsupported` for an option it does not offer: that case is
    skipped and counted in ``OpResult.unsupported``, not failed. ``dtypes`` narrows the
    backend's float dtypes; ``jit_cases`` and ``grad_cases`` cap the cases per dtype that
    also run under ``jax.jit`` and through autodiff.
    """
    result = OpResult(spec.name, backend.name, "pass", impl=impl_name)
    if not backend.available:
        result.status, result.reason = "not installed", backend.reason
        return result
    if backend.library == "dask" and not spec.capabilities.lazy:
        # the op raises NotImplementedError on Dask arrays by design (tests/test_dask.py)
        result.status = "not supported"
        result.reason = f"{spec.name} does not stay lazy on Dask (capabilities.lazy=False)"
        return result
    impl = spec.impl if impl is None else impl
    started = time.perf_counter()
    pure = contextlib.nullcontext() if natives else natives_disabled()
    # edge cases are meant to divide by zero and overflow: keep the report readable
    with backend.activate(), pure, np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen = [d for d in backend.float_dtypes if dtypes is None or d in dtypes]
        try:
            for dtype in chosen:
                runner = _Runner(
                    spec, impl, backend, dtype, result, jit_cases, grad_cases,
                    first_dtype=dtype == chosen[0],
                )
                integers = backend.integer_dtypes
                for i, case in enumerate(spec.edge_cases):
                    try:
                        runner.check_case(case, drawn=False)
                    except CheckFailed as exc:
                        _fail(result, dtype, exc, case)
                        continue
                    if not runner.first_dtype:
                        continue
                    # once more in other forms, cycling through every accepted dtype
                    own = impl is spec.impl
                    variant = cycled(spec, backend, case, i, integers, halves=own, mixed=own)
                    if not variant:
                        continue
                    try:
                        runner.check_case(case, drawn=False, variant=variant)
                    except CheckFailed as exc:
                        _fail(result, dtype, exc, case, variant)
                _check_invalid(spec, runner, result, dtype)
                if max_examples > 0:
                    _run_drawn(spec, runner, result, dtype, max_examples, seed)
        finally:
            # a long run must not keep every cell's compiled programs (Backend.release)
            result.executables = backend.release()
    result.seconds = round(time.perf_counter() - started, 3)
    if result.failures:
        result.status = "fail"
    elif result.cases == 0 and result.unsupported:
        result.status = "unsupported"
    return result


def _check_invalid(spec: OpSpec, runner: _Runner, result: OpResult, dtype: str) -> None:
    for invalid in spec.invalid_cases:
        if invalid.needs_values and runner.backend.library == "dask":
            continue  # values are not concrete on Dask: the check is deferred by design
        result.cases += 1
        try:
            args, kwargs = runner.convert(invalid.case, valid=False)
            runner.call(runner.impl, args, kwargs)
        except Unsupported as exc:
            result.cases -= 1
            runner.skip(exc)
            continue
        except invalid.raises as exc:
            if invalid.match and invalid.match not in str(exc):
                _fail(result, dtype, CheckFailed(
                    "invalid", f"{invalid.name}: message {str(exc)!r} does not name "
                    f"{invalid.match!r}"), invalid.case)
            continue
        except Exception as exc:
            _fail(result, dtype, CheckFailed(
                "invalid", f"{invalid.name}: raised {type(exc).__name__} ({exc}), expected "
                f"{_names(invalid.raises)}"), invalid.case)
            continue
        _fail(result, dtype, CheckFailed(
            "invalid", f"{invalid.name}: returned normally, expected {_names(invalid.raises)}"
        ), invalid.case)
    if spec.invalid_cases:
        runner._note("invalid inputs raise")


def _names(exc: Any) -> str:
    return " or ".join(e.__name__ for e in _as_tuple(exc))


def _run_drawn(
    spec: OpSpec, runner: _Runner, result: OpResult, dtype: str, max_examples: int, seed: int
) -> None:
    last: dict[str, Any] = {}
    integers = runner.backend.integer_dtypes

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        print_blob=False,
    )
    @hypothesis_seed(seed)
    @given(spec.cases(), st.data())
    def drawn(case: Case, data: st.DataObject) -> None:
        own = runner.impl is spec.impl
        variant = data.draw(variants(
            spec, runner.backend, case, halves=runner.first_dtype and own,
            integer_dtypes=integers, mixed=own,
        ))
        try:
            runner.check_case(case, drawn=True, variant=variant)
        except CheckFailed as exc:
            # the final call is the shrunk example
            last["case"], last["exc"], last["variant"] = case, exc, variant
            raise

    before = result.cases
    try:
        drawn()
    except CheckFailed:
        _fail(result, dtype, last["exc"], last["case"], last["variant"])
    except Exception as exc:  # a broken strategy or property: report, don't crash the run
        _fail(result, dtype, CheckFailed("engine", f"{type(exc).__name__}: {exc}"), None)
    # shrinking re-runs cases; count distinct generated cases at most max_examples
    result.cases = min(result.cases, before + max_examples)


def run_conformance(
    specs: Iterable[OpSpec],
    backends: Iterable[Backend],
    impls: Mapping[str, Callable[..., Any]] | None = None,
    *,
    max_examples: int = 50,
    seed: int = 0,
    natives: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[OpResult]:
    """Check each spec on each backend. With ``impls``, ops missing from it are skipped."""
    specs, backends = list(specs), list(backends)
    results = []
    total = len(specs) * len(backends)
    for i, spec in enumerate(specs):
        for j, backend in enumerate(backends):
            if progress:
                progress(i * len(backends) + j, total, f"{spec.name} @ {backend.name}")
            if impls is not None and spec.name not in impls:
                results.append(OpResult(spec.name, backend.name, "not provided"))
                continue
            impl = None if impls is None else impls[spec.name]
            results.append(
                check_op(
                    spec, backend, impl, max_examples=max_examples, seed=seed,
                    natives=natives,
                )
            )
    if progress:
        progress(total, total, "done")
    return results
