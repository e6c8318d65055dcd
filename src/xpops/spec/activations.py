"""Specs of the softmax family and the sigmoids."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import impl
from ._base import Case, InvalidCase, Native, OpSpec, Property, Unsupported
from ._strategies import SPECIALS, float_arrays, masks_for, shapes

# --------------------------------------------------------------------------- oracles


def _rows(x: np.ndarray, axis: int, where: np.ndarray | None):
    """Input and mask with ``axis`` last, flattened to rows (a view-free copy)."""
    x = np.asarray(x, dtype=np.float64)
    w = np.ones(x.shape, bool) if where is None else np.broadcast_to(where, x.shape)
    moved = np.moveaxis(x, axis, -1)
    rows = (int(np.prod(moved.shape[:-1])), moved.shape[-1])
    return moved.reshape(rows), np.moveaxis(w, axis, -1).reshape(rows)


def _unrows(rows: np.ndarray, x: np.ndarray, axis: int) -> np.ndarray:
    moved = np.moveaxis(np.empty(x.shape), axis, -1).shape
    return np.moveaxis(rows.reshape(moved), -1, axis)


def _row_is_nan(included: np.ndarray) -> bool:
    """The spec's NaN rule: NaN, +inf, or every included entry -inf."""
    return bool(np.isnan(included).any() or np.isposinf(included).any()
                or np.isneginf(included).all())


def softmax_oracle(x, axis=-1, where=None):
    xr, wr = _rows(x, axis, where)
    out = np.zeros_like(xr)
    for i, (row, keep) in enumerate(zip(xr, wr, strict=True)):
        inc = row[keep]
        if inc.size == 0:
            continue
        if _row_is_nan(inc):
            out[i, keep] = np.nan
            continue
        e = np.exp(inc - inc.max())
        out[i, keep] = e / e.sum()
    return _unrows(out, np.asarray(x), axis)


def log_softmax_oracle(x, axis=-1, where=None):
    xr, wr = _rows(x, axis, where)
    out = np.full_like(xr, -np.inf)
    for i, (row, keep) in enumerate(zip(xr, wr, strict=True)):
        inc = row[keep]
        if inc.size == 0:
            continue
        if _row_is_nan(inc):
            out[i, keep] = np.nan
            continue
        shifted = inc - inc.max()
        out[i, keep] = shifted - np.log(np.exp(shifted).sum())
    return _unrows(out, np.asarray(x), axis)


def logsumexp_oracle(x, axis=-1, keepdims=False, where=None):
    xr, wr = _rows(x, axis, where)
    out = np.empty(xr.shape[0])
    for i, (row, keep) in enumerate(zip(xr, wr, strict=True)):
        inc = row[keep]
        if np.isnan(inc).any():
            out[i] = np.nan
        elif np.isposinf(inc).any():
            out[i] = np.inf
        elif inc.size == 0 or np.isneginf(inc).all():
            out[i] = -np.inf
        else:
            m = inc.max()
            out[i] = m + np.log(np.exp(inc - m).sum())
    x = np.asarray(x)
    shape = list(x.shape)
    shape[axis] = 1
    out = out.reshape(np.moveaxis(np.empty(shape), axis, -1).shape)
    out = np.moveaxis(out, -1, axis)
    return out if keepdims else np.squeeze(out, axis=axis)


