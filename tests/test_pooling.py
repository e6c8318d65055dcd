"""Pooling and squeeze-excitation against torch.nn.functional / torch.nn and jax.

Values on every backend (native delegation on and off) for the torch options that
matter (ceil_mode partial windows, count_include_pad, dilation, NHWC), gradients of the
pure path against torch autograd where every window has one maximum, the documented
tie rule, torch's adaptive bins, and the SE block against a torch module.
"""

from __future__ import annotations

import numpy as np
import pytest

import xpops
from xpops._lib.native import natives_disabled

torch = pytest.importorskip("torch")
F = torch.nn.functional

POOLS = [  # kernel, stride, padding, dilation, ceil_mode, count_include_pad, layout
    (3, 2, 1, 1, False, True, "NCHW"),
    (3, 2, 1, 1, True, False, "NHWC"),
    (2, None, 0, 1, True, True, "NCHW"),
    ((3, 2), (2, 1), (1, 0), 2, True, True, "NHWC"),
    (2, 3, 1, 1, True, False, "NCHW"),
]


def _nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))



@pytest.mark.parametrize("config", POOLS, ids=str)
def test_pools_match_torch_on_every_backend(backend, both_paths, config):
    k, s, p, d, ceil_mode, cip, fmt = config
    x = np.random.default_rng(0).normal(size=(2, 3, 9, 8))
    tx = torch.asarray(x)
    want_max = F.max_pool2d(tx, k, s, p, d, ceil_mode).numpy()
    xin = x if fmt == "NCHW" else _nhwc(x)
    dtype = backend.float_dtypes[-1]
    arr = backend.asarray(xin, dtype)
    got = xpops.max_pool2d(arr, k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode,
                           data_format=fmt)
    back = (lambda a: a) if fmt == "NCHW" else (lambda a: a.transpose(0, 3, 1, 2))
    assert backend.same_device(got) and backend.dtype_name(got) == dtype
    np.testing.assert_allclose(back(backend.to_numpy(got)), want_max, rtol=1e-6)
    if d == 1:
        want_avg = F.avg_pool2d(tx, k, s, p, ceil_mode, cip).numpy()
        got = xpops.avg_pool2d(arr, k, stride=s, padding=p, ceil_mode=ceil_mode,
                               count_include_pad=cip, data_format=fmt)
        np.testing.assert_allclose(back(backend.to_numpy(got)), want_avg, rtol=1e-5,
                                   atol=1e-6)


