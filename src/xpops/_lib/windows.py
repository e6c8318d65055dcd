"""Sliding windows over two spatial axes: constant padding and strided window views.

The standard has no ``pad`` and no sliding-window view. :func:`pad2d` pads with a
constant through the backend's own pad (``np.pad``, ``torch.nn.functional.pad``,
``jnp.pad``) while delegation is on (see :mod:`xpops._lib.native`) or, as the
pure-standard fallback, by concatenating constant blocks.
:func:`window_views` returns, for every kernel offset ``(i, j)``, the strided slice
``x[..., i*dh :: sh, j*dw :: sw, ...]`` cut to the output size: reducing over these
``kh * kw`` views (max, sum) or concatenating them (im2col) evaluates every window with
plain basic indexing, which every namespace has. The loop runs over the kernel, a fixed
structure, never over elements.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat

from .namespace import device
from .native import natives_enabled

__all__ = ["pad2d", "window_views", "pooled_size", "same_padding"]

Pair = tuple[int, int]


def pad2d(
    xp: Any,
    x: Any,
    axes: Pair,
    pads: tuple[Pair, Pair],
    value: float = 0.0,
) -> Any:
    """``x`` padded with ``value``: ``pads[k] = (before, after)`` on ``axes[k]``.

    Pads are non-negative (callers validate). Differentiable on every path.
    """
    if all(lo == 0 and hi == 0 for lo, hi in pads):
        return x
    if natives_enabled():
        out = _native_pad(x, axes, pads, value)
        if out is not None:
            return out
    dev = device(x)

    def block(axis: int, count: int) -> list[Any]:
        shape = list(x.shape)
        shape[axis] = count
        return [xp.full(tuple(shape), value, dtype=x.dtype, device=dev)] if count else []

    for axis, (lo, hi) in zip(axes, pads, strict=True):
        if lo or hi:
            x = xp.concat([*block(axis, lo), x, *block(axis, hi)], axis=axis)
    return x


def _native_pad(x: Any, axes: Pair, pads: tuple[Pair, Pair], value: float) -> Any:
    widths = [(0, 0)] * x.ndim
    for axis, pad in zip(axes, pads, strict=True):
        widths[axis] = pad
    if array_api_compat.is_numpy_array(x):
        import numpy as np

        return np.pad(x, widths, constant_values=value)
    if array_api_compat.is_torch_array(x):
        import torch

        flat = [w for pair in reversed(widths) for w in pair]  # last axis first
        return torch.nn.functional.pad(x, flat, value=value)
    if array_api_compat.is_jax_array(x):
        import jax.numpy as jnp

        return jnp.pad(x, widths, constant_values=value)
    return None


def window_views(
    x: Any, axes: Pair, kernel: Pair, stride: Pair, dilation: Pair, out: Pair
) -> list[Any]:
    """The ``kh * kw`` strided views of ``x``, offset ``(i * dh, j * dw)``, row-major.

    View ``(i, j)`` has ``out`` along ``axes`` and holds the element at kernel offset
    ``(i, j)`` of every window: ``view[.., a, b, ..] = x[.., a*sh + i*dh, b*sw + j*dw, ..]``.
    ``x`` must already be padded so that every window fits.
    """
    views = []
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            index: list[Any] = [slice(None)] * x.ndim
            for axis, offset, s, n in zip(
                axes, (i * dilation[0], j * dilation[1]), stride, out, strict=True
            ):
                index[axis] = slice(offset, offset + (n - 1) * s + 1, s)
            views.append(x[tuple(index)])
    return views


def pooled_size(
    size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool
) -> int:
    """torch's pooling output length (below 1: no window fits, which callers reject).

    Floor (or ceil) division of the room left by the first window; with ``ceil_mode``
    the last window must start inside the input or the left padding, and may overhang
    the right padding, even when the kernel is longer than the padded input.
    """
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    n = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (n - 1) * stride >= size + pad:
        n -= 1
    return n


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> Pair:
    """JAX's (and TensorFlow's) SAME rule: ``ceil(size / stride)`` outputs, the total
    padding split with the odd element at the end."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2
