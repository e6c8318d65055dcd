"""A spec's canonical NumPy cases as one backend's inputs, and what the oracle expects.

A :class:`Converter` presents a case to the implementation under test in the float
dtype of the pass and in a :class:`~xpops.conformance.variants.Variant` (label dtypes,
half precision, NumPy side inputs, memory layouts), and computes the oracle on exactly
the values the implementation sees: floats rounded through the dtype in use.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..spec import Case, OpSpec
from .backends import Backend
from .variants import CANONICAL, Variant, param_names, present, present_torch, round_through

__all__ = ["Converter", "arrays_of", "as_tuple", "call", "is_array"]


def call(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``fn(*args, **kwargs)`` without NumPy's floating-point warnings: edge cases are
    meant to divide by zero and overflow."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def is_array(v: Any) -> bool:
    from array_api_compat import is_array_api_obj

    return is_array_api_obj(v)


def arrays_of(args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """The array arguments, those inside a mapping argument included."""
    values = [*args, *kwargs.values()]
    values += [x for v in values if isinstance(v, Mapping) for x in v.values()]
    return [v for v in values if is_array(v)]


def as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


class Converter:
    """Cases of ``spec`` as arrays of ``backend``, floats in ``dtype``."""

    def __init__(self, spec: OpSpec, backend: Backend, dtype: str) -> None:
        self.spec, self.backend, self.dtype = spec, backend, dtype

    def case(
        self, case: Case, *, valid: bool = True, variant: Variant = CANONICAL
    ) -> tuple[list[Any], dict[str, Any]]:
        """The arguments of ``case`` as the implementation receives them."""
        if valid and self.backend.library == "dask" and self.spec.lazy_case is not None:
            case = self.spec.lazy_case(case)
        if not variant:
            return [self.value(a) for a in case.args], {
                k: self.value(v) for k, v in case.kwargs.items()
            }
        names = list(param_names(self.spec, case))
        return [self.value(a, names[i], variant) for i, a in enumerate(case.args)], {
            k: self.value(v, k, variant) for k, v in case.kwargs.items()
        }

    def value(self, v: Any, name: str = "", variant: Variant = CANONICAL) -> Any:
        """One argument, parameter ``name``, in the form ``variant`` gives it."""
        if isinstance(v, Mapping):  # a named set of arrays, e.g. a network's parameters
            return {k: self.value(x, name, variant) for k, x in v.items()}
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

    def host(self, a: Any) -> np.ndarray:
        """An input's values on the host (side inputs may be NumPy on any backend)."""
        return a if isinstance(a, np.ndarray) else self.backend.to_numpy(a)

    def expected(self, case: Case, half: str | None = None) -> tuple[np.ndarray, ...]:
        """The oracle's outputs on the values the implementation sees."""
        args = [self._rounded(a, half) for a in case.args]
        kwargs = {k: self._rounded(v, half) for k, v in case.kwargs.items()}
        with np.errstate(all="ignore"):
            outs = tuple(np.asarray(o) for o in as_tuple(self.spec.oracle(*args, **kwargs)))
        if half is None:
            return outs
        # the op rounds its float32 result to the half dtype once; so does the expectation
        return tuple(round_through(o, half) if o.dtype.kind == "f" else o for o in outs)

    def _rounded(self, v: Any, half: str | None = None) -> Any:
        """What the oracle sees: floats rounded through the dtype under test."""
        if isinstance(v, Mapping):
            return {k: self._rounded(x, half) for k, x in v.items()}
        if isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind == "f":
            return round_through(np.asarray(v), half or self.dtype)
        return v

    def run_numpy(self, impl: Callable[..., Any], case: Case) -> Any:
        """``impl`` on ``case`` in the canonical form, its outputs back as NumPy."""
        result = call(impl, *self.case(case))
        outs = tuple(self.backend.to_numpy(o) for o in self.spec.output_arrays(result))
        return outs[0] if len(outs) == 1 else outs
