"""The conformance engine: run an implementation against a spec on one backend.

For every (op, backend, float dtype) it draws cases with hypothesis and checks, per case:
the output's namespace, device, dtype and shape; its values against the float64 oracle
within the spec's tolerance; that inputs were not mutated; the spec's properties; and,
on the first few cases, ``jax.jit`` (JAX backends, jit-able ops) and gradients against
the native framework's autodiff (torch and JAX, differentiable ops). Named edge cases run
the same checks; invalid cases must raise the stated exception naming the parameter.
Failures carry the minimal input hypothesis shrinks to.

The pieces live beside it: :mod:`.convert` presents cases to a backend and computes the
expectation, :mod:`.checks` compares values, :mod:`.transforms` runs ``jax.jit`` and
autodiff, :mod:`.variants` draws the forms users hold inputs in, and :mod:`.results`
holds what a cell gives.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .._lib.native import natives_disabled
from ..spec import Case, OpSpec, Unsupported
from .backends import Backend
from .checks import (
    CheckFailed,
    check_output,
    check_properties,
    check_unchanged,
    compare,
    tolerance,
)
from .convert import Converter, arrays_of, as_tuple, call, is_array
from .results import Failure, OpResult, Status
from .transforms import check_grad, check_jit
from .variants import CANONICAL, Variant, cycled, has_float, param_names, variants

__all__ = ["Failure", "OpResult", "Status", "check_op", "run_conformance", "compare"]

JIT_CASES = 3  # drawn cases per dtype that also run under jax.jit
GRAD_CASES = 3  # drawn cases per dtype whose gradients are compared with native autodiff


# ------------------------------------------------------------------------- runner


class _Runner:
    """Runs one implementation on one backend and float dtype, and checks each case:
    the order of the checks and what the cell records of them."""

    def __init__(
        self, spec: OpSpec, impl: Callable[..., Any], backend: Backend, dtype: str,
        result: OpResult, jit_cases: int = JIT_CASES, grad_cases: int = GRAD_CASES,
        first_dtype: bool = True,
    ) -> None:
        self.spec, self.impl, self.backend, self.dtype = spec, impl, backend, dtype
        self.result = result
        self.convert = Converter(spec, backend, dtype)
        self.rtol, self.atol = spec.rtol_atol(dtype)
        self.first_dtype = first_dtype
        self.jit_left = jit_cases
        self.grad_left = grad_cases

    def run_numpy(self, case: Case) -> Any:
        return self.convert.run_numpy(self.impl, case)

    # what the cell records -------------------------------------------------------
    def _record(self, max_err: float, ratio: float) -> None:
        self.result.max_abs_err = max(self.result.max_abs_err, max_err)
        self.result.worst_tolerance_ratio = max(self.result.worst_tolerance_ratio, ratio)

    def skip(self, exc: Unsupported) -> None:
        reason = str(exc) or "unsupported option"
        self.result.unsupported[reason] = self.result.unsupported.get(reason, 0) + 1

    def note(self, check: str) -> None:
        if check not in self.result.checks:
            self.result.checks.append(check)

    def _note_inputs(self, case: Case, args: list[Any], kwargs: dict[str, Any],
                     variant: Variant) -> None:
        names = list(param_names(self.spec, case))
        named = {**dict(zip(names, args, strict=False)), **kwargs}
        for name, value in named.items():
            if not is_array(value):
                continue
            seen = self.result.inputs.setdefault(name, [])
            dtype = self.backend.dtype_name(value)
            if dtype not in seen:
                seen.append(dtype)
        forms = [f"{k} as NumPy" for k in variant.numpy_sides]
        forms += [f"{k} {v}" for k, v in variant.layouts.items()]
        for form in forms:
            self.result.forms[form] = self.result.forms.get(form, 0) + 1

    # checks ----------------------------------------------------------------------
    def check_case(self, case: Case, *, drawn: bool, variant: Variant = CANONICAL) -> None:
        if not self.first_dtype and not has_float(case):
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
        if has_float(case):
            return half or self.dtype
        from .._lib.namespace import default_float

        xp, dev = self.backend.xp, self.backend.device
        return self.backend.dtype_name(xp.zeros((), dtype=default_float(xp, dev), device=dev))

    def _check_case(self, case: Case, *, drawn: bool, variant: Variant = CANONICAL) -> None:
        float_dtype = self._result_float(case, variant.half)
        self.rtol, self.atol = tolerance(self.spec, float_dtype)
        args, kwargs = self.convert.case(case, variant=variant)
        self._note_inputs(case, args, kwargs, variant)
        before = [  # copies: to_numpy may share memory with the input
            np.array(self.convert.host(a), copy=True) for a in arrays_of(args, kwargs)
        ]
        try:
            outs = self.spec.output_arrays(call(self.impl, args, kwargs))
        except Unsupported:
            raise
        except Exception as exc:
            raise CheckFailed("error", f"raised {type(exc).__name__}: {exc}") from exc
        want = self.convert.expected(case, variant.half)
        if len(outs) != len(want):
            raise CheckFailed("outputs", f"{len(outs)} outputs, expected {len(want)}")
        got_np = [
            check_output(self.backend, i, out, exp, float_dtype, self.rtol, self.atol,
                         self._record)
            for i, (out, exp) in enumerate(zip(outs, want, strict=True))
        ]
        self.note("namespace/device/dtype/shape")
        self.note("values")
        check_unchanged(before, [self.convert.host(a) for a in arrays_of(args, kwargs)])
        self.note("inputs unchanged")
        if variant:
            self.note("dtypes, libraries and layouts users hold")
            return  # properties, jit and gradients run on the canonical form
        if drawn:
            for name in check_properties(self.spec, self.run_numpy, case, self.rtol, self.atol):
                self.note(f"property: {name}")
        self._check_transforms(case, got_np)

    def _check_transforms(self, case: Case, eager: list[np.ndarray]) -> None:
        """``jax.jit`` and autodiff, on the first few cases each."""
        capabilities = self.spec.capabilities
        if self.backend.library == "jax" and capabilities.jit and self.jit_left > 0:
            self.jit_left -= 1
            check_jit(self.spec, self.impl, self.convert, case, eager, self.rtol, self.atol)
            self.note("jax.jit")
        if capabilities.differentiable and self.grad_left > 0:
            native = check_grad(self.spec, self.impl, self.convert, case, eager, self.rtol,
                                self.atol)
            if native is not None:
                self.grad_left -= 1
                self.note(f"grad vs {native}")


# --------------------------------------------------------------------------- driver


def _fail(
    result: OpResult, dtype: str, exc: CheckFailed, case: Case | None,
    variant: Variant = CANONICAL,
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
    result = OpResult(spec.name, backend.name, Status.PASS, impl=impl_name)
    if not backend.available:
        result.status, result.reason = Status.NOT_INSTALLED, backend.reason
        return result
    if backend.library == "dask" and not spec.capabilities.lazy:
        # the op raises NotImplementedError on Dask arrays by design (tests/test_dask.py)
        result.status = Status.NOT_ON_BACKEND
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
        result.status = Status.FAIL
    elif result.cases == 0 and result.unsupported:
        result.status = Status.OPTIONS_UNSUPPORTED
    return result


def _check_invalid(spec: OpSpec, runner: _Runner, result: OpResult, dtype: str) -> None:
    for invalid in spec.invalid_cases:
        if invalid.needs_values and runner.backend.library == "dask":
            continue  # values are not concrete on Dask: the check is deferred by design
        result.cases += 1
        try:
            args, kwargs = runner.convert.case(invalid.case, valid=False)
            call(runner.impl, args, kwargs)
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
        runner.note("invalid inputs raise")


def _names(exc: Any) -> str:
    return " or ".join(e.__name__ for e in as_tuple(exc))


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
                results.append(OpResult(spec.name, backend.name, Status.NOT_PROVIDED))
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
