"""2-D convolution as deep-learning frameworks define it: a cross-correlation.

The pure path is im2col: the input goes channels-last, is padded with zeros, and the
``kh * kw`` strided window views (:func:`xpops._lib.windows.window_views`) are
concatenated into one ``(N * Ho * Wo, kh * kw * C)`` patch matrix, which one GEMM with
the reshaped weight turns into the output (one batched GEMM over the groups when
``groups > 1``). Torch tensors go to ``torch.nn.functional.conv2d`` after validation
(asymmetric padding is applied with ``F.pad`` first), JAX arrays to
``jax.lax.conv_general_dilated``: the same definition, and kernels tuned per machine that
an im2col GEMM does not match on JAX (about 2.3x slower under ``jit`` on CPU).
"""

from __future__ import annotations

import functools
from typing import Any

import array_api_compat

from .._lib.inputs import array_op
from .._lib.jax_eager import run_compiled
from .._lib.namespace import array_namespace, device
from .._lib.native import native_jax, native_torch
from .._lib.validation import check_choice, check_count, check_count_pair, check_real_floating
from .._lib.windows import Pair, pad2d, same_padding, window_views

__all__ = ["conv2d", "DATA_FORMATS", "spatial_axes", "check_4d", "check_data_format"]

DATA_FORMATS = ("NCHW", "NHWC")
Padding = tuple[Pair, Pair]
_BLOCK_ELEMENTS = 1 << 21  # patch-matrix elements per block of images


def spatial_axes(data_format: str) -> Pair:
    """The (H, W) axes of a 4-D array in ``data_format``."""
    return (2, 3) if data_format == "NCHW" else (1, 2)


def check_data_format(data_format: Any) -> None:
    check_choice(data_format, "data_format", DATA_FORMATS)


def check_4d(x: Any, name: str, layout: str) -> None:
    if x.ndim != 4:
        msg = f"`{name}` must be 4-D {layout}, got shape {tuple(x.shape)}"
        raise ValueError(msg)


def _explicit_padding(
    padding: Any, size: Pair, kernel: Pair, stride: Pair, dilation: Pair
) -> Padding:
    """``((top, bottom), (left, right))`` from any accepted form of ``padding``."""
    if isinstance(padding, str):
        check_choice(padding, "padding", ("valid", "same"))
        if padding == "valid":
            return (0, 0), (0, 0)
        return (
            same_padding(size[0], kernel[0], stride[0], dilation[0]),
            same_padding(size[1], kernel[1], stride[1], dilation[1]),
        )
    if (
        isinstance(padding, (tuple, list))
        and len(padding) == 2
        and all(isinstance(p, (tuple, list)) for p in padding)
    ):
        top, bottom = check_count_pair(padding[0], "padding")
        left, right = check_count_pair(padding[1], "padding")
        return (top, bottom), (left, right)
    ph, pw = check_count_pair(padding, "padding")
    return (ph, ph), (pw, pw)


def _check_channels(x: Any, weight: Any, bias: Any, channels: int, groups: int) -> None:
    out_channels, per_group = weight.shape[0], weight.shape[1]
    xs, ws = tuple(x.shape), tuple(weight.shape)
    if channels % groups:
        msg = f"`groups`={groups} does not divide the {channels} channels of `x` {xs}"
        raise ValueError(msg)
    if out_channels % groups:
        msg = (
            f"`groups`={groups} does not divide the {out_channels} output channels of "
            f"`weight` {ws}"
        )
        raise ValueError(msg)
    if per_group * groups != channels:
        msg = (
            f"`weight` of shape {ws} takes {per_group} channels per group ({groups} "
            f"group(s): {per_group * groups} in all), but `x` of shape {xs} has {channels}"
        )
        raise ValueError(msg)
    if bias is not None and tuple(bias.shape) != (out_channels,):
        msg = f"`bias` must have shape ({out_channels},) for `weight` {ws}, got {tuple(bias.shape)}"
        raise ValueError(msg)


def _output_size(
    x: Any, size: Pair, pads: Padding, kernel: Pair, stride: Pair, dilation: Pair
) -> Pair:
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, pads, strict=True))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    if any(s > p for s, p in zip(span, padded, strict=True)):
        msg = (
            f"`weight`: kernel {kernel} with dilation {dilation} spans {span}, larger than "
            f"the padded input {padded} of `x` {tuple(x.shape)} with padding {pads}"
        )
        raise ValueError(msg)
    return (
        (padded[0] - span[0]) // stride[0] + 1,
        (padded[1] - span[1]) // stride[1] + 1,
    )


