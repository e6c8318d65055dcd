"""Specs of 2-D pooling (torch semantics) and the squeeze-and-excitation block."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..impl import pooling as _impl
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported
from .convolution import _two

# --------------------------------------------------------------------------- oracles


def _nchw(x, data_format):
    x = np.asarray(x, dtype=np.float64)
    return x.transpose(0, 3, 1, 2) if data_format == "NHWC" else x


def _back(out, data_format):
    return out.transpose(0, 2, 3, 1) if data_format == "NHWC" else out


def _out_len(n, k, s, p, d, ceil_mode):
    """torch: floor/ceil of (n + 2p - d(k - 1) - 1) / s, plus one; a ceil_mode window
    must start inside the input or the left padding."""
    room = n + 2 * p - d * (k - 1) - 1
    out = (math.ceil(room / s) if ceil_mode else math.floor(room / s)) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _windows(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Per output position (a, b): the in-input row / column indices of its window, and
    the window's extent clipped to the padded input (the count_include_pad divisor)."""
    kh, kw = _two(kernel_size)
    sh, sw = _two(kernel_size if stride is None else stride)
    ph, pw = _two(padding)
    dh, dw = _two(dilation)
    h, w = x.shape[2:]
    ho = _out_len(h, kh, sh, ph, dh, ceil_mode)
    wo = _out_len(w, kw, sw, pw, dw, ceil_mode)

    def taps(start, k, d, n, p):
        pos = [start + i * d for i in range(k)]
        inside = [q for q in pos if 0 <= q < n]
        padded = [q for q in pos if -p <= q < n + p]
        return inside, len(padded)

    for a in range(ho):
        rows, rh = taps(a * sh - ph, kh, dh, h, ph)
        for b in range(wo):
            cols, rw = taps(b * sw - pw, kw, dw, w, pw)
            yield a, b, rows, cols, rh * rw, (ho, wo)


def max_pool2d_oracle(
    x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, data_format="NCHW"
):
    """Max over the window's in-input elements; -inf where it holds none (padding)."""
    x = _nchw(x, data_format)
    out = None
    for a, b, rows, cols, _, shape in _windows(
        x, kernel_size, stride, padding, dilation, ceil_mode
    ):
        if out is None:
            out = np.full(x.shape[:2] + shape, -np.inf)
        if rows and cols:
            out[:, :, a, b] = x[:, :, rows][:, :, :, cols].max(axis=(2, 3))
    return _back(out, data_format)


def avg_pool2d_oracle(
    x,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    data_format="NCHW",
):
    """Sum of the in-input elements over the positions inside the padded input
    (count_include_pad) or inside the input."""
    x = _nchw(x, data_format)
    out = None
    for a, b, rows, cols, padded, shape in _windows(x, kernel_size, stride, padding, 1, ceil_mode):
        if out is None:
            out = np.zeros(x.shape[:2] + shape)
        total = x[:, :, rows][:, :, :, cols].sum(axis=(2, 3))
        out[:, :, a, b] = total / (padded if count_include_pad else len(rows) * len(cols))
    return _back(out, data_format)


def adaptive_avg_pool2d_oracle(x, output_size, data_format="NCHW"):
    """Bin i of o over n: [floor(i n / o), ceil((i + 1) n / o))."""
    x = _nchw(x, data_format)
    h, w = x.shape[2:]
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    oh, ow = h if oh is None else oh, w if ow is None else ow
    out = np.zeros(x.shape[:2] + (oh, ow))
    for a in range(oh):
        r0, r1 = math.floor(a * h / oh), math.ceil((a + 1) * h / oh)
        for b in range(ow):
            c0, c1 = math.floor(b * w / ow), math.ceil((b + 1) * w / ow)
            out[:, :, a, b] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return _back(out, data_format)


def global_avg_pool2d_oracle(x, data_format="NCHW", keepdims=False):
    x = _nchw(x, data_format)
    out = x.mean(axis=(2, 3), keepdims=True)
    return _back(out, data_format) if keepdims else out[:, :, 0, 0]


