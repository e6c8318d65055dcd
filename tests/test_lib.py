"""_lib helpers: primitives (native path and standard fallback), dtype defaults, checks."""

from __future__ import annotations

import numpy as np
import pytest

from xpops._lib.namespace import default_float, default_int, is_concrete
from xpops._lib.primitives import take_along_last_axis
from xpops._lib.validation import check_broadcastable, normalize_axis


@pytest.mark.parametrize("native", [True, False], ids=["native", "fallback"])
def test_take_along_last_axis_matches_numpy(backend, rng, native):
    x = rng.normal(size=(3, 5, 7))
    x[0, 0, 2] = np.nan  # not selected below: must not leak into the result
    index = rng.integers(0, 7, size=(3, 5, 2))
    index[0, 0] = [0, 6]
    want = np.take_along_axis(x, index, axis=-1)
    dtype = backend.float_dtypes[-1]
    got = take_along_last_axis(
        backend.xp, backend.asarray(x, dtype), backend.asarray(index), one_hot=not native
    )
    np.testing.assert_allclose(backend.to_numpy(got), want.astype(dtype), rtol=1e-6)
    assert backend.same_device(got)


def test_defaults_follow_the_device(device1):
    import array_api_strict as xps

    assert default_float(xps, xps.Device("no_float64")) == xps.float32
    assert default_int(xps, xps.Device("no_x64")) == xps.int32
    assert default_float(xps, device1.device) == xps.float64


def test_is_concrete_is_false_only_under_tracing():
    assert is_concrete(np.zeros(2))
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    assert is_concrete(jnp.zeros(2))  # eager JAX arrays are concrete
    seen = []
    jax.jit(lambda a: seen.append(is_concrete(a)) or a)(jnp.zeros(2))
    assert seen == [False]


def test_validation_messages_name_the_parameter():
    with pytest.raises(ValueError, match=r"`axis`=3 is out of range for an array of rank 2"):
        normalize_axis(3, 2)
    with pytest.raises(TypeError, match="`axis` must be an int"):
        normalize_axis(1.0, 2)
    with pytest.raises(ValueError, match=r"`w` of shape \(3,\) does not broadcast.*`x` \(2, 4\)"):
        check_broadcastable(np.zeros(3), (2, 4), "w", "x")
    check_broadcastable(np.zeros((1, 4)), (2, 4), "w", "x")
