"""The checks under a framework's transforms: ``jax.jit`` and autodiff.

Under ``jax.jit`` the op must trace (no value read on the host, no data-dependent
shape) and give its eager result. Its gradients must equal those the native
counterpart's autodiff gives (torch or JAX), on inputs where the native computes the
spec's value: elsewhere it computes something else, which its porting record lists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..spec import Case, OpSpec, Unsupported
from .checks import CheckFailed, compare
from .convert import Converter, call, is_array

__all__ = ["GRAD_TOLERANCE", "check_grad", "check_jit"]

# (rtol, atol): two autodiff implementations sum their terms in different orders
GRAD_TOLERANCE = {"float32": (2e-3, 1e-4), "float64": (1e-9, 1e-10)}


def check_jit(
    spec: OpSpec, impl: Callable[..., Any], convert: Converter, case: Case,
    eager: Sequence[np.ndarray], rtol: float, atol: float,
) -> None:
    """``impl`` under ``jax.jit`` gives its ``eager`` outputs (array keywords traced,
    the other keywords static)."""
    import jax

    args, kwargs = convert.case(case)
    array_keys = [k for k, v in kwargs.items() if is_array(v)]
    static = {k: v for k, v in kwargs.items() if k not in array_keys}
    n = len(args)

    def outputs(*arrays: Any) -> tuple[Any, ...]:
        traced = dict(zip(array_keys, arrays[n:], strict=True))
        return spec.output_arrays(impl(*arrays[:n], **static, **traced))

    try:
        outs = call(jax.jit(outputs), [*args, *(kwargs[k] for k in array_keys)], {})
    except Exception as exc:
        raise CheckFailed("jit", f"jax.jit raised {type(exc).__name__}: {exc}") from exc
    for out, exp in zip(outs, eager, strict=True):
        _, _, problem = compare(convert.backend.to_numpy(out), exp, 4 * rtol, 4 * atol)
        if problem:
            raise CheckFailed("jit", "jitted result differs from eager: " + problem)


def check_grad(
    spec: OpSpec, impl: Callable[..., Any], convert: Converter, case: Case,
    eager: Sequence[np.ndarray], rtol: float, atol: float,
) -> str | None:
    """Compare ``impl``'s gradients with the native op's autodiff: the native's name,
    or None where there is nothing to compare (no native autodiff for the backend, a
    non-finite or empty output, a point where the op is not differentiable, or a
    native that computes another value there)."""
    library = convert.backend.library
    native = spec.native(library)
    if library not in ("torch", "jax") or native is None:
        return None
    if not _comparable(spec, case, eager):
        return None
    try:
        native_fn = native.load()
    except ImportError:
        return None
    cotangent = np.random.default_rng(eager[0].size).normal(size=eager[0].shape)
    args, kwargs = convert.case(case)
    if not _native_agrees(spec, convert, native_fn, args, kwargs, eager[0], rtol, atol):
        return None  # the native computes something else here: no gradient to compare
    grad = _torch_grad if library == "torch" else _jax_grad
    try:
        want = grad(native_fn, args, kwargs, spec.grad_argnums, cotangent)
    except Unsupported:
        return None
    try:
        got = grad(impl, args, kwargs, spec.grad_argnums, cotangent)
    except Exception as exc:
        raise CheckFailed("grad", f"autodiff raised {type(exc).__name__}: {exc}") from exc
    grad_rtol, grad_atol = GRAD_TOLERANCE.get(convert.dtype, GRAD_TOLERANCE["float32"])
    for g, w in zip(got, want, strict=True):
        g_np, w_np = convert.backend.to_numpy(g), convert.backend.to_numpy(w)
        scale = max(1.0, float(np.max(np.abs(w_np), initial=0.0)))
        _, _, problem = compare(g_np, w_np, grad_rtol, grad_atol * scale)
        if problem:
            raise CheckFailed("grad", f"gradient differs from {native.name}: {problem}")
    return native.name


def _comparable(spec: OpSpec, case: Case, eager: Sequence[np.ndarray]) -> bool:
    """One finite, non-empty output, at a differentiable point, of finite float inputs."""
    if len(eager) != 1 or eager[0].size == 0 or not np.isfinite(eager[0]).all():
        return False
    if spec.differentiable_at is not None and not spec.differentiable_at(case):
        return False
    return all(
        isinstance(case.args[i], np.ndarray) and case.args[i].dtype.kind == "f"
        and np.isfinite(case.args[i]).all()
        for i in spec.grad_argnums
    )


def _native_agrees(
    spec: OpSpec, convert: Converter, native_fn: Callable[..., Any], args: list[Any],
    kwargs: dict[str, Any], eager: np.ndarray, rtol: float, atol: float,
) -> bool:
    """Whether the native's value equals xpops' on this input (its porting-reference
    record lists where it does not: a fully masked attention row, a subgradient)."""
    try:
        outs = spec.output_arrays(call(native_fn, args, kwargs))
    except Exception:  # Unsupported, or an input the native rejects
        return False
    if len(outs) != 1:
        return False
    _, _, problem = compare(convert.backend.to_numpy(outs[0]), eager, 4 * rtol, 4 * atol)
    return not problem


def _torch_grad(
    fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any],
    argnums: tuple[int, ...], cotangent: np.ndarray,
) -> Any:
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


def _jax_grad(
    fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any],
    argnums: tuple[int, ...], cotangent: np.ndarray,
) -> Any:
    import jax
    import jax.numpy as jnp

    def scalar(*diff: Any) -> Any:
        full = list(args)
        for i, d in zip(argnums, diff, strict=True):
            full[i] = d
        out = fn(*full, **kwargs)
        return jnp.sum(out * jnp.asarray(cotangent, dtype=out.dtype))

    return jax.grad(scalar, argnums=tuple(range(len(argnums))))(*(args[i] for i in argnums))