@array_op("x", "weight", "bias")
def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    /,
    *,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    data_format: str = "NCHW",
) -> Any:
    r"""2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    .. math::
        y[n, o, a, b] = \mathrm{bias}[o] + \sum_{c, i, j} w[o, c, i, j] \,
        x_p[n, g C_g + c, a s_h + i d_h, b s_w + j d_w]

    with ``x_p`` the zero-padded input, ``g = o // (O / groups)`` the group of output
    channel ``o`` and ``C_g = C / groups`` the input channels per group.

    Parameters
    ----------
    x : array
        ``(N, C, H, W)`` (``data_format="NCHW"``) or ``(N, H, W, C)`` (``"NHWC"``), real
        floating.
    weight : array
        ``(O, C / groups, kh, kw)`` whatever ``data_format``, the dtype of ``x``.
    bias : array, optional
        ``(O,)``, the dtype of ``x``, added to every output position.
    stride, dilation : int or (int, int), default 1
        One value for both spatial axes or an ``(h, w)`` pair, each at least 1.
    padding : int, (int, int), ((int, int), (int, int)) or {"valid", "same"}, default 0
        Zeros on both sides of each axis (an int or an ``(h, w)`` pair), explicit
        ``((top, bottom), (left, right))``, ``"valid"`` (none) or ``"same"``: JAX's SAME
        rule, ``ceil(H / s)`` outputs, the odd element of the total padding at the end
        (torch's ``"same"`` for stride 1, and defined for any stride here).
    groups : int, default 1
        Input and output channels split into this many independent groups;
        ``groups = C`` with ``O = k C`` is a depthwise convolution.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        Layout of ``x`` and of the result.

    Returns
    -------
    array
        ``(N, O, Ho, Wo)`` (or ``(N, Ho, Wo, O)``) of ``x``'s dtype, with
        ``Ho = (H + top + bottom - d_h (kh - 1) - 1) // s_h + 1`` (likewise ``Wo``).

    Raises
    ------
    TypeError
        When ``x`` is not real floating, ``weight`` or ``bias`` has another dtype, or
        ``stride``, ``dilation``, ``padding`` or ``groups`` is not an int (or pair).
    ValueError
        When ``x`` or ``weight`` is not 4-D, the channels do not match ``weight`` and
        ``groups``, ``bias`` is not ``(O,)``, a stride, dilation or ``groups`` is below 1,
        a padding is negative or an unknown string, ``data_format`` is unknown, or the
        dilated kernel is larger than the padded input.

    Examples
    --------
    A 2 x 2 kernel of ones with stride 2 sums each non-overlapping 2 x 2 block:

    >>> import array_api_strict as xp
    >>> from xpops import conv2d
    >>> x = xp.reshape(xp.arange(16.0), (1, 1, 4, 4))
    >>> conv2d(x, xp.ones((1, 1, 2, 2)), stride=2)
    Array([[[[10., 18.],
             [42., 50.]]]], dtype=array_api_strict.float64)
    """
    xp = array_namespace(x, weight) if bias is None else array_namespace(x, weight, bias)
    check_real_floating(xp, x, "x")
    for name, arr in (("weight", weight), ("bias", bias)):
        if arr is not None and arr.dtype != x.dtype:
            msg = f"`{name}` must have the dtype of `x` ({x.dtype}), got {arr.dtype}"
            raise TypeError(msg)
    check_data_format(data_format)
    check_4d(x, "x", f"({', '.join(data_format)})")
    check_4d(weight, "weight", "(out_channels, in_channels // groups, kh, kw)")
    stride = check_count_pair(stride, "stride", minimum=1)
    dilation = check_count_pair(dilation, "dilation", minimum=1)
    groups = check_count(groups, "groups", minimum=1)
    axes = spatial_axes(data_format)
    channel_axis = 1 if data_format == "NCHW" else 3
    _check_channels(x, weight, bias, x.shape[channel_axis], groups)
    kernel = (weight.shape[2], weight.shape[3])
    if min(kernel) < 1:
        msg = f"`weight` must have a non-empty kernel, got shape {tuple(weight.shape)}"
        raise ValueError(msg)
    size = (x.shape[axes[0]], x.shape[axes[1]])
    pads = _explicit_padding(padding, size, kernel, stride, dilation)
    out_size = _output_size(x, size, pads, kernel, stride, dilation)
    if 0 in tuple(weight.shape):  # no input or no output channels: natives reject it
        return _bias_only(xp, x, weight, bias, out_size, data_format)
    if x.shape[0] == 0 and array_api_compat.is_dask_array(x):
        # an empty batch: Dask's reshape fails on the empty patch matrix (dask 2026.8)
        return _bias_only(xp, x, weight, bias, out_size, data_format)
    if (torch := native_torch(x, weight, bias)) is not None:
        return _torch_conv2d(torch, x, weight, bias, stride, pads, dilation, groups,
                             data_format)
    if native_jax(x, weight, bias) is not None:
        return _jax_conv2d()(x, weight, bias, stride, pads, dilation, groups, data_format)
    static = (xp, stride, pads, dilation, groups, data_format, out_size)
    return run_compiled(_im2col_conv2d, (x, weight, bias), *static)


