"""conv2d against torch.nn.functional.conv2d and jax.lax.conv_general_dilated.

Values, shapes and dtypes on every backend (native delegation on and off), gradients of
the pure array-API path against torch autograd and ``jax.grad`` of the natives, the
padding and window primitives of ``_lib.windows`` on both their paths, and the error
messages.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import xpops
from xpops._lib.native import natives_disabled
from xpops._lib.windows import pad2d, same_padding, window_views
from xpops.conformance.backends import jax_x64
from xpops.impl import convolution

# (groups, in per group, out per group, kernel, stride, padding, dilation, layout)
CONFIGS = [
    (1, 3, 4, (3, 3), 1, 1, 1, "NCHW"),
    (1, 2, 3, (2, 2), 2, "same", 1, "NCHW"),
    (2, 2, 2, (3, 2), (2, 1), ((1, 0), (0, 2)), (1, 2), "NHWC"),
    (4, 1, 2, (3, 3), 1, "same", 2, "NCHW"),
    (1, 3, 2, (1, 4), 3, "valid", 1, "NHWC"),
    (3, 1, 1, (4, 4), 3, "same", 1, "NHWC"),
]


def _inputs(config, seed=0, n=2, size=(9, 7)):
    groups, cg, og, kernel, *_ = config
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, groups * cg, *size))
    w = rng.normal(size=(groups * og, cg, *kernel))
    b = rng.normal(size=groups * og)
    return x, w, b


def _kwargs(config):
    groups, _, _, _, stride, padding, dilation, fmt = config
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
            "data_format": fmt}


def _jax_reference(x, w, b, config):
    """lax.conv_general_dilated in float64, JAX's own SAME rule for 'same'."""
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    kw = _kwargs(config)
    pad = kw["padding"]
    pad = pad.upper() if isinstance(pad, str) else (
        ((pad, pad), (pad, pad)) if isinstance(pad, int) else pad)
    two = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    fmt = kw["data_format"]
    xin = x if fmt == "NCHW" else x.transpose(0, 2, 3, 1)
    with jax_x64():
        out = jax.lax.conv_general_dilated(
            jnp.asarray(xin), jnp.asarray(w), two(kw["stride"]), pad,
            rhs_dilation=two(kw["dilation"]), feature_group_count=kw["groups"],
            dimension_numbers=(fmt, "OIHW", fmt))
        out = np.asarray(out)
    return out + (b[:, None, None] if fmt == "NCHW" else b), xin



@pytest.mark.parametrize("config", CONFIGS[2:5], ids=lambda c: f"g{c[0]}-{c[5]}-{c[7]}")
def test_matches_jax_on_every_backend(backend, both_paths, config):
    x, w, b = _inputs(config)
    want, xin = _jax_reference(x, w, b, config)
    dtype = backend.float_dtypes[-1]
    got = xpops.conv2d(backend.asarray(xin, dtype), backend.asarray(w, dtype),
                       backend.asarray(b, dtype), **_kwargs(config))
    assert backend.same_device(got)
    assert backend.dtype_name(got) == dtype
    tol = 1e-10 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=tol, atol=tol)


def test_same_padding_puts_the_odd_element_at_the_end():
    assert same_padding(7, 2, 2, 1) == (0, 1)  # ceil(7/2)=4 outputs need 8 rows
    assert same_padding(8, 4, 3, 1) == (1, 1)
    assert same_padding(7, 4, 3, 1) == (1, 2)
    assert same_padding(5, 3, 1, 2) == (2, 2)
    assert same_padding(9, 1, 3, 1) == (0, 0)


def test_torch_module_equivalence():
    torch = pytest.importorskip("torch")
    conv = torch.nn.Conv2d(6, 4, 3, stride=2, padding=1, dilation=1, groups=2).double()
    x = torch.randn(2, 6, 11, 10, dtype=torch.float64)
    want = conv(x).detach()
    with natives_disabled():
        got = xpops.conv2d(x, conv.weight.detach(), conv.bias.detach(), stride=2, padding=1,
                           groups=2)
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("config", CONFIGS[:4], ids=lambda c: f"g{c[0]}-{c[5]}-{c[7]}")
def test_pure_path_gradients_match_torch_autograd(config):
    torch = pytest.importorskip("torch")
    x, w, b = _inputs(config, seed=1)
    _, xin = _jax_reference(x, w, b, config)
    kw = _kwargs(config)
    padding = kw["padding"]
    if isinstance(padding, tuple) and isinstance(padding[0], tuple):
        (top, bottom), (left, right) = padding
        native_pad, padding = (left, right, top, bottom), 0
    else:
        native_pad = None

    def run(fn, *arrays):
        leaves = [torch.asarray(a).requires_grad_(True) for a in arrays]
        out = fn(*leaves)
        cot = torch.asarray(np.random.default_rng(2).normal(size=tuple(out.shape)))
        return torch.autograd.grad((out * cot).sum(), leaves)

    def native(xv, wv, bv):
        if kw["data_format"] == "NHWC":
            xv = xv.permute(0, 3, 1, 2)
        if native_pad:
            xv = torch.nn.functional.pad(xv, native_pad)
        if padding == "same" and kw["stride"] != 1:
            pytest.skip("torch's 'same' needs stride 1")
        out = torch.nn.functional.conv2d(xv, wv, bv, kw["stride"], padding, kw["dilation"],
                                         kw["groups"])
        return out.permute(0, 2, 3, 1) if kw["data_format"] == "NHWC" else out

    want = run(native, xin, w, b)
    with natives_disabled():
        got = run(lambda *a: xpops.conv2d(*a, **kw), xin, w, b)
    for g, e in zip(got, want, strict=True):
        torch.testing.assert_close(g, e)


