"""Spec of conv2d: torch's cross-correlation, with JAX's SAME rule for any stride."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..impl import convolution as _impl
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported

# --------------------------------------------------------------------------- oracle


def _two(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def conv_pads(padding, size, kernel, stride, dilation):
    """((top, bottom), (left, right)) from the definition of each padding form."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":  # ceil(n / s) outputs, the odd element of the padding at the end
        pads = []
        for n, k, s, d in zip(size, kernel, stride, dilation, strict=True):
            total = max((math.ceil(n / s) - 1) * s + d * (k - 1) + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, (tuple, list)) and isinstance(padding[0], (tuple, list)):
        return tuple(tuple(p) for p in padding)
    ph, pw = _two(padding)
    return (ph, ph), (pw, pw)


def conv2d_oracle(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
                  data_format="NCHW"):
    """y[n, o, a, b] = bias[o] + sum_{c, i, j} w[o, c, i, j] x_pad[n, g*Cg + c, a sh + i dh,
    b sw + j dw], one output channel and kernel tap at a time."""
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    if data_format == "NHWC":
        x = x.transpose(0, 3, 1, 2)
    n, c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    (sh, sw), (dh, dw) = _two(stride), _two(dilation)
    (pt, pb), (pl, pr) = conv_pads(padding, (h, w), (kh, kw), (sh, sw), (dh, dw))
    xp = np.zeros((n, c, h + pt + pb, w + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + w] = x
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    per_out = o // groups
    for oc in range(o):
        g = oc // per_out
        group = xp[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                tap = group[:, :, i * dh:i * dh + (ho - 1) * sh + 1:sh,
                            j * dw:j * dw + (wo - 1) * sw + 1:sw]
                out[:, oc] += np.einsum("ncab,c->nab", tap, weight[oc, :, i, j])
    if bias is not None:
        out += np.asarray(bias, dtype=np.float64)[None, :, None, None]
    return out.transpose(0, 2, 3, 1) if data_format == "NHWC" else out


# ----------------------------------------------------------------------- strategies


@st.composite
def _conv_cases(draw: Any) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cg = draw(st.integers(1, 3))
    og = draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.sampled_from([1, 2, 3, (1, 2), (3, 1)]))
    dilation = draw(st.sampled_from([1, 1, 2, (2, 1)]))
    kind = draw(st.sampled_from(["int", "pair", "explicit", "valid", "same"]))
    padding: Any = {
        "int": draw(st.integers(0, 2)),
        "pair": (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        "explicit": tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in "hw"),
        "valid": "valid",
        "same": "same",
    }[kind]
    sd, dd = _two(stride), _two(dilation)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dd, strict=True))
    pads = conv_pads(padding if kind != "same" else "valid", (0, 0), kernel, sd, dd)
    size = tuple(
        max(1, s - lo - hi) + draw(st.one_of(st.integers(0, 5), st.integers(12, 18)))
        for s, (lo, hi) in zip(span, pads, strict=True)
    )
    n = draw(st.sampled_from([1, 2, 2, 3, 0]))
    fmt = draw(st.sampled_from(["NCHW", "NHWC"]))
    c = groups * cg
    x = rng.normal(size=(n, c, *size))
    if fmt == "NHWC":
        x = x.transpose(0, 2, 3, 1).copy()
    w = rng.normal(size=(groups * og, cg, *kernel))
    args: tuple[Any, ...] = (x, w)
    if draw(st.booleans()):
        args = (x, w, rng.normal(size=groups * og))
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
              "data_format": fmt}
    return Case(args, kwargs)


# ------------------------------------------------------------------------ properties


def _layout_swap(run, case):
    """NHWC is NCHW with the channel axis moved: same values, transposed."""
    x = case.args[0]
    fmt = case.kwargs.get("data_format", "NCHW")
    if fmt == "NCHW":
        other, back = x.transpose(0, 2, 3, 1), (0, 3, 1, 2)
    else:
        other, back = x.transpose(0, 3, 1, 2), (0, 2, 3, 1)
    swapped = case.with_args(np.ascontiguousarray(other), *case.args[1:],
                             data_format="NHWC" if fmt == "NCHW" else "NCHW")
    return [(np.transpose(run(swapped), back), run(case))]


