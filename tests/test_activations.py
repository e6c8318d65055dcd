"""softmax, log_softmax, logsumexp, sigmoid and log_sigmoid.

Named edge cases run on every backend; hypothesis cross-checks run against scipy.special,
torch and jax.nn; gradients are checked against torch autograd and ``jax.grad`` of the
native functions.

Documented differences from peers, tested as ours:
- ``scipy.special.log_softmax([inf, 0])`` is ``[nan, -inf]``; ours (like torch and jax) is
  NaN throughout the row.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from array_api_compat import array_namespace
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import xpops
from xpops.conformance.backends import jax_x64

INF = np.inf
NAN = np.nan

ROW_OPS = {
    "softmax": xpops.softmax,
    "log_softmax": xpops.log_softmax,
    "logsumexp": xpops.logsumexp,
}
ELEMENTWISE_OPS = {"sigmoid": xpops.sigmoid, "log_sigmoid": xpops.log_sigmoid}
ALL_OPS = {**ROW_OPS, **ELEMENTWISE_OPS}


# --------------------------------------------------------------------------- helpers



def assert_same(actual: np.ndarray, expected: np.ndarray) -> None:
    """Exact equality (NaN equal to NaN, signs of infinities compared)."""
    np.testing.assert_array_equal(actual, np.asarray(expected, dtype=actual.dtype))


def check_meta(backend, out, x, shape) -> None:
    """Namespace, array type, dtype, shape and device of an output."""
    assert array_namespace(out) is array_namespace(x)
    assert type(out) is type(x)
    assert out.dtype == x.dtype
    assert tuple(out.shape) == tuple(shape)
    assert backend.same_device(out)


def tols(dtype: np.dtype, log_domain: bool) -> dict[str, float]:
    """Tolerances for peer comparisons.

    Probability-domain outputs (softmax, sigmoid) are positive sums of positive terms:
    relative error only, ``atol`` just covers subnormals. Log-domain outputs subtract a
    log-sum whose absolute error is a few ulps of the row size, hence an ``atol``.
    """
    if np.dtype(dtype) == np.float64:
        return {"rtol": 1e-12, "atol": 1e-13 if log_domain else 1e-300}
    return {"rtol": 2e-5, "atol": 2e-5 if log_domain else 1e-6}


# --------------------------------------------------------------------------- strategies


# JAX compiles every primitive once per shape: its checks draw from a few fixed shapes
JAX_SHAPES = [(5,), (23,), (3, 4), (2, 19), (2, 3, 4), (3, 17, 2)]


@st.composite
def row_inputs(draw, dtype=np.float64, neg_inf: bool = False, fixed_shapes: bool = False):
    """(x, axis): 1-3 dims, the reduced axis sometimes longer than 16, magnitudes to 1e4."""
    if fixed_shapes:
        shape = list(draw(st.sampled_from(JAX_SHAPES)))
        ndim = len(shape)
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        ndim = draw(st.integers(1, 3))
        axis = draw(st.integers(-ndim, ndim - 1))
        shape = [draw(st.integers(1, 4)) for _ in range(ndim)]
        shape[axis] = draw(st.one_of(st.integers(1, 6), st.integers(17, 40)))
    width = 64 if np.dtype(dtype) == np.float64 else 32
    choices = [
        st.floats(-5, 5, width=width),
        st.floats(-1e4, 1e4, width=width),
        st.sampled_from([0.0, 1.0, -1.0, 1e4, -1e4, 30.0]),  # ties and extremes
    ]
    if neg_inf:
        choices.append(st.just(-INF))
    x = draw(arrays(dtype, tuple(shape), elements=st.one_of(*choices)))
    if neg_inf:
        # at least one finite entry per row: an all -inf row is a named case, below
        first = [slice(None)] * ndim
        first[axis] = 0
        x[tuple(first)] = np.where(np.isneginf(x[tuple(first)]), 0.0, x[tuple(first)])
    return x, axis


@st.composite
def elementwise_inputs(draw, dtype=np.float64, fixed_shapes: bool = False):
    if fixed_shapes:
        shape = draw(st.sampled_from([(), (7,), (4, 5)]))
    else:
        shape = draw(st.lists(st.integers(1, 20), min_size=0, max_size=2).map(tuple))
    width = 64 if np.dtype(dtype) == np.float64 else 32
    elements = st.one_of(
        st.floats(-5, 5, width=width),
        st.floats(-1e3, 1e3, width=width),
        st.sampled_from([0.0, -0.0, 1e3, -1e3, 36.0, -36.0, 710.0, -745.0]),
    )
    return draw(arrays(dtype, shape, elements=elements))


# --------------------------------------------------------------------------- named cases


def test_softmax_equal_large_entries_exactly_one_third(backend):
    for dt in backend.float_dtypes:
        x = backend.asarray(np.array([1000.0, 1000.0, 1000.0]), dt)
        out = xpops.softmax(x)
        check_meta(backend, out, x, (3,))
        third = np.dtype(dt).type(1) / np.dtype(dt).type(3)
        assert_same(backend.to_numpy(out), np.full(3, third, dtype=dt))


def test_log_softmax_huge_spread_is_exact(backend):
    # -1e4, 1e4 and -2e4 are exact in float32 too, and exp(-1e4) vanishes in both
    for dt in backend.float_dtypes:
        x = backend.asarray(np.array([-1e4, 0.0, 1e4]), dt)
        out = xpops.log_softmax(x)
        check_meta(backend, out, x, (3,))
        assert_same(backend.to_numpy(out), [-2e4, -1e4, 0.0])


def test_softmax_with_neg_inf_entry(backend):
    for dt in backend.float_dtypes:
        x = backend.asarray(np.array([-INF, 0.0, 0.0]), dt)
        assert_same(backend.to_numpy(xpops.softmax(x)), [0.0, 0.5, 0.5])
        assert_same(backend.to_numpy(xpops.log_softmax(x)), [-INF, -np.log(2), -np.log(2)])
        assert_same(backend.to_numpy(xpops.logsumexp(x)), np.log(2))


NAN_ROWS = {
    "all_neg_inf": [-INF, -INF, -INF],
    "pos_inf": [1.0, INF, 2.0],
    "pos_inf_and_neg_inf": [-INF, INF, 0.0],
    "nan": [1.0, NAN, 2.0],
}


@pytest.mark.parametrize("row", NAN_ROWS.values(), ids=NAN_ROWS.keys())
def test_softmax_nan_rows(backend, row):
    # row 0 is the degenerate one; row 1 is ordinary and must be unaffected
    x_np = np.array([row, [0.0, 1.0, 2.0]])
    expected_good = np.exp([0.0, 1.0, 2.0] - np.log(np.sum(np.exp([0.0, 1.0, 2.0]))))
    for dt in backend.float_dtypes:
        x = backend.asarray(x_np, dt)
        for op in (xpops.softmax, xpops.log_softmax):
            out = backend.to_numpy(op(x, axis=-1))
            assert np.isnan(out[0]).all(), (op.__name__, out)
            good = np.exp(out[1]) if op is xpops.log_softmax else out[1]
            np.testing.assert_allclose(good, expected_good, rtol=1e-6)


def test_logsumexp_limits(backend):
    x_np = np.array(
        [
            [-INF, -INF, -INF],
            [1.0, INF, 2.0],
            [-INF, INF, 0.0],
            [1.0, NAN, 2.0],
            [-INF, 0.0, -INF],
            [1000.0, 1000.0, -INF],
        ]
    )
    for dt in backend.float_dtypes:
        x = backend.asarray(x_np, dt)
        out = xpops.logsumexp(x, axis=-1)
        check_meta(backend, out, x, (6,))
        got = backend.to_numpy(out)
        assert_same(got[:5], [-INF, INF, INF, NAN, 0.0])
        np.testing.assert_allclose(got[5], 1000.0 + np.log(2.0), rtol=1e-7)
        cols = backend.asarray(x_np[[0, 4]], dt)
        keep = xpops.logsumexp(cols, axis=0, keepdims=True)
        check_meta(backend, keep, cols, (1, 3))
        assert_same(backend.to_numpy(keep), [[-INF, 0.0, -INF]])


def test_empty_axis(backend):
    for dt in backend.float_dtypes:
        x = backend.asarray(np.zeros((2, 0)), dt)
        lse = xpops.logsumexp(x, axis=-1)
        check_meta(backend, lse, x, (2,))
        assert_same(backend.to_numpy(lse), [-INF, -INF])
        lse_keep = xpops.logsumexp(x, axis=1, keepdims=True)
        check_meta(backend, lse_keep, x, (2, 1))
        assert_same(backend.to_numpy(lse_keep), [[-INF], [-INF]])
        for op in (xpops.softmax, xpops.log_softmax):
            check_meta(backend, op(x, axis=-1), x, (2, 0))
            assert backend.to_numpy(op(x, axis=-1)).shape == (2, 0)
        # empty batch, non-empty axis: computed, so that a lazy backend cannot hide an
        # error (Dask once failed on the max of an empty chunk)
        e = backend.asarray(np.zeros((0, 3)), dt)
        for name, op in ALL_OPS.items():
            for kw in ({}, {"where": backend.asarray(np.ones((0, 3), dtype=bool))}):
                if name in ELEMENTWISE_OPS and kw:
                    continue
                out = op(e, axis=-1, **kw) if name in ROW_OPS else op(e)
                shape = (0,) if name == "logsumexp" else (0, 3)
                check_meta(backend, out, e, shape)
                assert backend.to_numpy(out).shape == shape


def test_where_excludes_entries(backend):
    x_np = np.array(
        [
            [1.0, 2.0, 3.0, 4.0],  # two entries excluded
            [5.0, 6.0, 7.0, 8.0],  # nothing left
            [1.0, NAN, 3.0, INF],  # non-finite entries excluded: row is ordinary
            [-INF, 0.0, 0.0, 9.0],
        ]
    )
    w_np = np.array(
        [
            [True, False, True, False],
            [False, False, False, False],
            [True, False, True, False],
            [True, True, True, False],
        ]
    )
    pair = np.array([1.0, 3.0])
    pair_lse = 3.0 + np.log1p(np.exp(-2.0))
    for dt in backend.float_dtypes:
        x = backend.asarray(x_np, dt)
        w = backend.asarray(w_np)
        sm = backend.to_numpy(xpops.softmax(x, where=w))
        lsm = backend.to_numpy(xpops.log_softmax(x, where=w))
        lse = backend.to_numpy(xpops.logsumexp(x, where=w))
        for got in (sm, lsm):
            assert not np.isnan(got).any(), got
        rtol = 1e-12 if dt == "float64" else 1e-6
        for r in (0, 2):
            np.testing.assert_allclose(sm[r, [0, 2]], np.exp(pair - pair_lse), rtol=rtol)
            np.testing.assert_allclose(lsm[r, [0, 2]], pair - pair_lse, rtol=rtol)
            np.testing.assert_allclose(lse[r], pair_lse, rtol=rtol)
            assert_same(sm[r, [1, 3]], [0.0, 0.0])
            assert_same(lsm[r, [1, 3]], [-INF, -INF])
        # a row with nothing left: 0 / -inf / -inf
        assert_same(sm[1], np.zeros(4))
        assert_same(lsm[1], np.full(4, -INF))
        assert_same(lse[1], -INF)
        assert_same(sm[3], [0.0, 0.5, 0.5, 0.0])
        assert_same(lsm[3], [-INF, -np.log(2), -np.log(2), -INF])


def test_where_nan_row_keeps_excluded_entries(backend):
    """Included NaN poisons the included entries only; excluded ones stay 0 / -inf."""
    x_np = np.array([[1.0, NAN, 3.0], [-INF, -INF, 2.0]])
    w_np = np.array([[True, True, False], [True, True, False]])
    for dt in backend.float_dtypes:
        x = backend.asarray(x_np, dt)
        w = backend.asarray(w_np)
        sm = backend.to_numpy(xpops.softmax(x, where=w))
        lsm = backend.to_numpy(xpops.log_softmax(x, where=w))
        assert np.isnan(sm[:, :2]).all() and np.isnan(lsm[:, :2]).all()
        assert_same(sm[:, 2], [0.0, 0.0])
        assert_same(lsm[:, 2], [-INF, -INF])
        assert_same(backend.to_numpy(xpops.logsumexp(x, where=w)), [NAN, -INF])


def test_where_broadcasts(backend):
    x_np = np.arange(12.0).reshape(3, 4) / 3
    w_np = np.array([True, False, True, True])
    x = backend.asarray(x_np, backend.float_dtypes[-1])
    w = backend.asarray(w_np)
    for name, op in ROW_OPS.items():
        out = op(x, where=w)
        shape = (3,) if name == "logsumexp" else (3, 4)
        check_meta(backend, out, x, shape)
        full = op(x, where=backend.asarray(np.broadcast_to(w_np, (3, 4)).copy()))
        assert_same(backend.to_numpy(out), backend.to_numpy(full))


@pytest.mark.parametrize("name", ALL_OPS)
def test_output_metadata_and_no_mutation(backend, name, rng):
    op = ALL_OPS[name]
    x_np = rng.normal(size=(2, 5, 3)) * 10
    w_np = rng.random((2, 5, 3)) < 0.7
    for dt in backend.float_dtypes:
        x = backend.asarray(x_np, dt)
        before = backend.to_numpy(x).copy()
        if name in ROW_OPS:
            for axis in (0, 1, -1):
                expected_shape = list(x_np.shape)
                if name == "logsumexp":
                    del expected_shape[axis]
                out = op(x, axis=axis)
                check_meta(backend, out, x, tuple(expected_shape))
                w = backend.asarray(w_np)
                w_before = backend.to_numpy(w).copy()
                check_meta(backend, op(x, axis=axis, where=w), x, tuple(expected_shape))
                assert_same(backend.to_numpy(w), w_before)
        else:
            out = op(x)
            check_meta(backend, out, x, x_np.shape)
        assert_same(backend.to_numpy(x), before)


@pytest.mark.parametrize("name", ALL_OPS)
def test_integer_input_raises_type_error(backend, name):
    x = backend.asarray(np.array([1, 2, 3]))
    with pytest.raises(TypeError):
        ALL_OPS[name](x)
    b = backend.asarray(np.array([True, False]))
    with pytest.raises(TypeError):
        ALL_OPS[name](b)


@pytest.mark.parametrize("name", ROW_OPS)
def test_bad_where_and_axis(backend, name):
    op = ROW_OPS[name]
    x = backend.asarray(np.zeros((2, 3)), backend.float_dtypes[-1])
    with pytest.raises(ValueError, match="where"):
        op(x, where=backend.asarray(np.ones((2, 2), dtype=bool)))
    with pytest.raises(ValueError, match="where"):
        op(x, where=backend.asarray(np.ones((4, 2, 3), dtype=bool)))
    with pytest.raises(TypeError, match="where"):
        op(x, where=backend.asarray(np.ones((2, 3))))
    for axis in (2, -3):
        with pytest.raises(ValueError, match="axis"):
            op(x, axis=axis)
    with pytest.raises(TypeError, match="axis"):
        op(x, axis=1.0)


def test_sigmoid_extremes(backend):
    x_np = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0, -INF, INF])
    for dt in backend.float_dtypes:
        x = backend.asarray(x_np, dt)
        s = backend.to_numpy(xpops.sigmoid(x))
        ls = backend.to_numpy(xpops.log_sigmoid(x))
        check_meta(backend, xpops.sigmoid(x), x, (7,))
        check_meta(backend, xpops.log_sigmoid(x), x, (7,))
        assert_same(s[[0, 2, 4, 5, 6]], [0.0, 0.5, 1.0, 0.0, 1.0])
        # exp(-100) is subnormal in float32, and JAX on CPU flushes those to zero
        tiny = {"rtol": 1e-5, "atol": 1e-38} if dt == "float32" else {"rtol": 1e-14}
        np.testing.assert_allclose(s[1], np.exp(-100.0), **tiny)
        assert s[3] == 1.0
        assert_same(ls[[0, 1, 4, 5, 6]], [-1000.0, -100.0, 0.0, -INF, 0.0])
        np.testing.assert_allclose(ls[2], -np.log(2.0), rtol=1e-7)
        np.testing.assert_allclose(ls[3], -np.exp(-100.0), **tiny)
        nan = backend.asarray(np.array([NAN]), dt)
        assert np.isnan(backend.to_numpy(xpops.sigmoid(nan))).all()
        assert np.isnan(backend.to_numpy(xpops.log_sigmoid(nan))).all()


def test_device1_outputs_stay_on_device(device1):
    x = device1.asarray(np.array([[1.0, 2.0, -INF], [3.0, 4.0, 5.0]]))
    w = device1.asarray(np.array([[True, True, False], [True, False, True]]))
    assert str(device1.device) != str(device1.xp.Device("CPU_DEVICE"))
    for name, op in ALL_OPS.items():
        outs = [op(x)] if name in ELEMENTWISE_OPS else [op(x), op(x, axis=0, where=w)]
        for out in outs:
            assert device1.same_device(out), (name, out.device)
    out = xpops.logsumexp(device1.asarray(np.zeros((2, 0))), axis=-1)
    assert device1.same_device(out)


# --------------------------------------------------------------------------- scipy


@given(row_inputs(neg_inf=True))
def test_row_ops_match_scipy(case):
    special = pytest.importorskip("scipy.special")
    x, axis = case
    t = tols(np.float64, log_domain=False)
    tl = tols(np.float64, log_domain=True)
    np.testing.assert_allclose(xpops.softmax(x, axis=axis), special.softmax(x, axis=axis), **t)
    np.testing.assert_allclose(
        xpops.log_softmax(x, axis=axis), special.log_softmax(x, axis=axis), **tl
    )
    for keepdims in (False, True):
        np.testing.assert_allclose(
            xpops.logsumexp(x, axis=axis, keepdims=keepdims),
            special.logsumexp(x, axis=axis, keepdims=keepdims),
            **tl,
        )


@given(elementwise_inputs())
def test_sigmoids_match_scipy(x):
    special = pytest.importorskip("scipy.special")
    np.testing.assert_allclose(xpops.sigmoid(x), special.expit(x), **tols(np.float64, False))
    np.testing.assert_allclose(
        xpops.log_sigmoid(x), special.log_expit(x), **tols(np.float64, True)
    )


def test_scipy_log_softmax_pos_inf_differs():
    """scipy leaves -inf next to +inf; ours (torch, jax) gives a NaN row."""
    special = pytest.importorskip("scipy.special")
    x = np.array([INF, 0.0])
    assert np.isneginf(special.log_softmax(x)[1])
    assert np.isnan(xpops.log_softmax(x)).all()


# --------------------------------------------------------------------------- torch


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_row_ops_match_torch(dtype, data):
    torch = pytest.importorskip("torch")
    x_np, axis = data.draw(row_inputs(dtype, neg_inf=True))
    x = torch.asarray(x_np)
    t, tl = tols(dtype, False), tols(dtype, True)

    def check(ours, theirs, tol):
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), **tol)

    check(xpops.softmax(x, axis=axis), torch.softmax(x, dim=axis), t)
    check(xpops.log_softmax(x, axis=axis), torch.log_softmax(x, dim=axis), tl)
    for keepdims in (False, True):
        check(
            xpops.logsumexp(x, axis=axis, keepdims=keepdims),
            torch.logsumexp(x, dim=axis, keepdim=keepdims),
            tl,
        )


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_sigmoids_match_torch(dtype, data):
    torch = pytest.importorskip("torch")
    x = torch.asarray(data.draw(elementwise_inputs(dtype)))
    np.testing.assert_allclose(
        xpops.sigmoid(x).numpy(), torch.sigmoid(x).numpy(), **tols(dtype, False)
    )
    np.testing.assert_allclose(
        xpops.log_sigmoid(x).numpy(),
        torch.nn.functional.logsigmoid(x).numpy(),
        **tols(dtype, True),
    )


# --------------------------------------------------------------------------- jax


# The hypothesis checks against jax.nn run both sides under one ``jax.jit`` per (shape,
# axis): eager JAX compiles each primitive per shape, which would dominate the run time.
# The eager path is covered by the named cases on the jax backends and by
# test_jit_matches_eager.


def _jax_row_pairs(x, mask, axis):
    import jax

    return {
        "softmax": (xpops.softmax(x, axis=axis), jax.nn.softmax(x, axis=axis)),
        "log_softmax": (xpops.log_softmax(x, axis=axis), jax.nn.log_softmax(x, axis=axis)),
        "logsumexp": (xpops.logsumexp(x, axis=axis), jax.nn.logsumexp(x, axis=axis)),
        "softmax_where": (
            xpops.softmax(x, axis=axis, where=mask),
            jax.nn.softmax(x, axis=axis, where=mask),
        ),
        "log_softmax_where": (
            xpops.log_softmax(x, axis=axis, where=mask),
            jax.nn.log_softmax(x, axis=axis, where=mask),
        ),
        "logsumexp_where": (
            xpops.logsumexp(x, axis=axis, where=mask, keepdims=True),
            jax.nn.logsumexp(x, axis=axis, where=mask, keepdims=True),
        ),
    }


def _jax_sigmoid_pairs(x):
    import jax

    return {
        "sigmoid": (xpops.sigmoid(x), jax.nn.sigmoid(x)),
        "log_sigmoid": (xpops.log_sigmoid(x), jax.nn.log_sigmoid(x)),
    }


@functools.cache
def _jitted(fn, static_argnames=()):
    import jax

    return jax.jit(fn, static_argnames=static_argnames)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_row_ops_match_jax(dtype, data):
    pytest.importorskip("jax")
    import jax.numpy as jnp

    x_np, axis = data.draw(row_inputs(dtype, neg_inf=True, fixed_shapes=True))
    mask_np = data.draw(arrays(np.bool_, x_np.shape))
    with jax_x64(dtype == np.float64):
        x, mask = jnp.asarray(x_np), jnp.asarray(mask_np)
        assert x.dtype == dtype
        pairs = _jitted(_jax_row_pairs, ("axis",))(x, mask, axis=axis)
        for name, (ours, theirs) in pairs.items():
            assert ours.dtype == theirs.dtype == dtype, name
            np.testing.assert_allclose(
                np.asarray(ours), np.asarray(theirs), err_msg=name,
                **tols(dtype, log_domain=not name.startswith("softmax")),
            )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_sigmoids_match_jax(dtype, data):
    pytest.importorskip("jax")
    import jax.numpy as jnp

    x_np = data.draw(elementwise_inputs(dtype, fixed_shapes=True))
    with jax_x64(dtype == np.float64):
        x = jnp.asarray(x_np)
        for name, (ours, theirs) in _jitted(_jax_sigmoid_pairs)(x).items():
            assert ours.dtype == theirs.dtype == dtype, name
            np.testing.assert_allclose(
                np.asarray(ours), np.asarray(theirs), err_msg=name,
                **tols(dtype, log_domain=name == "log_sigmoid"),
            )


# --------------------------------------------------------------------------- gradients

GRAD_TOL = {"rtol": 1e-10, "atol": 1e-12}


def _torch_natives():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    return {
        "softmax": lambda x, axis: torch.softmax(x, dim=axis),
        "log_softmax": lambda x, axis: torch.log_softmax(x, dim=axis),
        "logsumexp": lambda x, axis: torch.logsumexp(x, dim=axis),
        "sigmoid": lambda x, axis: torch.sigmoid(x),
        "log_sigmoid": lambda x, axis: F.logsigmoid(x),
    }


def _ours(name):
    op = ALL_OPS[name]
    if name in ELEMENTWISE_OPS:
        return lambda x, axis: op(x)
    return lambda x, axis: op(x, axis=axis)


@pytest.mark.usefixtures("both_paths")
@given(data=st.data())
def test_gradients_match_torch(data):
    torch = pytest.importorskip("torch")
    natives = _torch_natives()
    x_np, axis = data.draw(row_inputs(np.float64))
    x_np = x_np / 100  # gradients of saturated rows are exact zeros either way
    for name, native in natives.items():
        ours = _ours(name)
        out_shape = native(torch.asarray(x_np), axis).shape
        g = torch.asarray(np.random.default_rng(0).normal(size=tuple(out_shape)))
        grads = []
        for f in (ours, native):
            x = torch.asarray(x_np).requires_grad_(True)
            torch.sum(g * f(x, axis)).backward()
            grads.append(x.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], err_msg=name, **GRAD_TOL)


def _jax_grad_pairs(x, g, axis):
    import jax
    import jax.numpy as jnp

    natives = {
        "softmax": lambda v: jax.nn.softmax(v, axis=axis),
        "log_softmax": lambda v: jax.nn.log_softmax(v, axis=axis),
        "logsumexp": lambda v: jax.nn.logsumexp(v, axis=axis, keepdims=True),
        "sigmoid": jax.nn.sigmoid,
        "log_sigmoid": jax.nn.log_sigmoid,
    }
    ours = {
        "softmax": lambda v: xpops.softmax(v, axis=axis),
        "log_softmax": lambda v: xpops.log_softmax(v, axis=axis),
        "logsumexp": lambda v: xpops.logsumexp(v, axis=axis, keepdims=True),
        "sigmoid": xpops.sigmoid,
        "log_sigmoid": xpops.log_sigmoid,
    }
    out = {}
    for name, native in natives.items():
        # g broadcasts against logsumexp's keepdims output: a sum of weighted copies
        def loss(v, f):
            return jnp.sum(g * f(v))

        out[name] = (jax.grad(loss)(x, ours[name]), jax.grad(loss)(x, native))
    return out


@given(data=st.data())
def test_gradients_match_jax(data):
    pytest.importorskip("jax")
    import jax.numpy as jnp

    x_np, axis = data.draw(row_inputs(np.float64, fixed_shapes=True))
    x_np = x_np / 100
    g_np = np.random.default_rng(0).normal(size=x_np.shape)
    with jax_x64(True):
        pairs = _jitted(_jax_grad_pairs, ("axis",))(jnp.asarray(x_np), jnp.asarray(g_np), axis=axis)
        for name, (got, want) in pairs.items():
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), err_msg=name, **GRAD_TOL)


@pytest.mark.usefixtures("both_paths")
def test_sigmoid_gradients_at_zero_regression():
    """d/dx sigmoid(0) = 1/4 and d/dx log_sigmoid(0) = 1/2 on torch and JAX alike.

    Both once used ``abs(x)``, whose derivative at 0 is 0 on torch and 1 on JAX: torch
    gave sigmoid'(0) = 0 and JAX gave log_sigmoid'(0) = 1.
    """
    x_np = np.array([-0.0, 0.0, 1.0, -1.0])
    expected_sig = np.array([0.25, 0.25, 0.19661193324148185, 0.19661193324148185])
    expected_log = np.array([0.5, 0.5, 0.2689414213699951, 0.7310585786300049])
    torch = pytest.importorskip("torch")
    for op, expected in ((xpops.sigmoid, expected_sig), (xpops.log_sigmoid, expected_log)):
        x = torch.asarray(x_np).requires_grad_(True)
        torch.sum(op(x)).backward()
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14)
    pytest.importorskip("jax")
    import jax
    import jax.numpy as jnp

    with jax_x64(True):
        for op, expected in ((xpops.sigmoid, expected_sig), (xpops.log_sigmoid, expected_log)):
            got = jax.grad(lambda v, f=op: jnp.sum(f(v)))(jnp.asarray(x_np))
            np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-14)


def test_where_gradients_match_jax():
    pytest.importorskip("jax")
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(3)
    x_np = rng.normal(size=(4, 6))
    w_np = rng.random((4, 6)) < 0.6
    w_np[0] = False  # a row with nothing left: zero gradient, no NaN
    with jax_x64(True):
        x, w = jnp.asarray(x_np), jnp.asarray(w_np)
        g = jnp.asarray(rng.normal(size=(4, 6)))
        for ours, native in (
            (xpops.softmax, jax.nn.softmax),
            (xpops.log_softmax, jax.nn.log_softmax),
        ):
            # excluded outputs are constants (0 or -inf): only included ones carry gradient
            def loss(v, f):
                return jnp.sum(jnp.where(w, g * f(v, where=w), 0.0))

            got = jax.grad(loss)(x, ours)
            want = jax.grad(loss)(x, native)
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), **GRAD_TOL)
            assert not np.isnan(np.asarray(got)).any()
        got = jax.grad(lambda v: jnp.sum(xpops.logsumexp(v, where=w)))(x)
        want = jax.grad(lambda v: jnp.sum(jax.nn.logsumexp(v, axis=-1, where=w)))(x)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), **GRAD_TOL)


# --------------------------------------------------------------------------- jax.jit


def test_jit_matches_eager(rng):
    pytest.importorskip("jax")
    import jax
    import jax.numpy as jnp

    x_np = rng.normal(size=(3, 20)) * 50
    x_np[0, 3] = -INF
    w_np = rng.random((3, 20)) < 0.5
    w_np[1] = False
    for x64 in (False, True):
        with jax_x64(x64):
            x, w = jnp.asarray(x_np), jnp.asarray(w_np)
            calls = {
                "softmax": lambda v: xpops.softmax(v, axis=0),
                "log_softmax": lambda v: xpops.log_softmax(v),
                "logsumexp": lambda v: xpops.logsumexp(v, axis=1, keepdims=True),
                "softmax_where": lambda v, w=w: xpops.softmax(v, where=w),
                "log_softmax_where": lambda v, w=w: xpops.log_softmax(v, where=w),
                "logsumexp_where": lambda v, w=w: xpops.logsumexp(v, where=w),
                "sigmoid": xpops.sigmoid,
                "log_sigmoid": xpops.log_sigmoid,
            }
            for name, f in calls.items():
                eager = f(x)
                jitted = jax.jit(f)(x)
                assert jitted.dtype == eager.dtype and jitted.shape == eager.shape, name
                np.testing.assert_allclose(
                    np.asarray(jitted), np.asarray(eager), rtol=1e-6 if not x64 else 1e-13,
                    atol=1e-6 if not x64 else 1e-13, err_msg=name,
                )
            # where as a traced argument as well
            jitted = jax.jit(lambda v, m: xpops.log_softmax(v, where=m))(x, w)
            expected_neg_inf = ~w_np | np.isneginf(x_np)
            np.testing.assert_array_equal(np.isneginf(np.asarray(jitted)), expected_neg_inf)
