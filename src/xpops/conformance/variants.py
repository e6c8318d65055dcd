"""The forms users hold a case's inputs in: dtypes, libraries and memory layouts.

A spec's cases are canonical: float64 and int64 NumPy arrays. A :class:`Variant` says
how one call presents them instead, without changing any value:

- labels in any integer dtype the backend has (int8 ... uint64), or bool where the op
  takes a 0/1 target, whenever the values fit;
- floating inputs in half precision (float16, bfloat16) where the library has it;
- side inputs (targets, labels, weights, masks) left as NumPy next to a primary array of
  the backend's library, as a data loader hands them over;
- NumPy arrays transposed in memory, with negative or gapped strides, or read-only, and
  torch tensors that are not contiguous.

The expected result is the canonical case's, with floats rounded through the dtype in
use. The parameters come from the op's :func:`~xpops._lib.inputs.array_op` declaration.
Another implementation than xpops' own (``--impl``, a native counterpart) is drawn only
in the forms every library takes as they are: narrow integer labels and memory layouts.
Half precision computed in float32 and NumPy side inputs are xpops' rules, not theirs (a
native half kernel rounds as it goes, within its own precision).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np
from hypothesis import strategies as st

from .._lib.inputs import ArrayInputs, inputs_of
from ..spec import Case, OpSpec
from .backends import Backend

__all__ = [
    "CANONICAL",
    "HALF_TOLERANCE",
    "Variant",
    "cycled",
    "has_float",
    "param_names",
    "present",
    "present_torch",
    "round_through",
    "variants",
]

# added to the spec's float32 tolerance: the float32 result rounded once to the half
# dtype is off by at most half its unit in the last place (2**-11 and 2**-8 relative),
# and values below float16's normal range by at most 2**-25 absolutely
HALF_TOLERANCE = {"float16": (2.0**-10, 2.0**-24), "bfloat16": (2.0**-7, 0.0)}

NUMPY_LAYOUTS = ("fortran", "reversed", "strided", "readonly")
TORCH_LAYOUTS = ("strided", "transposed")


@dataclass(frozen=True)
class Variant:
    """How one call presents a canonical case (parameter name -> form)."""

    dtypes: Mapping[str, str] = field(default_factory=dict)  # labels: int8, uint8, bool...
    half: str | None = None  # float16 or bfloat16 for every floating input
    numpy_sides: frozenset[str] = frozenset()  # side inputs handed over as NumPy
    layouts: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.dtypes or self.half or self.numpy_sides or self.layouts)

    def __repr__(self) -> str:
        parts = [f"{k} as {v}" for k, v in self.dtypes.items()]
        if self.half:
            parts.append(f"floats as {self.half}")
        parts += [f"{k} as NumPy" for k in sorted(self.numpy_sides)]
        parts += [f"{k} {v}" for k, v in self.layouts.items()]
        return ", ".join(parts)


CANONICAL = Variant()  # the case as the spec wrote it


@functools.cache  # one signature per op, read once instead of on every drawn case
def _positional_params(impl: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(
        p.name for p in inspect.signature(impl).parameters.values()
        if p.kind is not inspect.Parameter.KEYWORD_ONLY
    )


def param_names(spec: OpSpec, case: Case) -> dict[str, Any]:
    """The case's arguments by parameter name (positional ones named from the op)."""
    named = dict(zip(_positional_params(spec.impl), case.args, strict=False))
    named.update(case.kwargs)
    return named


def _fits(values: np.ndarray, dtype: str) -> bool:
    if values.size == 0:
        return True
    if dtype == "bool":
        return bool(np.isin(values, (0, 1)).all())
    info = np.iinfo(dtype)
    return bool(values.min() >= info.min and values.max() <= info.max)


def _is_array(v: Any) -> TypeGuard[np.ndarray]:
    return isinstance(v, np.ndarray)


def has_float(case: Case) -> bool:
    """Whether the case holds a floating array or scalar (inside a mapping included)."""

    def floating(v: Any) -> bool:
        if isinstance(v, Mapping):
            return any(floating(x) for x in v.values())
        return isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind == "f"

    return any(floating(v) for v in (*case.args, *case.kwargs.values()))


def _half_fits(values: Any, halves: tuple[str, ...]) -> tuple[str, ...]:
    """The half dtypes every floating input fits in (finite values stay finite), when
    there is a floating input."""
    floats = []
    for v in values:
        arrays = v.values() if isinstance(v, Mapping) else (v,)
        floats += [a for a in arrays if _is_array(a) and a.dtype.kind == "f"]
    if not floats:
        return ()
    return tuple(
        h for h in halves
        if all(np.isfinite(round_through(a[np.isfinite(a)], h)).all() for a in floats)
    )


def _label_choices(
    rule: ArrayInputs, named: Mapping[str, Any], backend: Backend,
    integer_dtypes: tuple[str, ...],
) -> dict[str, list[str]]:
    """label parameter -> the other dtypes its values fit in (bool for 0/1 targets)."""
    out = {}
    for name in rule.labels:
        value = named.get(name)
        if not (_is_array(value) and value.dtype.kind in "iu"):
            continue
        choices = [d for d in integer_dtypes if d != backend.int_dtype and _fits(value, d)]
        if name in rule.binary and _fits(value, "bool"):
            choices.append("bool")
        if choices:
            out[name] = choices
    return out