def _padding_is_zero_padding(run, case):
    """Any padding equals explicit zero rows and columns around the input, then 'valid'."""
    x, w = case.args[:2]
    fmt = case.kwargs.get("data_format", "NCHW")
    axes = (2, 3) if fmt == "NCHW" else (1, 2)
    size = (x.shape[axes[0]], x.shape[axes[1]])
    pads = conv_pads(case.kwargs.get("padding", 0), size, w.shape[2:],
                     _two(case.kwargs.get("stride", 1)), _two(case.kwargs.get("dilation", 1)))
    widths = [(0, 0)] * 4
    widths[axes[0]], widths[axes[1]] = pads
    padded = case.with_args(np.pad(x, widths), *case.args[1:], padding="valid")
    return [(run(padded), run(case))]


# --------------------------------------------------------------------------- natives


def _torch_conv2d():
    import torch

    def native(x, weight, bias=None, /, *, stride=1, padding=0, dilation=1, groups=1,
               data_format="NCHW"):
        if padding == "same" and _two(stride) != (1, 1):
            raise Unsupported("torch's padding='same' needs stride 1")
        if isinstance(padding, (tuple, list)) and isinstance(padding[0], (tuple, list)):
            (top, bottom), (left, right) = padding
            if top != bottom or left != right:
                raise Unsupported("asymmetric padding: torch needs F.pad first")
            padding = (top, left)
        if data_format == "NHWC":
            x = x.permute(0, 3, 1, 2)
        out = torch.nn.functional.conv2d(x, weight, bias, stride, padding, dilation, groups)
        return out.permute(0, 2, 3, 1) if data_format == "NHWC" else out

    return native


def _jax_conv2d():
    import jax

    def native(x, weight, bias=None, /, *, stride=1, padding=0, dilation=1, groups=1,
               data_format="NCHW"):
        if isinstance(padding, str):
            pads: Any = padding.upper()
        elif isinstance(padding, (tuple, list)) and isinstance(padding[0], (tuple, list)):
            pads = padding
        else:
            ph, pw = _two(padding)
            pads = ((ph, ph), (pw, pw))
        out = jax.lax.conv_general_dilated(
            x, weight, _two(stride), pads, rhs_dilation=_two(dilation),
            feature_group_count=groups, dimension_numbers=(data_format, "OIHW", data_format),
        )
        if bias is None:
            return out
        return out + (bias[:, None, None] if data_format == "NCHW" else bias)

    return native


# ------------------------------------------------------------------------------ spec

_rng = np.random.default_rng(7)
_X = _rng.normal(size=(2, 4, 6, 5))
_W = _rng.normal(size=(6, 4, 3, 3))
_B = _rng.normal(size=6)
_WG = _rng.normal(size=(6, 2, 2, 2))  # groups = 2
_WD = _rng.normal(size=(8, 1, 3, 3))  # depthwise, multiplier 2


def _case(x, w, *rest, name, **kwargs) -> Case:
    return Case((x, w, *rest), kwargs, name=name)