def sigmoid_oracle(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def log_sigmoid_oracle(x):
    return -np.logaddexp(0.0, -np.asarray(x, dtype=np.float64))


# ------------------------------------------------------------------------ strategies


@st.composite
def _softmax_cases(draw: Any, *, keepdims: bool = False) -> Case:
    shape = draw(shapes(min_dims=1, max_dims=3, long_axis=-1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    x = draw(float_arrays(shape, specials=SPECIALS))
    kwargs: dict[str, Any] = {"axis": axis}
    if draw(st.booleans()):
        kwargs["where"] = draw(masks_for(shape))
    if keepdims:
        kwargs["keepdims"] = draw(st.booleans())
    return Case((x,), kwargs)


@st.composite
def _elementwise_cases(draw: Any) -> Case:
    shape = draw(shapes(min_dims=0, max_dims=3))
    return Case((draw(float_arrays(shape, huge=1e3, specials=SPECIALS)),))


# ------------------------------------------------------------------------ properties


def _finite_rows(case: Case) -> bool:
    return bool(np.isfinite(case.args[0]).all())


def _shift_invariance(run, case):
    """softmax(x + c) == softmax(x) for a constant c (only meaningful on finite rows)."""
    if not _finite_rows(case):
        return []
    (x,) = case.args
    return [(run(case.with_args(x + 3.0)), run(case))]


def _sums_to_one(run, case):
    x = case.args[0]
    if not _finite_rows(case) or x.size == 0:
        return []
    axis = case.kwargs.get("axis", -1)
    where = case.kwargs.get("where")
    total = run(case).sum(axis=axis)
    included = np.ones(x.shape, bool) if where is None else np.broadcast_to(where, x.shape)
    return [(total, included.any(axis=axis).astype(np.float64))]


def _permutation_equivariance(run, case):
    x = case.args[0]
    axis = case.kwargs.get("axis", -1)
    if x.ndim == 0 or x.shape[axis] < 2:
        return []
    perm = np.roll(np.arange(x.shape[axis]), 1)
    kwargs = {}
    if case.kwargs.get("where") is not None:
        kwargs["where"] = np.take(np.broadcast_to(case.kwargs["where"], x.shape), perm, axis)
    permuted = case.with_args(np.take(x, perm, axis=axis), **kwargs)
    return [(run(permuted), np.take(run(case), perm, axis=axis))]


def _exp_log_softmax_is_softmax(run, case):
    if not _finite_rows(case):
        return []
    return [(np.exp(run(case)), impl_softmax_numpy(case))]


def impl_softmax_numpy(case: Case) -> np.ndarray:
    return softmax_oracle(case.args[0], **case.kwargs)


def _logsumexp_shift(run, case):
    if not _finite_rows(case):
        return []
    (x,) = case.args
    return [(run(case.with_args(x + 3.0)), run(case) + 3.0)]


def _sigmoid_symmetry(run, case):
    (x,) = case.args
    return [(run(case.with_args(-x)), 1.0 - run(case))]


def _log_sigmoid_difference(run, case):
    (x,) = case.args
    if not np.isfinite(x).all():
        return []
    return [(run(case) - run(case.with_args(-x)), x)]


# --------------------------------------------------------------------------- natives


def _torch_softmax(fn_name: str, module: str = "torch"):
    def load():
        import importlib

        fn = getattr(importlib.import_module(module), fn_name)

        def native(x, /, *, axis=-1, where=None):
            if where is not None:
                raise Unsupported("where")
            return fn(x, dim=axis)

        return native

    return load


def _jax_softmax(fn_name: str):
    def load():
        import jax

        fn = getattr(jax.nn, fn_name)

        def native(x, /, *, axis=-1, where=None):
            return fn(x, axis=axis, where=where)

        return native

    return load


def _scipy_softmax(fn_name: str):
    def load():
        import scipy.special

        fn = getattr(scipy.special, fn_name)

        def native(x, /, *, axis=-1, where=None):
            if where is not None:
                raise Unsupported("where")
            return fn(x, axis=axis)

        return native

    return load


def _torch_logsumexp():
    import torch

    def native(x, /, *, axis=-1, keepdims=False, where=None):
        if where is not None:
            raise Unsupported("where")
        return torch.logsumexp(x, dim=axis, keepdim=keepdims)

    return native


def _jax_logsumexp():
    import jax

    def native(x, /, *, axis=-1, keepdims=False, where=None):
        return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims, where=where)

    return native


def _scipy_logsumexp():
    import scipy.special

    def native(x, /, *, axis=-1, keepdims=False, where=None):
        if where is not None:
            raise Unsupported("where")
        return scipy.special.logsumexp(x, axis=axis, keepdims=keepdims)

    return native


def _plain(module: str, attr: str):
    def load():
        import importlib

        return getattr(importlib.import_module(module), attr)

    return load


# ----------------------------------------------------------------------------- specs

_CONVENTIONS = """
``where=False`` entries are excluded from the row: 0 from softmax, -inf from
log_softmax, no contribution to logsumexp. A row with nothing included gives 0 / -inf /
-inf. A ``-inf`` input behaves like an excluded entry. A row whose included entries are
all -inf, or that holds +inf or NaN, is NaN throughout (torch and JAX agree); excluded
entries keep 0 / -inf. Integer inputs raise TypeError.
"""

_SOFTMAX_INVALID = (
    InvalidCase("integer input", Case((np.arange(6).reshape(2, 3),)), TypeError, "x"),
    InvalidCase("axis out of range", Case((np.zeros((2, 3)),), {"axis": 2}), ValueError, "axis"),
    InvalidCase(
        "where does not broadcast",
        Case((np.zeros((2, 3)),), {"where": np.ones((3, 3), bool)}),
        ValueError,
        "where",
    ),
    InvalidCase(
        "where not boolean", Case((np.zeros((2, 3)),), {"where": np.ones((2, 3))}), TypeError,
        "where",
    ),
)

_SOFTMAX_EDGES = (
    Case((np.array([1000.0, 1000.0, 1000.0]),), name="huge equal logits: exactly 1/3"),
    Case((np.array([-1e4, 0.0, 1e4]),), name="spread of 2e4"),
    Case((np.array([-np.inf, 0.0, 0.0]),), name="-inf acts as excluded"),
    Case((np.array([[-np.inf, -np.inf], [1.0, 2.0]]),), name="all -inf row"),
    Case((np.array([[np.inf, 0.0], [np.nan, 1.0]]),), name="+inf and NaN rows"),
    Case(
        (np.array([[1.0, 2.0, 3.0], [4.0, np.nan, 6.0]]),),
        {"where": np.array([[True, False, True], [False, False, False]])},
        name="masked NaN and a fully masked row",
    ),
    Case((np.zeros((3, 0)),), name="empty axis"),
    Case((np.zeros((0, 4)),), {"axis": 0}, name="empty along the reduced axis 0"),
    Case((np.ones((2, 3, 4)),), {"axis": 1}, name="middle axis"),
)

SOFTMAX = OpSpec(
    name="softmax",
    family="activations",
    impl=impl.activations.softmax,
    oracle=softmax_oracle,
    cases=_softmax_cases,
    signature="softmax(x, /, *, axis=-1, where=None)",
    doc="softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), m = max over the row.\n" + _CONVENTIONS,
    edge_cases=_SOFTMAX_EDGES,
    invalid_cases=_SOFTMAX_INVALID,
    properties=(
        Property("shift invariance", _shift_invariance, "softmax(x + c) == softmax(x)"),
        Property("rows sum to one", _sums_to_one, "each row with an included entry sums to 1"),
        Property("permutation equivariance", _permutation_equivariance),
    ),
    natives=(
        Native("torch", "torch.softmax", _torch_softmax("softmax"), "no `where`",
               aliases=("torch.special.softmax",)),
        Native("torch", "torch.nn.functional.softmax",
               _torch_softmax("softmax", "torch.nn.functional"), "no `where`"),
        Native("jax", "jax.nn.softmax", _jax_softmax("softmax")),
        Native("scipy", "scipy.special.softmax", _scipy_softmax("softmax"), "no `where`"),
    ),
)

LOG_SOFTMAX = OpSpec(
    name="log_softmax",
    family="activations",
    impl=impl.activations.log_softmax,
    oracle=log_softmax_oracle,
    cases=_softmax_cases,
    signature="log_softmax(x, /, *, axis=-1, where=None)",
    doc="log_softmax(x)_i = (x_i - m) - log sum_j exp(x_j - m); never log(softmax(x)).\n"
    + _CONVENTIONS,
    edge_cases=_SOFTMAX_EDGES,
    invalid_cases=_SOFTMAX_INVALID,
    tolerance={"float32": (2e-5, 2e-5), "float64": (1e-12, 1e-12)},
    properties=(
        Property("shift invariance", _shift_invariance),
        Property("exp(log_softmax) == softmax", _exp_log_softmax_is_softmax),
        Property("permutation equivariance", _permutation_equivariance),
    ),
    natives=(
        Native("torch", "torch.log_softmax", _torch_softmax("log_softmax"), "no `where`",
               aliases=("torch.special.log_softmax",)),
        Native("torch", "torch.nn.functional.log_softmax",
               _torch_softmax("log_softmax", "torch.nn.functional"), "no `where`"),
        Native("jax", "jax.nn.log_softmax", _jax_softmax("log_softmax")),
        Native("scipy", "scipy.special.log_softmax", _scipy_softmax("log_softmax"), "no `where`"),
    ),
)

LOGSUMEXP = OpSpec(
    name="logsumexp",
    family="activations",
    impl=impl.activations.logsumexp,
    oracle=logsumexp_oracle,
    cases=lambda: _softmax_cases(keepdims=True),
    signature="logsumexp(x, /, *, axis=-1, keepdims=False, where=None)",
    doc=(
        "logsumexp(x) = m + log sum_i exp(x_i - m). Mathematical limits: all -inf, nothing "
        "included, or an empty axis give -inf; +inf gives +inf; NaN gives NaN."
    ),
    edge_cases=(
        Case((np.array([1000.0, 1000.0]),), name="huge equal values"),
        Case((np.array([[-np.inf, -np.inf], [np.inf, 1.0]]),), name="-inf row and +inf row"),
        Case((np.zeros((2, 0)),), name="empty axis"),
        Case(
            (np.array([[1.0, 2.0], [3.0, 4.0]]),),
            {"where": np.array([[True, False], [False, False]]), "keepdims": True},
            name="fully masked row keeps dims",
        ),
    ),
    invalid_cases=_SOFTMAX_INVALID,
    properties=(Property("shift", _logsumexp_shift, "logsumexp(x + c) == logsumexp(x) + c"),),
    natives=(
        Native("torch", "torch.logsumexp", _torch_logsumexp, "no `where`",
               aliases=("torch.special.logsumexp",)),
        Native("jax", "jax.nn.logsumexp", _jax_logsumexp,
               aliases=("jax.scipy.special.logsumexp",)),
        Native("scipy", "scipy.special.logsumexp", _scipy_logsumexp, "no `where`"),
    ),
)

_ELEMENTWISE_INVALID = (
    InvalidCase("integer input", Case((np.arange(4),)), TypeError, "x"),
    InvalidCase("boolean input", Case((np.array([True, False]),)), TypeError, "x"),
)

SIGMOID = OpSpec(
    name="sigmoid",
    family="activations",
    impl=impl.activations.sigmoid,
    oracle=sigmoid_oracle,
    cases=_elementwise_cases,
    signature="sigmoid(x, /)",
    doc="sigmoid(x) = 1 / (1 + exp(-x)), computed from exp(-|x|) so it never overflows.",
    edge_cases=(
        Case((np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]),), name="saturation"),
        Case((np.array([np.nan, np.inf, -np.inf]),), name="specials"),
        Case((np.zeros((0, 3)),), name="empty"),
    ),
    invalid_cases=_ELEMENTWISE_INVALID,
    tolerance={"float32": (2e-6, 1e-7), "float64": (1e-14, 1e-300)},
    properties=(Property("sigmoid(-x) == 1 - sigmoid(x)", _sigmoid_symmetry),),
    natives=(
        Native("torch", "torch.sigmoid", _plain("torch", "sigmoid"),
               aliases=("torch.special.expit", "torch.nn.functional.sigmoid")),
        Native("jax", "jax.nn.sigmoid", _plain("jax.nn", "sigmoid"),
               aliases=("jax.scipy.special.expit",)),
        Native("scipy", "scipy.special.expit", _plain("scipy.special", "expit")),
    ),
)