@pytest.mark.parametrize("config", CONFIGS[1:3], ids=lambda c: f"g{c[0]}-{c[5]}-{c[7]}")
def test_pure_path_gradients_match_jax_grad(config):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    x, w, b = _inputs(config, seed=3)
    want_out, xin = _jax_reference(x, w, b, config)
    kw = _kwargs(config)
    cot = np.random.default_rng(4).normal(size=want_out.shape)
    with jax_x64():
        args = [jnp.asarray(a) for a in (xin, w, b)]
        native = convolution._jax_conv2d()

        def loss_native(*a):
            xv = a[0]
            axes = (2, 3) if kw["data_format"] == "NCHW" else (1, 2)
            size = (xv.shape[axes[0]], xv.shape[axes[1]])
            two = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
            pads = convolution._explicit_padding(kw["padding"], size, a[1].shape[2:],
                                                 two(kw["stride"]), two(kw["dilation"]))
            out = native(*a, two(kw["stride"]), pads, two(kw["dilation"]), kw["groups"],
                         kw["data_format"])
            return jnp.sum(out * cot)

        def loss_pure(*a):
            with natives_disabled():
                return jnp.sum(xpops.conv2d(*a, **kw) * cot)

        want = jax.grad(loss_native, argnums=(0, 1, 2))(*args)
        got = jax.jit(jax.grad(loss_pure, argnums=(0, 1, 2)))(*args)
        for g, e in zip(got, want, strict=True):
            np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("native", [True, False], ids=["native", "fallback"])
def test_pad_and_windows_primitives(backend, native):
    xp = backend.xp
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    pads = ((1, 2), (0, 3))
    with contextlib.nullcontext() if native else natives_disabled():
        got = pad2d(xp, backend.asarray(x, backend.float_dtypes[-1]), (2, 3), pads, -np.inf)
    want = np.pad(x, ((0, 0), (0, 0), *pads), constant_values=-np.inf)
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    assert backend.same_device(got)
    views = window_views(got, (2, 3), (2, 3), (2, 1), (2, 1), (2, 4))
    assert len(views) == 6
    np.testing.assert_array_equal(backend.to_numpy(views[5]), want[:, :, 2:5:2, 2:6])


def test_output_stays_on_the_input_device(device1):
    x = device1.asarray(np.ones((1, 2, 5, 5)))
    w = device1.asarray(np.ones((3, 2, 3, 3)))
    out = xpops.conv2d(x, w, padding="same")
    assert device1.same_device(out)
    assert tuple(out.shape) == (1, 3, 5, 5)


def test_messages_show_the_shapes():
    x, w = np.ones((1, 4, 5, 5)), np.ones((6, 3, 3, 3))
    with pytest.raises(ValueError, match=r"`weight` of shape \(6, 3, 3, 3\).*\(1, 4, 5, 5\)"):
        xpops.conv2d(x, w)
    with pytest.raises(ValueError, match=r"`groups`=3 does not divide the 4 channels"):
        xpops.conv2d(x, np.ones((6, 1, 3, 3)), groups=3)
    with pytest.raises(ValueError, match=r"spans \(7, 7\), larger than the padded input"):
        xpops.conv2d(x, np.ones((6, 4, 3, 3)), dilation=3, padding=((0, 0), (1, 0)))
    with pytest.raises(ValueError, match=r"`stride` must be >= 1, got \(1, 0\)"):
        xpops.conv2d(x, np.ones((6, 4, 3, 3)), stride=(1, 0))


def test_sizes_and_groups_follow_the_shared_count_rule():
    """NumPy integers count like Python ints; bool and floats are rejected."""
    x, w = np.ones((1, 4, 5, 5)), np.ones((4, 2, 3, 3))
    want = xpops.conv2d(x, w, stride=2, padding=(1, 0), groups=2)
    got = xpops.conv2d(x, w, stride=np.int64(2), padding=(np.int32(1), 0),
                       groups=np.int64(2))
    np.testing.assert_array_equal(got, want)
    with pytest.raises(TypeError, match="`groups` must be an int, got True"):
        xpops.conv2d(x, w, groups=True)
    with pytest.raises(ValueError, match="`groups` must be >= 1, got 0"):
        xpops.conv2d(x, w, groups=0)
    with pytest.raises(TypeError, match=r"`dilation` must be an int or a pair of ints, got 1.0"):
        xpops.conv2d(x, w, dilation=1.0)
    with pytest.raises(ValueError, match=r"`padding` must be >= 0, got \(0, -1\)"):
        xpops.conv2d(x, w, padding=((0, -1), (0, 0)), groups=2)
