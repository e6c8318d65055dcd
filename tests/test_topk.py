"""_lib.topk.smallest_k: every native path and the standard fallback give one order.

The reference is NumPy's stable argsort: ascending values, equal values in index order.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpops._lib import topk
from xpops._lib.native import natives_disabled
from xpops._lib.topk import smallest_k

PATHS = pytest.mark.parametrize("native", [True, False], ids=["native", "fallback"])


def _path(native: bool) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext() if native else natives_disabled()


def _reference(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    index = np.argsort(x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, index, axis=-1), index


def _check(backend, x: np.ndarray, k: int, native: bool, dtype: str | None = None) -> None:
    dtype = dtype or backend.float_dtypes[0]
    x = x.astype(dtype)
    with _path(native):
        values, index = smallest_k(backend.xp, backend.asarray(x, dtype), k)
    want_values, want_index = _reference(x, k)
    got_index = backend.to_numpy(index)
    np.testing.assert_array_equal(got_index, want_index)
    np.testing.assert_array_equal(backend.to_numpy(values), want_values)
    assert backend.dtype_name(index) == backend.int_dtype
    assert backend.same_device(values) and backend.same_device(index)


CASES = [
    ((7, 3000), 5),  # NumPy: group-minimum threshold
    ((5, 2999), 1),  # ... with a tail group
    ((4, 1000), 40),
    ((3, 600), 600),  # k = M
    ((2, 3, 700), 3),  # batch dimensions
    ((6, 20), 4),  # short rows: sorted outright
]


@PATHS
@pytest.mark.parametrize(("shape", "k"), CASES, ids=[f"{s}-k{k}" for s, k in CASES])
@pytest.mark.parametrize("kind", ["ties", "continuous"])
def test_order_is_the_stable_sort(backend, native, shape, k, kind):
    rng = np.random.default_rng(sum(shape) + k)
    if kind == "ties":  # most rows have ties across the k-th position
        x = rng.integers(0, 4, size=shape).astype(np.float64)
    else:
        x = rng.standard_normal(shape)
    _check(backend, x, k, native)


@PATHS
def test_signed_zeros_tie(backend, native):
    x = np.array([[0.0, -0.0, 1.0, -0.0, 0.0] * 120])
    _check(backend, x, 3, native)
    _check(backend, x, 300, native)


@PATHS
def test_nan_sorts_last(backend, native):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, size=(4, 700)).astype(np.float64)
    x[:, ::7] = np.nan
    x[0] = np.nan  # a row of NaN: index order
    with _path(native):
        values, index = smallest_k(backend.xp, backend.asarray(x, "float32"), 30)
    want_values, want_index = _reference(x.astype(np.float32), 30)
    np.testing.assert_array_equal(backend.to_numpy(index), want_index)
    np.testing.assert_array_equal(backend.to_numpy(values), want_values)


def test_numpy_threshold_path_is_taken(monkeypatch):
    """The fast path must not silently fall back to a full sort on plain data."""
    calls = []
    real = np.argsort
    monkeypatch.setattr(np, "argsort", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    x = np.random.default_rng(0).integers(0, 9, size=(50, 5000)).astype(np.float32)
    values, index = topk._numpy_smallest_k(x, 5)
    monkeypatch.undo()
    np.testing.assert_array_equal(index, _reference(x, 5)[1])
    assert not calls


@given(
    st.integers(1, 3), st.integers(1, 2100), st.integers(0, 2**32 - 1), st.data(),
)
def test_numpy_path_matches_stable_sort(rows, m, seed, data):
    rng = np.random.default_rng(seed)
    levels = data.draw(st.sampled_from([2, 5, 1000]))
    x = rng.integers(0, levels, size=(rows, m)).astype(np.float32)
    k = data.draw(st.integers(1, m))
    values, index = topk._numpy_smallest_k(x, k)
    want_values, want_index = _reference(x, k)
    np.testing.assert_array_equal(index, want_index)
    np.testing.assert_array_equal(values, want_values)


def test_torch_fixes_ties_at_the_boundary():
    torch = pytest.importorskip("torch")
    x = torch.zeros(3, 50)  # topk alone may keep any 5 of the 50 zeros
    _, index = topk._torch_smallest_k(x, 5)
    assert index.tolist() == [[0, 1, 2, 3, 4]] * 3
