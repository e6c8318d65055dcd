"""bincount: native paths and the sort-based standard fallback agree with np.bincount."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpops._lib.counting import bincount
from xpops._lib.native import natives_disabled


def _path(native: bool) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext() if native else natives_disabled()


@pytest.mark.parametrize("native", [True, False], ids=["native", "fallback"])
@pytest.mark.parametrize("weighted", [False, True], ids=["counts", "weights"])
def test_bincount_matches_numpy(backend, native, weighted, rng):
    length = 37
    x = rng.integers(0, length - 5, size=(40, 3))  # the last bins stay empty
    w = rng.random((40, 3)) if weighted else None
    want = np.bincount(x.ravel(), weights=None if w is None else w.ravel(), minlength=length)
    dtype = backend.float_dtypes[-1]
    with _path(native):
        got = bincount(
            backend.xp, backend.asarray(x), length=length,
            weights=None if w is None else backend.asarray(w, dtype),
        )
    assert tuple(got.shape) == (length,)
    assert backend.same_device(got)
    got_np = backend.to_numpy(got)
    if weighted:
        assert backend.dtype_name(got) == dtype
        np.testing.assert_allclose(got_np, want, rtol=1e-5)
    else:
        assert backend.dtype_name(got) == backend.int_dtype
        np.testing.assert_array_equal(got_np, want)


@pytest.mark.parametrize("native", [True, False], ids=["native", "fallback"])
def test_bincount_empty_input(backend, native):
    with _path(native):
        got = bincount(backend.xp, backend.asarray(np.zeros((0,), np.int64)), length=4)
    np.testing.assert_array_equal(backend.to_numpy(got), np.zeros(4))


@given(st.lists(st.integers(0, 20), max_size=60), st.integers(21, 30))
def test_fallback_equals_native_on_numpy(values, length):
    import array_api_compat.numpy as xnp

    x = np.asarray(values, dtype=np.int64)
    with natives_disabled():
        pure = bincount(xnp, x, length=length)
    np.testing.assert_array_equal(pure, bincount(xnp, x, length=length))
