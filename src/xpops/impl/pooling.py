"""2-D pooling with torch's semantics, and the squeeze-and-excitation block.

``max_pool2d`` and ``avg_pool2d`` pad the input (with -inf, resp. 0), take the
``kh * kw`` strided window views of :func:`xpops._lib.windows.window_views` and reduce
them elementwise: no window is materialised. Output sizes follow torch: floor division,
or with ``ceil_mode`` ceil division where the last window must still start inside the
input or its left padding; the part of such a window past the right padding is left
out (of the max, of the sum and of the divisor). ``adaptive_avg_pool2d`` multiplies by
two small bin-averaging matrices. Torch tensors go to the matching
``torch.nn.functional`` kernel after validation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from array_api_compat import is_array_api_obj

from .._lib.inputs import array_op
from .._lib.jax_eager import run_compiled
from .._lib.namespace import array_namespace, can_mutate, device
from .._lib.native import native_torch
from .._lib.validation import check_count_pair, check_real_floating
from .._lib.windows import Pair, pad2d, pooled_size, window_views
from .activations import sigmoid
from .convolution import check_4d, check_data_format, spatial_axes

__all__ = [
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "global_avg_pool2d",
    "squeeze_excitation",
    "SE_PARAMS",
]

SE_PARAMS = ("fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias")


def _check_input(x: Any, data_format: str) -> tuple[Any, Pair]:
    xp = array_namespace(x)
    check_real_floating(xp, x, "x")
    check_data_format(data_format)
    check_4d(x, "x", f"({', '.join(data_format)})")
    return xp, spatial_axes(data_format)


class _Windows:
    """Validated pooling geometry: kernel, stride, padding, dilation and output size."""

    def __init__(
        self, x: Any, axes: Pair, kernel_size: Any, stride: Any, padding: Any,
        dilation: Any, ceil_mode: Any,
    ) -> None:
        self.kernel = check_count_pair(kernel_size, "kernel_size", minimum=1)
        self.stride = (
            self.kernel if stride is None else check_count_pair(stride, "stride", minimum=1)
        )
        self.padding = check_count_pair(padding, "padding")
        self.dilation = check_count_pair(dilation, "dilation", minimum=1)
        if not isinstance(ceil_mode, bool):
            msg = f"`ceil_mode` must be a bool, got {ceil_mode!r}"
            raise TypeError(msg)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel, strict=True)):
            msg = (
                f"`padding` {self.padding} must be at most half of `kernel_size` "
                f"{self.kernel} (torch's rule), for `x` of shape {tuple(x.shape)}"
            )
            raise ValueError(msg)
        self.size = (x.shape[axes[0]], x.shape[axes[1]])
        self.out: Pair = tuple(  # type: ignore[assignment]
            pooled_size(n, k, s, p, d, ceil_mode)
            for n, k, s, p, d in zip(
                self.size, self.kernel, self.stride, self.padding, self.dilation, strict=True
            )
        )
        if min(self.out) < 1:
            span = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation,
                                                          strict=True))
            padded = tuple(n + 2 * p for n, p in zip(self.size, self.padding, strict=True))
            msg = (
                f"`kernel_size` {self.kernel} with dilation {self.dilation} spans {span}, "
                f"larger than the padded input {padded} of `x` {tuple(x.shape)} "
                f"(ceil_mode={ceil_mode}): no window fits"
            )
            raise ValueError(msg)

    def pads(self) -> tuple[Pair, Pair]:
        """Padding per axis, the end extended so every ceil_mode window fits."""
        out = []
        for n, k, s, p, d, o in zip(self.size, self.kernel, self.stride, self.padding,
                                    self.dilation, self.out, strict=True):
            extra = max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
            out.append((p, p + extra))
        return out[0], out[1]

    def divisor(self, count_include_pad: bool) -> tuple[tuple[int, ...], ...]:
        """torch's avg_pool2d divisor per output position: the window clipped to the
        padded input (count_include_pad) or to the input itself."""
        per_axis = []
        for n, k, s, p, o in zip(self.size, self.kernel, self.stride, self.padding,
                                 self.out, strict=True):
            counts = []
            for i in range(o):  # output positions of one axis: shape metadata
                start = i * s - p
                end = min(start + k, n + p)
                counts.append(end - start if count_include_pad
                              else min(end, n) - max(start, 0))
            per_axis.append(counts)
        return tuple(tuple(a * b for b in per_axis[1]) for a in per_axis[0])


def _nchw(x: Any, data_format: str) -> Any:
    return x if data_format == "NCHW" else x.permute(0, 3, 1, 2)


def _from_nchw(out: Any, data_format: str) -> Any:
    return out if data_format == "NCHW" else out.permute(0, 2, 3, 1)


@array_op("x")
def max_pool2d(
    x: Any,
    /,
    kernel_size: Any,
    *,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    data_format: str = "NCHW",
) -> Any:
    """Maximum over each (dilated) window, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    x : array
        ``(N, C, H, W)`` or, with ``data_format="NHWC"``, ``(N, H, W, C)``; real
        floating.
    kernel_size : int or (int, int)
        Window size, one value for both spatial axes or an ``(h, w)`` pair, at least 1.
    stride : int or (int, int), optional
        Step between windows, at least 1; defaults to ``kernel_size``.
    padding : int or (int, int), default 0
        -inf added on both sides of each axis, at most half the kernel.
    dilation : int or (int, int), default 1
        Spacing between the elements of a window, at least 1.
    ceil_mode : bool, default False
        Ceil instead of floor division for the output size; a window must still start
        inside the input or the left padding.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        Layout of ``x`` and of the result.

    Returns
    -------
    array
        ``x``'s layout and dtype, with ``Ho = (H + 2 p - d (k - 1) - 1) // s + 1`` (floor
        or ceil) and likewise ``Wo``. NaN in a window gives NaN. Subgradient at ties:
        torch's kernel sends the gradient to the first maximal element of the window
        (row-major); the pure path differentiates ``maximum``, which splits it between
        tied elements.

    Raises
    ------
    TypeError
        When ``x`` is not real floating, a size is not an int or a pair of ints, or
        ``ceil_mode`` is not a bool.
    ValueError
        When ``x`` is not 4-D, ``data_format`` is unknown, a kernel, stride or dilation
        is below 1, the padding is negative or over half the kernel, or no window fits.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import max_pool2d
    >>> x = xp.reshape(xp.arange(16.0), (1, 1, 4, 4))
    >>> max_pool2d(x, 2)
    Array([[[[ 5.,  7.],
             [13., 15.]]]], dtype=array_api_strict.float64)
    >>> max_pool2d(x, 3, stride=2, padding=1)
    Array([[[[ 5.,  7.],
             [13., 15.]]]], dtype=array_api_strict.float64)
    """
    xp, axes = _check_input(x, data_format)
    win = _Windows(x, axes, kernel_size, stride, padding, dilation, ceil_mode)
    if (torch := native_torch(x)) is not None and 0 not in tuple(x.shape):
        out = torch.nn.functional.max_pool2d(
            _nchw(x, data_format), win.kernel, win.stride, win.padding,
            win.dilation, ceil_mode,
        )
        return _from_nchw(out, data_format)
    static = (xp, axes, win.kernel, win.stride, win.dilation, win.out, win.pads())
    return run_compiled(_max_pool, (x,), *static)


def _max_pool(
    x: Any, xp: Any, axes: Pair, kernel: Pair, stride: Pair, dilation: Pair, out: Pair,
    pads: tuple[Pair, Pair],
) -> Any:
    padded = pad2d(xp, x, axes, pads, -math.inf)
    views = window_views(padded, axes, kernel, stride, dilation, out)
    if len(views) == 1:  # a 1 x 1 window: the view itself, copied so it never aliases x
        return xp.asarray(views[0], copy=True)
    result = xp.maximum(views[0], views[1])
    for view in views[2:]:
        result = xp.maximum(result, view)
    return result


@array_op("x")
def avg_pool2d(
    x: Any,
    /,
    kernel_size: Any,
    *,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    data_format: str = "NCHW",
) -> Any:
    """Mean over each window, as ``torch.nn.functional.avg_pool2d``.

    The window sum (zero padding) is divided by the number of window positions inside
    the padded input (``count_include_pad=True``) or inside the input itself; positions
    of a ``ceil_mode`` window beyond the right padding never count.

    Parameters
    ----------
    x : array
        ``(N, C, H, W)`` or, with ``data_format="NHWC"``, ``(N, H, W, C)``; real
        floating.
    kernel_size : int or (int, int)
        Window size, one value for both spatial axes or an ``(h, w)`` pair, at least 1.
    stride : int or (int, int), optional
        Step between windows, at least 1; defaults to ``kernel_size``.
    padding : int or (int, int), default 0
        Zeros added on both sides of each axis, at most half the kernel.
    ceil_mode : bool, default False
        Ceil instead of floor division for the output size; a window must still start
        inside the input or the left padding.
    count_include_pad : bool, default True
        Divide by the window positions inside the padded input rather than the input.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        Layout of ``x`` and of the result.

    Returns
    -------
    array
        ``x``'s layout and dtype, with the output sizes of :func:`max_pool2d` at
        dilation 1.

    Raises
    ------
    TypeError
        When ``x`` is not real floating, a size is not an int or a pair of ints, or
        ``ceil_mode`` or ``count_include_pad`` is not a bool.
    ValueError
        When ``x`` is not 4-D, ``data_format`` is unknown, a kernel or stride is below 1,
        the padding is negative or over half the kernel, or no window fits.

    Examples
    --------
    With ``ceil_mode`` the last window of a 3 x 3 input holds one row or column and is
    divided by what it holds:

    >>> import array_api_strict as xp
    >>> from xpops import avg_pool2d
    >>> x = xp.reshape(xp.arange(9.0), (1, 1, 3, 3))
    >>> avg_pool2d(x, 2, ceil_mode=True)
    Array([[[[2. , 3.5],
             [6.5, 8. ]]]], dtype=array_api_strict.float64)
    """
    xp, axes = _check_input(x, data_format)
    if not isinstance(count_include_pad, bool):
        msg = f"`count_include_pad` must be a bool, got {count_include_pad!r}"
        raise TypeError(msg)
    win = _Windows(x, axes, kernel_size, stride, padding, 1, ceil_mode)
    if (torch := native_torch(x)) is not None and 0 not in tuple(x.shape):
        out = torch.nn.functional.avg_pool2d(
            _nchw(x, data_format), win.kernel, win.stride, win.padding, ceil_mode,
            count_include_pad,
        )
        return _from_nchw(out, data_format)
    static = (xp, axes, win.kernel, win.stride, win.out, win.pads(),
              win.divisor(count_include_pad), data_format)
    return run_compiled(_avg_pool, (x,), *static)


def _avg_pool(
    x: Any, xp: Any, axes: Pair, kernel: Pair, stride: Pair, out: Pair,
    pads: tuple[Pair, Pair], divisor: tuple[tuple[int, ...], ...], data_format: str,
) -> Any:
    padded = pad2d(xp, x, axes, pads, 0.0)
    views = window_views(padded, axes, kernel, stride, (1, 1), out)
    total = views[0] + views[1] if len(views) > 1 else views[0]
    for view in views[2:]:
        if can_mutate(total):
            total += view
        else:
            total = total + view
    counts = xp.asarray(divisor, dtype=x.dtype, device=device(x))
    return total / (counts[:, :, None] if data_format == "NHWC" else counts)


def _output_size(output_size: Any, size: Pair) -> Pair:
    values = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(values) == 2:
        values = tuple(n if v is None else v for v, n in zip(values, size, strict=True))
    return check_count_pair(values, "output_size", minimum=1)


def _bins(xp: Any, size: int, out: int, dtype: Any, dev: Any) -> Any:
    """``(out, size)`` averaging matrix of torch's adaptive bins
    ``[floor(i size / out), ceil((i + 1) size / out))``."""
    starts = [i * size // out for i in range(out)]
    ends = [-(-(i + 1) * size // out) for i in range(out)]
    pos = xp.arange(size, device=dev)
    lo = xp.asarray(starts, device=dev)[:, None]
    hi = xp.asarray(ends, device=dev)[:, None]
    inside = (pos >= lo) & (pos < hi)
    weight = 1.0 / xp.astype(hi - lo, dtype)
    return xp.where(inside, weight, xp.zeros((), dtype=dtype, device=dev))


@array_op("x")
def adaptive_avg_pool2d(x: Any, /, output_size: Any, *, data_format: str = "NCHW") -> Any:
    """Mean over torch's adaptive bins, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output row ``i`` of ``oh`` averages input rows ``floor(i H / oh)`` up to (not
    including) ``ceil((i + 1) H / oh)``, and likewise for columns; bins overlap when
    ``oh`` does not divide ``H`` and repeat rows when ``oh > H``.

    Parameters
    ----------
    x : array
        4-D in ``data_format``, real floating, with non-empty spatial axes.
    output_size : int or (int or None, int or None)
        ``(oh, ow)``, or one value for both, each at least 1; ``None`` in the pair keeps
        that input size.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        Layout of ``x`` and of the result.

    Returns
    -------
    array
        ``(N, C, oh, ow)`` (or ``(N, oh, ow, C)``) of ``x``'s dtype.

    Raises
    ------
    TypeError
        When ``x`` is not real floating or ``output_size`` is not an int or a pair.
    ValueError
        When ``x`` is not 4-D or has an empty spatial axis, ``data_format`` is unknown,
        or an output size is below 1.

    Examples
    --------
    Five columns into three bins: ``[0, 2)``, ``[1, 4)`` and ``[3, 5)``.

    >>> import array_api_strict as xp
    >>> from xpops import adaptive_avg_pool2d
    >>> adaptive_avg_pool2d(xp.reshape(xp.arange(5.0), (1, 1, 1, 5)), (1, 3))
    Array([[[[0.5, 2. , 3.5]]]], dtype=array_api_strict.float64)
    """
    xp, axes = _check_input(x, data_format)
    size = (x.shape[axes[0]], x.shape[axes[1]])
    oh, ow = _output_size(output_size, size)
    if 0 in size:
        msg = f"`x` must have non-empty spatial axes, got shape {tuple(x.shape)}"
        raise ValueError(msg)
    if (torch := native_torch(x)) is not None and 0 not in tuple(x.shape):
        out = torch.nn.functional.adaptive_avg_pool2d(_nchw(x, data_format), (oh, ow))
        return _from_nchw(out, data_format)
    return run_compiled(_adaptive_avg_pool, (x,), xp, size, (oh, ow), data_format)


def _adaptive_avg_pool(x: Any, xp: Any, size: Pair, out: Pair, data_format: str) -> Any:
    dev = device(x)
    rows = _bins(xp, size[0], out[0], x.dtype, dev)
    cols = _bins(xp, size[1], out[1], x.dtype, dev)
    if data_format == "NHWC":
        x = xp.permute_dims(x, (0, 3, 1, 2))
    result = xp.matmul(xp.matmul(rows, x), xp.matrix_transpose(cols))
    return result if data_format == "NCHW" else xp.permute_dims(result, (0, 2, 3, 1))


@array_op("x")
def global_avg_pool2d(x: Any, /, *, data_format: str = "NCHW", keepdims: bool = False) -> Any:
    """Mean over the spatial axes of a 4-D array.

    Parameters
    ----------
    x : array
        4-D in ``data_format``, real floating.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        Layout of ``x``.
    keepdims : bool, default False
        Keep the spatial axes as size 1.

    Returns
    -------
    array
        ``(N, C)``, or ``(N, C, 1, 1)`` / ``(N, 1, 1, C)`` with ``keepdims``, of ``x``'s
        dtype. Empty spatial axes give NaN (a mean of nothing).

    Raises
    ------
    TypeError
        When ``x`` is not real floating or ``keepdims`` is not a bool.
    ValueError
        When ``x`` is not 4-D or ``data_format`` is unknown.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import global_avg_pool2d
    >>> global_avg_pool2d(xp.reshape(xp.arange(8.0), (1, 2, 2, 2)))
    Array([[1.5, 5.5]], dtype=array_api_strict.float64)
    """
    xp, axes = _check_input(x, data_format)
    if not isinstance(keepdims, bool):
        msg = f"`keepdims` must be a bool, got {keepdims!r}"
        raise TypeError(msg)
    return xp.mean(x, axis=axes, keepdims=keepdims)


def _check_se_params(xp: Any, x: Any, params: Any, channels: int) -> tuple[Any, ...]:
    if not isinstance(params, Mapping):
        msg = f"`params` must be a mapping with keys {SE_PARAMS}, got {type(params).__name__}"
        raise TypeError(msg)
    missing = [k for k in SE_PARAMS if k not in params]
    if missing:
        msg = f"`params` lacks {missing}; expected keys {SE_PARAMS}"
        raise ValueError(msg)
    w1, b1, w2, b2 = (params[k] for k in SE_PARAMS)
    for key in SE_PARAMS:
        if not is_array_api_obj(params[key]):
            msg = (
                f"`params['{key}']` must be an array of the namespace of `x`, "
                f"got {type(params[key]).__name__}"
            )
            raise TypeError(msg)
        if params[key].dtype != x.dtype:
            msg = (
                f"`params['{key}']` must have the dtype of `x` ({x.dtype}), "
                f"got {params[key].dtype}"
            )
            raise TypeError(msg)
    reduced = w1.shape[0] if w1.ndim == 2 else -1
    want = {
        "fc1_weight": (reduced, channels),
        "fc1_bias": (reduced,),
        "fc2_weight": (channels, reduced),
        "fc2_bias": (channels,),
    }
    for key, shape in want.items():
        if reduced < 1 or tuple(params[key].shape) != shape:
            got = {k: tuple(params[k].shape) for k in SE_PARAMS}
            msg = (
                f"`params['{key}']` must have shape {shape if reduced >= 1 else '(C // r, C)'}"
                f" for `x` of shape {tuple(x.shape)} with C = {channels}; got shapes {got}"
            )
            raise ValueError(msg)
    return w1, b1, w2, b2


@array_op("x", "params", mappings=("params",))
def squeeze_excitation(x: Any, params: Mapping[str, Any], /, *,
                       data_format: str = "NCHW") -> Any:
    r"""The squeeze-and-excitation block (Hu et al., 2018) with the given weights.

    .. math::
        s = \mathrm{mean}_{h, w}\, x, \quad
        g = \sigma(W_2\, \mathrm{relu}(W_1 s + b_1) + b_2), \quad
        y = x \cdot g \text{ (per sample and channel)}

    Parameters
    ----------
    x : array
        4-D in ``data_format`` with C channels, real floating.
    params : mapping of str to array
        ``fc1_weight`` ``(C // r, C)``, ``fc1_bias`` ``(C // r,)``, ``fc2_weight``
        ``(C, C // r)``, ``fc2_bias`` ``(C,)``, each of ``x``'s dtype: the orientation of
        ``torch.nn.Linear``, so a torch SE module's ``fc1`` / ``fc2`` state maps over
        unchanged.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        Layout of ``x`` and of the result.

    Returns
    -------
    array
        ``x``'s shape and dtype. ``relu`` has derivative 0 at 0, as torch's.

    Raises
    ------
    TypeError
        When ``x`` is not real floating, ``params`` is not a mapping, or an entry is not
        an array of ``x``'s dtype.
    ValueError
        When ``x`` is not 4-D, ``data_format`` is unknown, a key is missing, or an entry
        has the wrong shape for the channels of ``x``.

    Examples
    --------
    With a zero second layer every gate is ``sigmoid(0) = 0.5``:

    >>> import array_api_strict as xp
    >>> from xpops import squeeze_excitation
    >>> p = {"fc1_weight": xp.ones((1, 2)), "fc1_bias": xp.zeros(1),
    ...      "fc2_weight": xp.zeros((2, 1)), "fc2_bias": xp.zeros(2)}
    >>> squeeze_excitation(xp.ones((1, 2, 1, 1)), p)
    Array([[[[0.5]],
    <BLANKLINE>
            [[0.5]]]], dtype=array_api_strict.float64)
    """
    xp, axes = _check_input(x, data_format)
    channels = x.shape[1 if data_format == "NCHW" else 3]
    w1, b1, w2, b2 = _check_se_params(xp, x, params, channels)
    xp = array_namespace(x, w1, b1, w2, b2)
    return run_compiled(_squeeze_excitation, (x, w1, b1, w2, b2), xp, axes, data_format)


def _squeeze_excitation(
    x: Any, w1: Any, b1: Any, w2: Any, b2: Any, xp: Any, axes: Pair, data_format: str
) -> Any:
    squeezed = xp.mean(x, axis=axes)  # (N, C)
    hidden = squeezed @ xp.matrix_transpose(w1) + b1
    hidden = xp.where(hidden > 0, hidden, xp.zeros_like(hidden))
    gate = sigmoid(hidden @ xp.matrix_transpose(w2) + b2)
    gate = gate[:, :, None, None] if data_format == "NCHW" else gate[:, None, None, :]
    return x * gate