def _sigmoid(z):
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def squeeze_excitation_oracle(x, params, data_format="NCHW"):
    x = _nchw(x, data_format)
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    s = x.mean(axis=(2, 3))
    hidden = np.maximum(s @ p["fc1_weight"].T + p["fc1_bias"], 0.0)
    gate = _sigmoid(hidden @ p["fc2_weight"].T + p["fc2_bias"])
    return _back(x * gate[:, :, None, None], data_format)


# ------------------------------------------------------------------------ strategies


def _values(draw: Any, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    kind = draw(st.sampled_from(["normal", "normal", "integers", "specials"]))
    if kind == "integers":  # ties inside windows
        return rng.integers(-3, 4, size=shape).astype(np.float64)
    x = rng.normal(scale=3.0, size=shape)
    if kind == "specials" and x.size:
        flat = x.reshape(-1)
        flat[rng.integers(0, x.size, size=2)] = draw(st.sampled_from([np.inf, -np.inf, np.nan]))
    return x


def _layout(draw: Any, x: np.ndarray) -> tuple[np.ndarray, str]:
    fmt = draw(st.sampled_from(["NCHW", "NHWC"]))
    return (np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if fmt == "NHWC" else x), fmt


@st.composite
def _pool_cases(draw: Any, *, op: str) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kernel = draw(st.sampled_from([1, 2, 3, (2, 3), (3, 1), 4]))
    kh, kw = _two(kernel)
    stride = draw(st.sampled_from([None, 1, 2, 3, (2, 1)]))
    padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    dilation = draw(st.sampled_from([1, 1, 2])) if op == "max" else 1
    ceil_mode = draw(st.booleans())
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.one_of(st.integers(0, 6), st.integers(14, 20)))
        for k, p, d in zip((kh, kw), padding, (dilation, dilation), strict=True)
    )
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    x, fmt = _layout(draw, _values(draw, rng, (n, c, *size)))
    kwargs: dict[str, Any] = {
        "stride": stride,
        "padding": padding,
        "ceil_mode": ceil_mode,
        "data_format": fmt,
    }
    if op == "max":
        kwargs["dilation"] = dilation
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
    return Case((x,), {"kernel_size": kernel, **kwargs})


@st.composite
def _adaptive_cases(draw: Any) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    size = (draw(st.integers(1, 20)), draw(st.integers(1, 9)))
    out = draw(st.sampled_from([1, 2, 3, (2, None), (4, 7), (None, 1)]))
    x, fmt = _layout(draw, rng.normal(scale=3.0, size=(2, draw(st.integers(1, 3)), *size)))
    return Case((x,), {"output_size": out, "data_format": fmt})


@st.composite
def _global_cases(draw: Any) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (
        draw(st.integers(0, 3)),
        draw(st.integers(1, 4)),
        draw(st.integers(1, 18)),
        draw(st.integers(1, 6)),
    )
    x, fmt = _layout(draw, _values(draw, rng, shape))
    return Case((x,), {"data_format": fmt, "keepdims": draw(st.booleans())})


def _se_params(rng: np.random.Generator, c: int, r: int, scale: float = 1.0) -> dict:
    return {
        "fc1_weight": rng.normal(scale=scale, size=(r, c)),
        "fc1_bias": rng.normal(scale=scale, size=r),
        "fc2_weight": rng.normal(scale=scale, size=(c, r)),
        "fc2_bias": rng.normal(scale=scale, size=c),
    }