def test_ceil_mode_partial_window_divisor():
    """3x3 input, kernel 2, ceil_mode: the last window holds one row / column of the
    input and is divided by what it holds (torch's in-bounds divisor)."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    got = xpops.avg_pool2d(x, 2, ceil_mode=True)
    np.testing.assert_array_equal(got[0, 0], [[2.0, 3.5], [6.5, 8.0]])
    # with padding 1 and stride 2 the window starting at row 3 = H + p - 1 exists ...
    assert xpops.max_pool2d(np.zeros((1, 1, 4, 4)), 3, stride=2, padding=1,
                            ceil_mode=True).shape == (1, 1, 3, 3)
    # ... but one that would start in the right padding is dropped
    assert xpops.max_pool2d(np.zeros((1, 1, 5, 5)), 2, stride=2, padding=1,
                            ceil_mode=True).shape == (1, 1, 3, 3)


def test_max_pool_gradient_matches_torch_without_ties():
    x = np.random.default_rng(1).normal(size=(2, 2, 7, 6))  # continuous: no ties
    cot = np.random.default_rng(2).normal(size=(2, 2, 4, 4))

    def grad(fn):
        leaf = torch.asarray(x).requires_grad_(True)
        (g,) = torch.autograd.grad((fn(leaf) * torch.asarray(cot)).sum(), leaf)
        return g

    want = grad(lambda t: F.max_pool2d(t, 3, 2, 1, 1, True))
    with natives_disabled():
        got = grad(lambda t: xpops.max_pool2d(t, 3, stride=2, padding=1, ceil_mode=True))
        got_avg = grad(lambda t: xpops.avg_pool2d(t, 3, stride=2, padding=1, ceil_mode=True,
                                                  count_include_pad=False))
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_avg, grad(lambda t: F.avg_pool2d(t, 3, 2, 1, True, False)))


def _windows(shape, kernel, stride):
    """Every (n, c, i, j) output position with the row and column slices of its window."""
    for n, c, i, j in np.ndindex(shape):
        yield (n, c, i, j), slice(i * stride, i * stride + kernel), slice(
            j * stride, j * stride + kernel)


def _max_pool_gradient(x, kernel, stride, cot, data_format):
    """The torch autograd gradient of ``sum(max_pool2d(x) * cot)``, NCHW in and out."""
    leaf = torch.asarray(x if data_format == "NCHW" else _nhwc(x)).requires_grad_(True)
    out = xpops.max_pool2d(leaf, kernel, stride=stride, data_format=data_format)
    cot_t = torch.asarray(cot if data_format == "NCHW" else _nhwc(cot))
    (g,) = torch.autograd.grad((out * cot_t).sum(), leaf)
    g = g.numpy()
    return g if data_format == "NCHW" else g.transpose(0, 3, 1, 2)


def _tied(size):
    """Values in {0, 1, 2}: most 2 x 2 and 3 x 3 windows hold a tied maximum."""
    return np.random.default_rng(4).integers(0, 3, size=size).astype(np.float64)


@pytest.mark.parametrize("data_format", ["NCHW", "NHWC"])
def test_native_max_pool_gradient_goes_to_the_first_maximum(data_format):
    """The documented tie rule of the delegated path, against NumPy loops over the
    windows: each window's cotangent goes whole to its first maximal element in
    row-major order (overlapping windows add up)."""
    x = _tied((2, 3, 7, 7))
    cot = np.random.default_rng(5).uniform(1.0, 2.0, size=(2, 3, 3, 3))
    want = np.zeros_like(x)
    for (n, c, i, j), rows, cols in _windows(cot.shape, 3, 2):
        window = x[n, c, rows, cols]
        a, b = np.unravel_index(np.argmax(window), window.shape)  # the first maximum
        want[n, c, rows.start + a, cols.start + b] += cot[n, c, i, j]
    got = _max_pool_gradient(x, 3, 2, cot, data_format)
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


def test_pure_max_pool_gradient_splits_between_tied_maxima():
    """The documented tie rule of the pure path, against the maxima found by NumPy loops:
    each window's cotangent is shared by all of its tied maxima (a subgradient), and
    nothing goes elsewhere."""
    x = _tied((2, 3, 6, 6))
    cot = np.random.default_rng(5).uniform(1.0, 2.0, size=(2, 3, 3, 3))
    with natives_disabled():
        got = _max_pool_gradient(x, 2, 2, cot, "NCHW")
    ties = 0
    for (n, c, i, j), rows, cols in _windows(cot.shape, 2, 2):
        window, share = x[n, c, rows, cols], got[n, c, rows, cols]
        maxima = window == window.max()
        ties += int(maxima.sum() > 1)
        assert np.all(share[~maxima] == 0) and np.all(share[maxima] > 0)
        assert share.sum() == pytest.approx(cot[n, c, i, j], rel=1e-12)
    assert ties > 5  # the rule was exercised


@pytest.mark.parametrize("output_size", [3, (11, None)])
def test_adaptive_bins_match_torch(backend, both_paths, output_size):
    x = np.random.default_rng(3).normal(size=(2, 3, 9, 5))
    want = F.adaptive_avg_pool2d(torch.asarray(x), output_size).numpy()
    dtype = backend.float_dtypes[-1]
    got = xpops.adaptive_avg_pool2d(backend.asarray(_nhwc(x), dtype), output_size,
                                    data_format="NHWC")
    np.testing.assert_allclose(backend.to_numpy(got).transpose(0, 3, 1, 2), want,
                               rtol=1e-5, atol=1e-6)


def test_global_avg_pool_shapes(xp):
    x = xp.ones((2, 3, 4, 5))
    assert tuple(xpops.global_avg_pool2d(x).shape) == (2, 3)
    assert tuple(xpops.global_avg_pool2d(x, keepdims=True).shape) == (2, 3, 1, 1)
    assert tuple(xpops.global_avg_pool2d(x, data_format="NHWC", keepdims=True).shape) == (
        2, 1, 1, 5)


class _TorchSE(torch.nn.Module):
    def __init__(self, c: int, r: int) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(c, c // r)
        self.fc2 = torch.nn.Linear(c // r, c)

    def forward(self, x):
        s = x.mean(dim=(2, 3))
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))[:, :, None, None]


def test_squeeze_excitation_matches_a_torch_module_and_its_gradients():
    module = _TorchSE(8, 4).double()
    state = module.state_dict()
    params = {"fc1_weight": state["fc1.weight"], "fc1_bias": state["fc1.bias"],
              "fc2_weight": state["fc2.weight"], "fc2_bias": state["fc2.bias"]}
    x = torch.randn(3, 8, 5, 4, dtype=torch.float64, requires_grad=True)
    want = module(x)
    (want_grad,) = torch.autograd.grad(want.sum(), x)
    got = xpops.squeeze_excitation(x, params)
    (got_grad,) = torch.autograd.grad(got.sum(), x)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_grad, want_grad)
    nhwc = xpops.squeeze_excitation(x.detach().permute(0, 2, 3, 1), params,
                                    data_format="NHWC")
    torch.testing.assert_close(nhwc.permute(0, 3, 1, 2), want.detach())


def test_messages_show_the_shapes():
    x = np.ones((1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"`padding` \(2, 2\) must be at most half"):
        xpops.max_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"`kernel_size` \(5, 5\).*\(1, 2, 4, 4\)"):
        xpops.avg_pool2d(x, 5)
    with pytest.raises(ValueError, match="`stride` must be >= 1, got 0"):
        xpops.max_pool2d(x, 2, stride=0)
    with pytest.raises(TypeError, match="`kernel_size` must be an int or a pair of ints, got True"):
        xpops.avg_pool2d(x, True)
    with pytest.raises(ValueError, match=r"`output_size` must be >= 1, got \(0, 4\)"):
        xpops.adaptive_avg_pool2d(x, (0, None))
    np.testing.assert_array_equal(xpops.max_pool2d(x, np.int64(2), padding=(np.int8(1), 0)),
                                  xpops.max_pool2d(x, 2, padding=(1, 0)))
    bad = {"fc1_weight": np.ones((1, 3)), "fc1_bias": np.ones(1),
           "fc2_weight": np.ones((2, 1)), "fc2_bias": np.ones(2)}
    with pytest.raises(ValueError, match=r"`params\['fc1_weight'\]` must have shape \(1, 2\)"):
        xpops.squeeze_excitation(x, bad)


def test_one_by_one_max_pool_does_not_alias_its_input():
    """A 1 x 1 window is the input itself: the result must still be a new array."""
    x = np.random.default_rng(0).normal(size=(1, 2, 3, 3))
    with natives_disabled():
        out = xpops.max_pool2d(x, 1)
    assert not np.shares_memory(out, x)
    np.testing.assert_array_equal(out, x)
    out[...] = 0.0
    assert x.any()