CONV2D = OpSpec(
    name="conv2d",
    family="convolution",
    impl=_impl.conv2d,
    oracle=conv2d_oracle,
    cases=_conv_cases,
    signature=(
        "conv2d(x, weight, bias=None, /, *, stride=1, padding=0, dilation=1, groups=1, "
        "data_format='NCHW')"
    ),
    doc=(
        "Cross-correlation (no kernel flip), as torch.nn.functional.conv2d: y[n, o, a, b] = "
        "bias[o] + sum_{c, i, j} w[o, c, i, j] x_pad[n, g Cg + c, a sh + i dh, b sw + j dw] "
        "with g = o // (O / groups), Cg = C / groups. x is (N, C, H, W) or (N, H, W, C) "
        "(data_format, also the output's layout); weight is (O, C / groups, kh, kw) in "
        "every layout. padding: int, (h, w) pair (both sides), ((top, bottom), (left, "
        "right)), 'valid' (none) or 'same': JAX's SAME rule, ceil(H / sh) outputs and "
        "total padding max((Ho - 1) sh + dh (kh - 1) + 1 - H, 0) split with the odd "
        "element at the end (torch's 'same' for stride 1, where torch accepts it). Zero "
        "padding; Ho = (H + top + bottom - dh (kh - 1) - 1) // sh + 1. Empty batch and "
        "zero input channels (all-bias output) are allowed."
    ),
    edge_cases=(
        _case(_X, _W, _B, padding=1, name="3x3, padding 1, bias"),
        _case(_X, _W[:, :, :2, :1], _B, stride=2, padding="same",
              name="'same', stride 2, even kernel: extra padding at the end"),
        _case(_X, _WG, groups=2, stride=2, padding=((1, 0), (0, 2)),
              name="grouped, explicit asymmetric padding"),
        _case(_X, _WD, groups=4, padding=1, name="depthwise, channel multiplier 2"),
        _case(_X.transpose(0, 2, 3, 1).copy(), _W, _B, padding=((0, 2), (1, 1)),
              data_format="NHWC", name="NHWC"),
        _case(_X[:, :, :3, :3], _W, name="kernel equal to the input: one output"),
        _case(_X[:0], _W, padding="valid", name="empty batch"),
        _case(_X[:, :0], _W[:, :0, :1, :2], _B, stride=(2, 1), dilation=2, padding="same",
              name="no input channels (bias only), 'same', dilated"),
    ),
    invalid_cases=(
        InvalidCase("channels do not match weight", Case((_X, _W[:, :3])), ValueError,
                    "weight"),
        InvalidCase("groups do not divide channels", Case((_X, _W[:, :1]), {"groups": 3}),
                    ValueError, "groups"),
        InvalidCase("groups do not divide out channels", Case((_X, _WG[:5]), {"groups": 2}),
                    ValueError, "groups"),
        InvalidCase("kernel larger than the padded input",
                    Case((_X[:, :, :2, :2], _W), {"padding": ((0, 0), (1, 0))}), ValueError,
                    "weight"),
        InvalidCase("stride 0", Case((_X, _W), {"stride": 0}), ValueError, "stride"),
        InvalidCase("dilation 0", Case((_X, _W), {"dilation": (1, 0)}), ValueError,
                    "dilation"),
        InvalidCase("negative padding", Case((_X, _W), {"padding": -1}), ValueError,
                    "padding"),
        InvalidCase("unknown padding", Case((_X, _W), {"padding": "full"}), ValueError,
                    "padding"),
        InvalidCase("float stride", Case((_X, _W), {"stride": 1.5}), TypeError, "stride"),
        InvalidCase("unknown data_format", Case((_X, _W), {"data_format": "CHWN"}),
                    ValueError, "data_format"),
        InvalidCase("3-D x", Case((_X[0], _W)), ValueError, "x"),
        InvalidCase("integer x", Case((np.ones((1, 4, 3, 3), np.int64), _W)), TypeError, "x"),
        InvalidCase("integer weight", Case((_X, np.ones((1, 4, 3, 3), np.int64))), TypeError,
                    "weight"),
        InvalidCase("bias length", Case((_X, _W, _B[:5])), ValueError, "bias"),
    ),
    tolerance={"float32": (1e-4, 1e-4), "float64": (1e-10, 1e-11)},
    properties=(
        Property("NHWC is NCHW transposed", _layout_swap),
        Property("padding is explicit zero padding", _padding_is_zero_padding),
    ),
    natives=(
        Native("torch", "torch.nn.functional.conv2d", _torch_conv2d,
               "NCHW only (permute for NHWC); symmetric padding only (F.pad first "
               "otherwise); padding='same' only with stride 1, where it equals ours"),
        Native("jax", "jax.lax.conv_general_dilated", _jax_conv2d,
               "dimension_numbers=(fmt, 'OIHW', fmt), rhs_dilation=dilation, "
               "feature_group_count=groups; padding 'SAME' is the rule used here"),
    ),
    capabilities=Capabilities(jit=True, differentiable=True),
    grad_argnums=(0, 1),
)

SPECS = (CONV2D,)