@st.composite
def _se_cases(draw: Any) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c = draw(st.sampled_from([1, 2, 4, 6, 16]))
    r = draw(st.sampled_from([d for d in (1, 2, 4) if c % d == 0]))
    shape = (draw(st.integers(1, 3)), c, draw(st.integers(1, 17)), draw(st.integers(1, 5)))
    x, fmt = _layout(draw, rng.normal(scale=2.0, size=shape))
    params = _se_params(rng, c, c // r, draw(st.sampled_from([0.3, 1.0, 5.0])))
    return Case((x, params), {"data_format": fmt})


# ------------------------------------------------------------------------ properties


def _channel_axis(case: Case) -> int:
    return 1 if case.kwargs.get("data_format", "NCHW") == "NCHW" else 3


def _channel_permutation(run, case):
    """Pooling acts on each channel alone: permuting channels permutes the output."""
    x = case.args[0]
    axis = _channel_axis(case)
    perm = np.roll(np.arange(x.shape[axis]), 1)
    out = run(case)
    permuted = run(case.with_args(np.take(x, perm, axis=axis), *case.args[1:]))
    return [(permuted, np.take(out, perm, axis=-1 if out.ndim == 2 else axis))]


def _max_scale(run, case):
    """max(2 x) = 2 max(x), exactly (a power of two)."""
    scaled = run(case.with_args(case.args[0] * 2.0, *case.args[1:]))
    return [(scaled, run(case) * 2.0)]


def _avg_scale(run, case):
    """The mean is linear: avg(3 x) = 3 avg(x)."""
    scaled = run(case.with_args(case.args[0] * 3.0, *case.args[1:]))
    return [(scaled, run(case) * 3.0)]


def _se_channel_permutation(run, case):
    """Permuting channels of x and the matching rows/columns of the weights permutes y."""
    x, p = case.args
    axis = _channel_axis(case)
    perm = np.roll(np.arange(x.shape[axis]), 1)
    q = {
        "fc1_weight": p["fc1_weight"][:, perm],
        "fc1_bias": p["fc1_bias"],
        "fc2_weight": p["fc2_weight"][perm],
        "fc2_bias": p["fc2_bias"][perm],
    }
    permuted = run(case.with_args(np.take(x, perm, axis=axis), q))
    return [(permuted, np.take(run(case), perm, axis=axis))]


def _unique_maxima(case: Case) -> bool:
    """True when every window has one maximal element (the subgradient is unambiguous)."""
    (x,) = case.args
    kw = case.kwargs
    kernel = kw["kernel_size"]
    fmt = kw.get("data_format", "NCHW")
    x = _nchw(x, fmt)
    for _, _, rows, cols, _, _ in _windows(
        x,
        kernel,
        kw.get("stride"),
        kw.get("padding", 0),
        kw.get("dilation", 1),
        kw.get("ceil_mode", False),
    ):
        window = x[:, :, rows][:, :, :, cols].reshape(x.shape[0], x.shape[1], -1)
        if window.shape[-1] == 0:
            continue
        top = window.max(axis=-1, keepdims=True)
        if ((window == top).sum(axis=-1) > 1).any():
            return False
    return True


# --------------------------------------------------------------------------- natives


def _to_nchw_torch(x, fmt):
    return x.permute(0, 3, 1, 2) if fmt == "NHWC" else x


def _from_nchw_torch(y, fmt):
    return y.permute(0, 2, 3, 1) if fmt == "NHWC" else y


def _torch_max_pool():
    import torch

    def native(
        x,
        /,
        kernel_size,
        *,
        stride=None,
        padding=0,
        dilation=1,
        ceil_mode=False,
        data_format="NCHW",
    ):
        out = torch.nn.functional.max_pool2d(
            _to_nchw_torch(x, data_format), kernel_size, stride, padding, dilation, ceil_mode
        )
        return _from_nchw_torch(out, data_format)

    return native


def _torch_avg_pool():
    import torch

    def native(
        x,
        /,
        kernel_size,
        *,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        data_format="NCHW",
    ):
        out = torch.nn.functional.avg_pool2d(
            _to_nchw_torch(x, data_format),
            kernel_size,
            stride,
            padding,
            ceil_mode,
            count_include_pad,
        )
        return _from_nchw_torch(out, data_format)

    return native


def _jax_window(x, kernel_size, stride, padding, dilation, ceil_mode, data_format):
    """reduce_window arguments in x's layout; no ceil_mode in JAX."""
    if ceil_mode:
        raise Unsupported("reduce_window has no ceil_mode (pad the end by hand)")
    kh, kw = _two(kernel_size)
    sh, sw = _two(kernel_size if stride is None else stride)
    (ph, pw), (dh, dw) = _two(padding), _two(dilation)
    if data_format == "NCHW":
        pads = ((0, 0), (0, 0), (ph, ph), (pw, pw))
        return (1, 1, kh, kw), (1, 1, sh, sw), pads, (1, 1, dh, dw)
    pads = ((0, 0), (ph, ph), (pw, pw), (0, 0))
    return (1, kh, kw, 1), (1, sh, sw, 1), pads, (1, dh, dw, 1)


def _jax_max_pool():
    import jax

    def native(
        x,
        /,
        kernel_size,
        *,
        stride=None,
        padding=0,
        dilation=1,
        ceil_mode=False,
        data_format="NCHW",
    ):
        if _two(dilation) != (1, 1):
            raise Unsupported("JAX has no max-pool gradient with window dilation")
        dims, strides, pads, dil = _jax_window(
            x, kernel_size, stride, padding, dilation, ceil_mode, data_format
        )
        return jax.lax.reduce_window(
            x, -np.inf, jax.lax.max, dims, strides, pads, window_dilation=dil
        )

    return native


def _jax_avg_pool():
    import jax
    import jax.numpy as jnp

    def native(
        x,
        /,
        kernel_size,
        *,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        data_format="NCHW",
    ):
        dims, strides, pads, _ = _jax_window(
            x, kernel_size, stride, padding, 1, ceil_mode, data_format
        )
        total = jax.lax.reduce_window(x, 0.0, jax.lax.add, dims, strides, pads)
        if count_include_pad:
            return total / math.prod(dims)
        ones = jnp.ones(x.shape, x.dtype)
        return total / jax.lax.reduce_window(ones, 0.0, jax.lax.add, dims, strides, pads)

    return native


def _torch_adaptive():
    import torch

    def native(x, /, output_size, *, data_format="NCHW"):
        out = torch.nn.functional.adaptive_avg_pool2d(_to_nchw_torch(x, data_format), output_size)
        return _from_nchw_torch(out, data_format)

    return native


def _jax_adaptive():
    def native(x, /, output_size, *, data_format="NCHW"):
        axes = (2, 3) if data_format == "NCHW" else (1, 2)
        size = [x.shape[a] for a in axes]
        out = [n if o is None else o for o, n in zip(_two(output_size), size, strict=True)]
        if any(n % o for n, o in zip(size, out, strict=True)):
            raise Unsupported("JAX has no adaptive pool; a reshape-mean needs o | n")
        shape = list(x.shape)
        shape[axes[1] : axes[1] + 1] = [out[1], size[1] // out[1]]
        shape[axes[0] : axes[0] + 1] = [out[0], size[0] // out[0]]
        return x.reshape(shape).mean(axis=(axes[0] + 1, axes[1] + 2))

    return native


def _torch_global():
    import torch

    def native(x, /, *, data_format="NCHW", keepdims=False):
        out = torch.nn.functional.adaptive_avg_pool2d(_to_nchw_torch(x, data_format), 1)
        return _from_nchw_torch(out, data_format) if keepdims else out.flatten(1)

    return native


def _jax_global():
    import jax.numpy as jnp

    def native(x, /, *, data_format="NCHW", keepdims=False):
        return jnp.mean(x, axis=(2, 3) if data_format == "NCHW" else (1, 2), keepdims=keepdims)

    return native


def _torch_se():
    import torch

    functional = torch.nn.functional

    def native(x, params, /, *, data_format="NCHW"):
        x = _to_nchw_torch(x, data_format)
        s = functional.adaptive_avg_pool2d(x, 1).flatten(1)
        h = functional.relu(functional.linear(s, params["fc1_weight"], params["fc1_bias"]))
        g = torch.sigmoid(functional.linear(h, params["fc2_weight"], params["fc2_bias"]))
        return _from_nchw_torch(x * g[:, :, None, None], data_format)

    return native


def _jax_se():
    import jax
    import jax.numpy as jnp

    def native(x, params, /, *, data_format="NCHW"):
        axes = (2, 3) if data_format == "NCHW" else (1, 2)
        s = jnp.mean(x, axis=axes)
        h = jax.nn.relu(s @ params["fc1_weight"].T + params["fc1_bias"])
        g = jax.nn.sigmoid(h @ params["fc2_weight"].T + params["fc2_bias"])
        return x * (g[:, :, None, None] if data_format == "NCHW" else g[:, None, None, :])

    return native


# ----------------------------------------------------------------------------- specs

_rng = np.random.default_rng(11)
_X = _rng.normal(size=(2, 3, 7, 6))
_X_NHWC = np.ascontiguousarray(_X.transpose(0, 2, 3, 1))
_SPECIAL = _X.copy()
_SPECIAL[0, 0, 0, 0], _SPECIAL[1, 2, 3, 3], _SPECIAL[0, 1, 6, 5] = np.nan, np.inf, -np.inf


def _pool_invalid(extra: tuple[InvalidCase, ...] = ()) -> tuple[InvalidCase, ...]:
    return (
        InvalidCase(
            "padding over half the kernel",
            Case((_X,), {"kernel_size": 3, "padding": 2}),
            ValueError,
            "padding",
        ),
        InvalidCase(
            "kernel larger than the padded input",
            Case((_X,), {"kernel_size": 8}),
            ValueError,
            "kernel_size",
        ),
        InvalidCase("stride 0", Case((_X,), {"kernel_size": 2, "stride": 0}), ValueError, "stride"),
        InvalidCase("kernel 0", Case((_X,), {"kernel_size": (0, 2)}), ValueError, "kernel_size"),
        InvalidCase("float kernel", Case((_X,), {"kernel_size": 2.0}), TypeError, "kernel_size"),
        InvalidCase("3-D x", Case((_X[0],), {"kernel_size": 2}), ValueError, "x"),
        InvalidCase(
            "integer x",
            Case((np.ones((1, 1, 4, 4), np.int64),), {"kernel_size": 2}),
            TypeError,
            "x",
        ),
        InvalidCase(
            "unknown data_format",
            Case((_X,), {"kernel_size": 2, "data_format": "NWHC"}),
            ValueError,
            "data_format",
        ),
        *extra,
    )


_POOL_DOC = (
    "x is (N, C, H, W) or (N, H, W, C) (data_format). kernel_size, stride (default "
    "kernel_size), padding, dilation: an int or (h, w) pair; padding (both sides) at most "
    "kernel // 2. Ho = floor((H + 2p - d (k - 1) - 1) / s) + 1, or ceil with ceil_mode, "
    "then minus one if the last window would start at or past H + p (a ceil_mode window "
    "must start inside the input or the left padding; it may overhang the right padding, "
    "and that part never counts). Ho < 1 raises. torch.nn.functional semantics. "
)

MAX_POOL2D = OpSpec(
    name="max_pool2d",
    family="pooling",
    impl=_impl.max_pool2d,
    oracle=max_pool2d_oracle,
    cases=lambda: _pool_cases(op="max"),
    signature=(
        "max_pool2d(x, /, kernel_size, *, stride=None, padding=0, dilation=1, "
        "ceil_mode=False, data_format='NCHW')"
    ),
    doc=_POOL_DOC
    + (
        "y = max over the window's elements with -inf padding: NaN in a window gives NaN; "
        "a (dilated) window holding only padding gives -inf. Gradient: torch's kernel sends "
        "each window's gradient to its first maximal element (row-major); the pure "
        "array-API path differentiates elementwise maximum, which splits it between ties, "
        "and jax.lax.reduce_window differs again; gradients are compared only where every "
        "window has one maximum."
    ),
    edge_cases=(
        Case((_X,), {"kernel_size": 3, "stride": 2, "padding": 1}, name="3x3 stride 2 padding 1"),
        Case((_X,), {"kernel_size": 2, "ceil_mode": True}, name="ceil_mode: partial last window"),
        Case(
            (_X[:, :, :5, :5],),
            {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
            name="ceil_mode window that would start in the padding is dropped",
        ),
        Case(
            (_X,),
            {"kernel_size": (3, 2), "stride": (1, 2), "dilation": 2, "padding": (1, 1)},
            name="dilated, rectangular",
        ),
        Case(
            (_X[:, :, :1, :4],),
            {"kernel_size": 2, "padding": 1, "dilation": 2},
            name="window of padding only: -inf",
        ),
        Case((_SPECIAL,), {"kernel_size": 2, "stride": 1}, name="NaN and infinities"),
        Case(
            (_X_NHWC,),
            {"kernel_size": 3, "stride": 2, "padding": 1, "data_format": "NHWC"},
            name="NHWC",
        ),
    ),
    invalid_cases=_pool_invalid(
        (
            InvalidCase(
                "dilation 0", Case((_X,), {"kernel_size": 2, "dilation": 0}), ValueError, "dilation"
            ),
        )
    ),
    tolerance={"float32": (0.0, 0.0), "float64": (0.0, 0.0)},
    properties=(
        Property("channel permutation", _channel_permutation),
        Property("max(2x) = 2 max(x)", _max_scale),
    ),
    natives=(
        Native(
            "torch",
            "torch.nn.functional.max_pool2d",
            _torch_max_pool,
            "NCHW (permute for NHWC); the same arguments",
        ),
        Native(
            "jax",
            "jax.lax.reduce_window",
            _jax_max_pool,
            "init -inf, lax.max, padding ((0, 0), (0, 0), (p, p), (q, q)); no ceil_mode "
            "(extend the end padding by hand)",
        ),
    ),
    capabilities=Capabilities(jit=True, differentiable=True),
    differentiable_at=_unique_maxima,
)

AVG_POOL2D = OpSpec(
    name="avg_pool2d",
    family="pooling",
    impl=_impl.avg_pool2d,
    oracle=avg_pool2d_oracle,
    cases=lambda: _pool_cases(op="avg"),
    signature=(
        "avg_pool2d(x, /, kernel_size, *, stride=None, padding=0, ceil_mode=False, "
        "count_include_pad=True, data_format='NCHW')"
    ),
    doc=_POOL_DOC
    + (
        "y = sum of the window's in-input elements / divisor, where the divisor counts the "
        "window's positions inside the padded input (count_include_pad=True) or inside the "
        "input; positions of a ceil_mode window past the right padding are never counted "
        "(torch's in-bounds divisor)."
    ),
    edge_cases=(
        Case((_X,), {"kernel_size": 3, "stride": 2, "padding": 1}, name="3x3 stride 2 padding 1"),
        Case(
            (_X,),
            {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
            name="padding excluded from the divisor",
        ),
        Case(
            (_X,),
            {"kernel_size": 2, "ceil_mode": True},
            name="ceil_mode: partial window, in-bounds divisor",
        ),
        Case(
            (_X,),
            {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
            name="ceil_mode with padding",
        ),
        Case((_SPECIAL,), {"kernel_size": 2, "stride": 1}, name="NaN and infinities"),
        Case(
            (_X_NHWC,),
            {"kernel_size": (2, 3), "data_format": "NHWC", "ceil_mode": True},
            name="NHWC",
        ),
    ),
    invalid_cases=_pool_invalid(
        (
            InvalidCase(
                "count_include_pad not a bool",
                Case((_X,), {"kernel_size": 2, "count_include_pad": 1}),
                TypeError,
                "count_include_pad",
            ),
        )
    ),
    tolerance={"float32": (2e-6, 2e-6), "float64": (1e-14, 1e-14)},
    properties=(
        Property("channel permutation", _channel_permutation),
        Property("linear: avg(3x) = 3 avg(x)", _avg_scale),
    ),
    natives=(
        Native(
            "torch",
            "torch.nn.functional.avg_pool2d",
            _torch_avg_pool,
            "NCHW (permute for NHWC); the same arguments (no divisor_override here)",
        ),
        Native(
            "jax",
            "jax.lax.reduce_window",
            _jax_avg_pool,
            "lax.add, then / kh kw (count_include_pad) or / reduce_window of ones; no ceil_mode",
        ),
    ),
    capabilities=Capabilities(jit=True, differentiable=True),
)

ADAPTIVE_AVG_POOL2D = OpSpec(
    name="adaptive_avg_pool2d",
    family="pooling",
    impl=_impl.adaptive_avg_pool2d,
    oracle=adaptive_avg_pool2d_oracle,
    cases=_adaptive_cases,
    signature="adaptive_avg_pool2d(x, /, output_size, *, data_format='NCHW')",
    doc=(
        "Output (a, b) of (oh, ow) is the mean of rows [floor(a H / oh), ceil((a + 1) H / "
        "oh)) and the columns alike (torch's bins: they overlap when oh does not divide H "
        "and repeat rows when oh > H). output_size: an int or a pair, None keeping that "
        "input size. Empty spatial axes raise."
    ),
    edge_cases=(
        Case((_X,), {"output_size": 3}, name="overlapping bins"),
        Case((_X,), {"output_size": (1, 1)}, name="global"),
        Case((_X,), {"output_size": (9, None)}, name="more bins than rows"),
        Case((_X_NHWC,), {"output_size": (7, 3), "data_format": "NHWC"}, name="NHWC, exact tiling"),
    ),
    invalid_cases=(
        InvalidCase("output_size 0", Case((_X,), {"output_size": 0}), ValueError, "output_size"),
        InvalidCase(
            "output_size triple", Case((_X,), {"output_size": (1, 2, 3)}), TypeError, "output_size"
        ),
        InvalidCase(
            "empty spatial axis", Case((_X[:, :, :0],), {"output_size": 2}), ValueError, "x"
        ),
        InvalidCase("3-D x", Case((_X[0],), {"output_size": 2}), ValueError, "x"),
    ),
    tolerance={"float32": (1e-5, 2e-6), "float64": (1e-12, 1e-13)},
    properties=(
        Property("channel permutation", _channel_permutation),
        Property("linear: pool(3x) = 3 pool(x)", _avg_scale),
    ),
    natives=(
        Native(
            "torch",
            "torch.nn.functional.adaptive_avg_pool2d",
            _torch_adaptive,
            "NCHW (permute for NHWC)",
        ),
        Native(
            "jax",
            "jax.numpy reshape + mean",
            _jax_adaptive,
            "JAX has no adaptive pool: a reshape-mean where oh | H and ow | W",
        ),
    ),
    capabilities=Capabilities(jit=True, differentiable=True),
)

GLOBAL_AVG_POOL2D = OpSpec(
    name="global_avg_pool2d",
    family="pooling",
    impl=_impl.global_avg_pool2d,
    oracle=global_avg_pool2d_oracle,
    cases=_global_cases,
    signature="global_avg_pool2d(x, /, *, data_format='NCHW', keepdims=False)",
    doc=(
        "Mean over H and W: (N, C), or (N, C, 1, 1) / (N, 1, 1, C) with keepdims. NaN "
        "and infinities propagate as in a mean."
    ),
    edge_cases=(
        Case((_X,), name="NCHW"),
        Case((_X_NHWC,), {"data_format": "NHWC", "keepdims": True}, name="NHWC, keepdims"),
        Case((_SPECIAL,), name="NaN and infinities"),
        Case((_X[:0],), name="empty batch"),
    ),
    invalid_cases=(
        InvalidCase("3-D x", Case((_X[0],)), ValueError, "x"),
        InvalidCase("integer x", Case((np.ones((1, 1, 2, 2), np.int64),)), TypeError, "x"),
        InvalidCase("keepdims not a bool", Case((_X,), {"keepdims": 1}), TypeError, "keepdims"),
        InvalidCase(
            "unknown data_format", Case((_X,), {"data_format": "HWC"}), ValueError, "data_format"
        ),
    ),
    tolerance={"float32": (1e-5, 2e-6), "float64": (1e-13, 1e-14)},
    properties=(
        Property("channel permutation", _channel_permutation),
        Property("linear: pool(3x) = 3 pool(x)", _avg_scale),
    ),
    natives=(
        Native(
            "torch",
            "torch.nn.functional.adaptive_avg_pool2d(x, 1)",
            _torch_global,
            "then flatten(1) unless keepdims",
        ),
        Native("jax", "jax.numpy.mean", _jax_global, "axis=(2, 3) or (1, 2)"),
    ),
    capabilities=Capabilities(jit=True, differentiable=True),
)

_SE_P = _se_params(_rng, 3, 1)
_SE_BAD = {**_SE_P, "fc2_weight": _SE_P["fc2_weight"][:2]}

SQUEEZE_EXCITATION = OpSpec(
    name="squeeze_excitation",
    family="pooling",
    impl=_impl.squeeze_excitation,
    oracle=squeeze_excitation_oracle,
    cases=_se_cases,
    signature="squeeze_excitation(x, params, /, *, data_format='NCHW')",
    doc=(
        "s = mean of x over H, W (N, C); g = sigmoid(fc2_weight relu(fc1_weight s + "
        "fc1_bias) + fc2_bias); y = x * g per sample and channel. params: fc1_weight "
        "(C // r, C), fc1_bias (C // r,), fc2_weight (C, C // r), fc2_bias (C,), the "
        "orientation of torch.nn.Linear. relu'(0) = 0 as in torch and jax.nn.relu."
    ),
    edge_cases=(
        Case((_X, _SE_P), name="C = 3, r = 3"),
        Case((_X_NHWC, _SE_P), {"data_format": "NHWC"}, name="NHWC"),
        Case((_X, {**_SE_P, "fc2_bias": np.full(3, 40.0)}), name="saturated gate: y = x"),
        Case((_X, {k: v * 0 for k, v in _SE_P.items()}), name="zero weights: y = x / 2"),
    ),
    invalid_cases=(
        InvalidCase("fc2_weight shape", Case((_X, _SE_BAD)), ValueError, "fc2_weight"),
        InvalidCase(
            "channels do not match fc1_weight", Case((_X[:, :2], _SE_P)), ValueError, "fc1_weight"
        ),
        InvalidCase(
            "missing key", Case((_X, {"fc1_weight": _SE_P["fc1_weight"]})), ValueError, "params"
        ),
        InvalidCase("params not a mapping", Case((_X, (1, 2))), TypeError, "params"),
        InvalidCase(  # a list where an array goes: was an AttributeError on `.dtype`
            "params entry a list", Case((_X, {**_SE_P, "fc1_bias": [0.0, 0.0]})), TypeError,
            "fc1_bias",
        ),
        InvalidCase("3-D x", Case((_X[0], _SE_P)), ValueError, "x"),
    ),
    tolerance={"float32": (1e-5, 2e-6), "float64": (1e-12, 1e-13)},
    properties=(Property("channel permutation", _se_channel_permutation),),
    natives=(
        Native(
            "torch",
            "torch.nn.functional (adaptive_avg_pool2d, linear, relu, sigmoid)",
            _torch_se,
            "the SE block of torchvision's SqueezeExcitation with "
            "nn.Linear layers in place of 1x1 convolutions",
        ),
        Native("jax", "jax.numpy.mean, jax.nn.relu, jax.nn.sigmoid", _jax_se, ""),
    ),
    capabilities=Capabilities(jit=True, differentiable=True),
)

SPECS = (MAX_POOL2D, AVG_POOL2D, ADAPTIVE_AVG_POOL2D, GLOBAL_AVG_POOL2D, SQUEEZE_EXCITATION)