def _im2col_conv2d(
    x: Any, weight: Any, bias: Any, xp: Any, stride: Pair, pads: Padding, dilation: Pair,
    groups: int, data_format: str, out_size: Pair,
) -> Any:
    if data_format == "NCHW":
        x = xp.permute_dims(x, (0, 2, 3, 1))
    n, channels = x.shape[0], x.shape[3]
    out_channels, per_group, kh, kw = weight.shape
    taps = kh * kw
    x = pad2d(xp, x, (1, 2), pads)
    # weight rows ordered (i, j, c) like the patch columns
    if groups == 1:
        w = xp.reshape(xp.permute_dims(weight, (2, 3, 1, 0)), (taps * channels, out_channels))
    else:
        w = xp.reshape(weight, (groups, out_channels // groups, per_group, kh, kw))
        w = xp.permute_dims(w, (0, 3, 4, 2, 1))
        w = xp.reshape(w, (groups, taps * per_group, out_channels // groups))
    # blocks of images keep each patch matrix near cache size: the copy into it and the
    # GEMM reading it back then cost far less than a full-size round trip through memory
    per_block = max(1, _BLOCK_ELEMENTS // max(1, taps * channels * out_size[0] * out_size[1]))
    blocks = []
    for start in range(0, max(n, 1), per_block):  # a loop over blocks of the batch
        part = x[start:min(start + per_block, n), ...]
        views = window_views(part, (1, 2), (kh, kw), stride, dilation, out_size)
        blocks.append(_patch_product(xp, views, w, groups, (*out_size, out_channels)))
    out = blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=0)
    if bias is not None:
        out = out + bias
    return xp.permute_dims(out, (0, 3, 1, 2)) if data_format == "NCHW" else out


def _bias_only(
    xp: Any, x: Any, weight: Any, bias: Any, out_size: Pair, data_format: str
) -> Any:
    n, o = x.shape[0], weight.shape[0]
    shape = (n, o, *out_size) if data_format == "NCHW" else (n, *out_size, o)
    out = xp.zeros(shape, dtype=x.dtype, device=device(x))
    if bias is None:
        return out
    return out + (xp.reshape(bias, (-1, 1, 1)) if data_format == "NCHW" else bias)


@functools.cache
def _jax_conv2d() -> Any:
    """``lax.conv_general_dilated`` plus bias, jitted: one dispatch (and one compilation
    per shape) in eager use, inlined under an outer ``jit``."""
    import jax

    def run(
        x: Any, weight: Any, bias: Any, stride: Pair, pads: Padding, dilation: Pair,
        groups: int, data_format: str,
    ) -> Any:
        out = jax.lax.conv_general_dilated(
            x, weight, stride, pads, rhs_dilation=dilation, feature_group_count=groups,
            dimension_numbers=(data_format, "OIHW", data_format),
        )
        if bias is None:
            return out
        return out + (bias[:, None, None] if data_format == "NCHW" else bias)

    return jax.jit(run, static_argnums=(3, 4, 5, 6, 7))


def _patch_product(
    xp: Any, views: list[Any], w: Any, groups: int, out_shape: tuple[int, int, int]
) -> Any:
    """The channels-last output block of ``kh * kw`` window views and the weight matrix."""
    n, _, _, channels = views[0].shape
    rows = n * out_shape[0] * out_shape[1]
    taps = len(views)
    if groups == 1:
        patches = xp.reshape(xp.concat(views, axis=3), (rows, taps * channels))
        out = patches @ w
    else:
        per_group = channels // groups
        patches = xp.reshape(xp.stack(views, axis=3), (rows, taps, groups, per_group))
        patches = xp.permute_dims(patches, (2, 0, 1, 3))
        patches = xp.reshape(patches, (groups, rows, taps * per_group))
        out = xp.permute_dims(patches @ w, (1, 0, 2))
    return xp.reshape(out, (n, *out_shape))


def _torch_conv2d(
    torch: Any, x: Any, weight: Any, bias: Any, stride: Pair, pads: Padding, dilation: Pair,
    groups: int, data_format: str,
) -> Any:
    functional = torch.nn.functional
    if data_format == "NHWC":
        x = x.permute(0, 3, 1, 2)
    (top, bottom), (left, right) = pads
    if top == bottom and left == right:
        padding: Pair = (top, left)
    else:  # F.conv2d pads both sides alike
        x = functional.pad(x, (left, right, top, bottom))
        padding = (0, 0)
    out = functional.conv2d(x, weight, bias, stride, padding, dilation, groups)
    return out.permute(0, 2, 3, 1) if data_format == "NHWC" else out