def _side_candidates(
    rule: ArrayInputs, named: Mapping[str, Any], backend: Backend, half: str | None,
    mixed: bool,
) -> list[str]:
    """Side inputs that may be handed over as NumPy (NumPy has no bfloat16: floating
    side inputs stay with the primary then)."""
    if not mixed or backend.library == "numpy":
        return []
    return [
        n for n in rule.sides
        if _is_array(v := named.get(n)) and not (half == "bfloat16" and v.dtype.kind == "f")
    ]


def _layout_choices(backend: Backend, value: np.ndarray, on_numpy: bool) -> tuple[str, ...]:
    if value.ndim == 0 or not value.size:
        return ()
    forms = NUMPY_LAYOUTS if on_numpy else (
        TORCH_LAYOUTS if backend.library == "torch" else ()
    )
    return tuple(f for f in forms if f not in ("fortran", "transposed") or value.ndim > 1)


@st.composite
def variants(
    draw: Any, spec: OpSpec, backend: Backend, case: Case, *, halves: bool,
    integer_dtypes: tuple[str, ...], mixed: bool = True,
) -> Variant:
    """A variant of ``case`` for ``backend``; the first choice of each draw is the
    canonical form, so hypothesis shrinks towards it. ``mixed=False`` keeps every array
    in the backend's library (for other implementations than xpops': NumPy side inputs
    following the primary array is xpops' rule, not theirs)."""
    rule = inputs_of(spec.impl)
    if rule is None:
        return Variant()
    named = param_names(spec, case)
    dtypes: dict[str, str] = {}
    for name, choices in _label_choices(rule, named, backend, integer_dtypes).items():
        choice = draw(st.sampled_from(["canonical", *choices]))
        if choice != "canonical":
            dtypes[name] = choice
    half = None
    fitting = _half_fits(named.values(), backend.half_dtypes) if halves else ()
    if fitting:
        half = draw(st.sampled_from([None, *fitting]))
    candidates = _side_candidates(rule, named, backend, half, mixed)
    sides = frozenset(n for n in candidates if draw(st.booleans()))
    layouts = {}
    for name in rule.arrays:
        value = named.get(name)
        if not _is_array(value):
            continue
        on_numpy = backend.library == "numpy" or name in sides
        forms = _layout_choices(backend, value, on_numpy)
        if forms:
            form = draw(st.sampled_from(["contiguous", *forms]))
            if form != "contiguous":
                layouts[name] = form
    return Variant(dtypes, half, sides, layouts)


def cycled(
    spec: OpSpec, backend: Backend, case: Case, i: int, integer_dtypes: tuple[str, ...],
    *, halves: bool, mixed: bool = True,
) -> Variant:
    """The ``i``-th variant of a named edge case, cycling through every accepted dtype,
    so that the default budget checks each one where a case can hold it."""
    rule = inputs_of(spec.impl)
    if rule is None:
        return Variant()
    named = param_names(spec, case)
    dtypes = {
        name: choices[i % len(choices)]
        for name, choices in _label_choices(rule, named, backend, integer_dtypes).items()
    }
    fitting = _half_fits(named.values(), backend.half_dtypes) if halves else ()
    half = fitting[i % len(fitting)] if fitting else None
    sides = frozenset(_side_candidates(rule, named, backend, half, mixed) if i % 2 == 0 else ())
    return Variant(dtypes, half, sides)


# ---------------------------------------------------------------------- presenting


def round_through(values: np.ndarray, dtype: str) -> np.ndarray:
    """Float64 values rounded to ``dtype`` (to nearest, ties to even) and back."""
    values = np.asarray(values, dtype=np.float64)
    if dtype != "bfloat16":
        return values.astype(dtype).astype(np.float64)
    # bfloat16 is float32's upper half: round the lower 16 bits away (NumPy has no
    # bfloat16 dtype without extra packages)
    bits = values.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = rounded.astype(np.uint32).view(np.float32).astype(np.float64)
    return np.where(np.isnan(values), values, out)


def present(value: np.ndarray, layout: str) -> np.ndarray:
    """The same values as ``value`` in a NumPy memory ``layout``."""
    if layout == "fortran":
        return np.asfortranarray(value)
    if layout == "reversed":  # negative strides on every axis
        flipped = np.flip(value).copy()
        return np.flip(flipped)
    if layout == "strided":  # every other row of a buffer twice as long
        buffer = np.zeros((2 * value.shape[0], *value.shape[1:]), dtype=value.dtype)
        buffer[::2] = value
        return buffer[::2]
    if layout == "readonly":
        out = value.copy()
        out.flags.writeable = False
        return out
    return value


def present_torch(tensor: Any, layout: str) -> Any:
    """The same values as a torch ``tensor`` without contiguous memory."""
    import torch

    if layout == "strided":
        buffer = torch.zeros(
            (2 * tensor.shape[0], *tensor.shape[1:]), dtype=tensor.dtype, device=tensor.device
        )
        buffer[::2] = tensor
        return buffer[::2]
    if layout == "transposed":
        return tensor.mT.contiguous().mT
    return tensor

