"""The spec framework: what an operation computes, as data the engine can check.

A :class:`OpSpec` holds everything normative about one public operation: its
signature and conventions (docstring), a NumPy float64 oracle written straight from
the definition, hypothesis strategies for valid inputs, named edge cases, inputs that
must raise, tolerances, metamorphic properties, native counterparts with adapters,
and capabilities (jit, gradients, data-dependent shapes, laziness).

Cases hold NumPy arrays: float arrays are cast to the dtype under test, integer arrays
to the backend's integer dtype, booleans stay booleans. The oracle sees the same
float-rounded values the implementation sees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = [
    "Case",
    "InvalidCase",
    "Property",
    "Native",
    "Unsupported",
    "Capabilities",
    "OpSpec",
    "DEFAULT_TOLERANCE",
    "reduce_like_torch",
]


class Unsupported(Exception):
    """Raised by a native adapter for an option the native function does not offer."""


def reduce_like_torch(xp: Any, loss: Any, reduction: str) -> Any:
    """An adapter's ``reduction`` for a native that returns per-sample losses (optax).

    Any other value is :class:`Unsupported`: the native has no such option to refuse.
    """
    if reduction == "none":
        return loss
    if reduction not in ("sum", "mean"):
        raise Unsupported(f"reduction={reduction!r}: the native returns per-sample losses")
    return xp.sum(loss) if reduction == "sum" else xp.mean(loss)


@dataclass(frozen=True)
class Case:
    """One call: positional and keyword arguments, NumPy arrays where arrays go."""

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""

    def with_args(self, *args: Any, **kwargs: Any) -> Case:
        """A copy with new positional arguments and updated keywords."""
        return replace(self, args=args, kwargs={**self.kwargs, **kwargs})

    def __repr__(self) -> str:
        def show(v: Any) -> str:
            if isinstance(v, Mapping):  # a named set of arrays, e.g. network parameters
                return "{" + ", ".join(f"{k!r}: {show(x)}" for k, x in v.items()) + "}"
            if isinstance(v, np.ndarray) and v.size == 0:
                return f"np.empty({v.shape}, dtype={v.dtype.name})"
            if isinstance(v, np.ndarray):
                return _show_array(v)
            return repr(v)

        parts = [show(a) for a in self.args]
        parts += [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        label = f"  # {self.name}" if self.name else ""
        return f"({', '.join(parts)}){label}"


# arrays up to this many elements print in full (every digit, so the case reproduces);
# larger ones as shape, dtype and a summary. np.array2string's own ``threshold`` cannot do
# this: it only elides along axes longer than 2 * edgeitems, so a (2, 4, 6, 5) array of
# 240 elements still prints whole.
REPR_MAX_ELEMENTS = 100


def _show_array(v: np.ndarray) -> str:
    if v.size <= REPR_MAX_ELEMENTS:
        body = np.array2string(v, threshold=REPR_MAX_ELEMENTS + 1, precision=17,
                               separator=", ", max_line_width=10**9)
        return f"np.array({' '.join(body.split())}, dtype={v.dtype.name})"
    summary = ""
    if v.dtype.kind in "biuf":
        finite = v[np.isfinite(v)] if v.dtype.kind == "f" else v.ravel()
        if finite.size:
            summary = f", min={finite.min().item()!r}, max={finite.max().item()!r}"
        if finite.size < v.size:
            summary += f", non-finite={v.size - finite.size}"
    return f"<array shape={v.shape} dtype={v.dtype.name}{summary}>"


@dataclass(frozen=True)
class InvalidCase:
    """An input that must raise ``raises`` with ``match`` in the message."""

    name: str
    case: Case
    raises: type[BaseException] | tuple[type[BaseException], ...]
    match: str = ""
    # a check on values (not shapes or dtypes): skipped where values are not concrete,
    # i.e. on Dask and for JAX tracers, so that ops stay lazy and jit-able
    needs_values: bool = False


@dataclass(frozen=True)
class Property:
    """A metamorphic relation. ``check(run, case)`` returns pairs that must be close.

    ``run(case)`` evaluates the implementation under test on the current backend and
    dtype and returns NumPy results, so a property is written once for every backend.
    """

    name: str
    check: Callable[[Callable[[Case], Any], Case], list[tuple[Any, Any]]]
    description: str = ""


@dataclass(frozen=True)
class Native:
    """A native counterpart: ``load()`` returns a callable with the xpops signature.

    The adapter raises :class:`Unsupported` for options the native lacks; ``load``
    raises ImportError when the library is absent.
    """

    library: str  # "torch", "jax", "numpy", "scipy", "optax", ...
    name: str  # fully qualified native name, e.g. "torch.nn.functional.softmax"
    load: Callable[[], Callable[..., Any]]
    notes: str = ""
    # other names the same function is known by, e.g. torch.nn.functional.softmax for
    # torch.softmax: ``xpops conformance --impl`` accepts any of them
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    jit: bool = True  # runs under jax.jit (values checks skipped for tracers)
    differentiable: bool = True  # gradients through torch autograd and jax.grad
    data_dependent_shape: bool = False  # output shape depends on values (eager only)
    lazy: bool = True  # stays lazy on Dask


DEFAULT_TOLERANCE: Mapping[str, tuple[float, float]] = {
    # dtype -> (rtol, atol)
    "float32": (2e-5, 1e-6),
    "float64": (1e-12, 1e-14),
}


@dataclass(frozen=True)
class OpSpec:
    """Everything the engine, the docs and the tests need to know about one op."""

    name: str
    family: str
    impl: Callable[..., Any]
    oracle: Callable[..., Any]
    cases: Callable[[], Any]  # () -> hypothesis strategy of Case
    signature: str = ""
    doc: str = ""  # normative conventions, math definition
    edge_cases: tuple[Case, ...] = ()
    invalid_cases: tuple[InvalidCase, ...] = ()
    tolerance: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_TOLERANCE)
    )
    properties: tuple[Property, ...] = ()
    natives: tuple[Native, ...] = ()
    capabilities: Capabilities = Capabilities()
    grad_argnums: tuple[int, ...] = (0,)  # positional arguments gradients are taken for
    # cases where the op is differentiable (None: wherever inputs and output are finite)
    differentiable_at: Callable[[Case], bool] | None = None
    # a valid case completed for a lazy backend (Dask), where values cannot be read: e.g.
    # the num_classes an op would otherwise read from the labels (None: run as drawn)
    lazy_case: Callable[[Case], Case] | None = None
    # the arrays of a structured result, in the order the oracle returns them
    # (None: the op returns an array or a tuple of arrays)
    outputs: Callable[[Any], tuple[Any, ...]] | None = None

    def output_arrays(self, result: Any) -> tuple[Any, ...]:
        if self.outputs is not None:
            return tuple(self.outputs(result))
        return tuple(result) if isinstance(result, (tuple, list)) else (result,)

    def native(self, library: str) -> Native | None:
        """The first native counterpart from ``library``, if any."""
        return next((n for n in self.natives if n.library == library), None)

    def rtol_atol(self, dtype: str) -> tuple[float, float]:
        return self.tolerance.get(dtype, DEFAULT_TOLERANCE["float64"])