LOG_SIGMOID = OpSpec(
    name="log_sigmoid",
    family="activations",
    impl=impl.activations.log_sigmoid,
    oracle=log_sigmoid_oracle,
    cases=_elementwise_cases,
    signature="log_sigmoid(x, /)",
    doc="log_sigmoid(x) = -log(1 + exp(-x)) = min(x, 0) - log1p(exp(-|x|)).",
    edge_cases=(
        Case((np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]),), name="saturation"),
        Case((np.array([np.nan, np.inf, -np.inf]),), name="specials"),
    ),
    invalid_cases=_ELEMENTWISE_INVALID,
    tolerance={"float32": (2e-6, 1e-7), "float64": (1e-14, 1e-300)},
    properties=(
        Property("log_sigmoid(x) - log_sigmoid(-x) == x", _log_sigmoid_difference),
    ),
    natives=(
        Native(
            "torch", "torch.nn.functional.logsigmoid",
            _plain("torch.nn.functional", "logsigmoid"),
        ),
        Native("jax", "jax.nn.log_sigmoid", _plain("jax.nn", "log_sigmoid")),
        Native("scipy", "scipy.special.log_expit", _plain("scipy.special", "log_expit")),
    ),
)

SPECS = (SOFTMAX, LOG_SOFTMAX, LOGSUMEXP, SIGMOID, LOG_SIGMOID)
