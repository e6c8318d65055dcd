"""Softmax family and sigmoids, numerically stable on every backend.

All reductions run over ``axis`` after subtracting the row maximum, so any finite
input is safe from overflow. ``where=False`` entries are excluded from the row: they
get 0 from ``softmax``, -inf from ``log_softmax``, and contribute nothing to
``logsumexp``. A row with nothing left gives 0 / -inf / -inf respectively.
"""

from __future__ import annotations

from typing import Any

from .._lib.inputs import array_op
from .._lib.namespace import array_namespace, as_array, can_mutate, device
from .._lib.native import native_torch
from .._lib.validation import (
    check_broadcastable,
    check_real_floating,
    normalize_axis,
)

__all__ = ["softmax", "log_softmax", "logsumexp", "sigmoid", "log_sigmoid"]


def _prepare(x: Any, axis: int, where: Any) -> tuple[Any, int, Any]:
    """Shared script: namespace, validation, and the broadcast boolean mask (or None)."""
    xp = array_namespace(x) if where is None else array_namespace(x, where)
    check_real_floating(xp, x, "x")
    axis = normalize_axis(axis, x.ndim)
    if where is not None:
        if where.dtype != xp.bool:
            msg = f"`where` must be a boolean array, got dtype {where.dtype}"
            raise TypeError(msg)
        check_broadcastable(where, tuple(x.shape), "where", "x")
        where = xp.broadcast_to(where, tuple(x.shape))
    return xp, axis, where


def _row_max(xp: Any, x: Any, axis: int, where: Any) -> tuple[Any, Any, Any]:
    """Masked input, per-row maximum used as the shift, and rows with something included.

    The shift of a row with nothing included is 0 rather than -inf, so that excluded
    entries become exp(-inf) = 0 instead of NaN.
    """
    if where is None:
        return x, xp.max(x, axis=axis, keepdims=True), None
    neg_inf = xp.asarray(-xp.inf, dtype=x.dtype, device=device(x))
    masked = xp.where(where, x, neg_inf)
    included = xp.any(where, axis=axis, keepdims=True)
    m = xp.max(masked, axis=axis, keepdims=True)
    m = xp.where(included, m, xp.zeros_like(m))
    return masked, m, included


@array_op("x", "where")
def softmax(x: Any, /, *, axis: int = -1, where: Any = None) -> Any:
    r"""Softmax along ``axis``: :math:`e^{x_i - m} / \sum_j e^{x_j - m}` with m the row max.

    Parameters
    ----------
    x : array
        Real floating, any shape.
    axis : int, default -1
        The axis to normalise over.
    where : array, optional
        Boolean, broadcastable to ``x``; False entries are excluded from the row and
        get 0.

    Returns
    -------
    array
        Same shape and dtype as ``x``; each row sums to 1 over its included entries. A
        row whose included entries are all -inf, or that holds +inf or NaN, is NaN
        throughout (excluded entries stay 0); a row with nothing included is 0.

    Raises
    ------
    TypeError
        When ``x`` is not real floating, ``axis`` is not an int or ``where`` is not
        boolean.
    ValueError
        When ``axis`` is out of range or ``where`` does not broadcast to ``x``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import softmax
    >>> softmax(xp.asarray([1.0, 2.0, 3.0]))
    Array([0.0900, 0.2447, 0.6652], dtype=array_api_strict.float64)

    The shift by the row maximum keeps large inputs finite, and ``where`` leaves entries
    out:

    >>> softmax(xp.asarray([1000.0, 1000.0, 1000.0]))
    Array([0.3333, 0.3333, 0.3333], dtype=array_api_strict.float64)
    >>> softmax(xp.asarray([1.0, 2.0, 3.0]), where=xp.asarray([True, True, False]))
    Array([0.2689, 0.7311, 0.    ], dtype=array_api_strict.float64)
    """
    xp, axis, where = _prepare(x, axis, where)
    if where is None and (torch := native_torch(x)) is not None:
        return torch.softmax(x, dim=axis)  # one fused pass, same semantics
    if 0 in tuple(x.shape):  # Dask cannot take the max of an empty chunk
        return xp.zeros_like(x)
    masked, m, _ = _row_max(xp, x, axis, where)
    e = xp.exp(masked - m)
    s = xp.sum(e, axis=axis, keepdims=True)
    if can_mutate(e):
        e /= s
        out = e
    else:
        out = e / s
    if where is not None:
        # a row with nothing included is 0/0 above
        out = xp.where(where, out, xp.zeros_like(out))
    return out


@array_op("x", "where")
def log_softmax(x: Any, /, *, axis: int = -1, where: Any = None) -> Any:
    r"""Log of :func:`softmax`: :math:`(x_i - m) - \log \sum_j e^{x_j - m}`.

    Computed from the shifted input, never as ``log(softmax(x))``, so
    ``log_softmax([-1e4, 0, 1e4])`` is exactly ``[-2e4, -1e4, 0]``.

    Parameters
    ----------
    x : array
        Real floating, any shape.
    axis : int, default -1
        The axis to normalise over.
    where : array, optional
        Boolean, broadcastable to ``x``; False entries are excluded from the row and
        get -inf.

    Returns
    -------
    array
        Same shape and dtype as ``x``. Excluded entries (``where=False``) are -inf; NaN
        rows follow :func:`softmax`.

    Raises
    ------
    TypeError
        When ``x`` is not real floating, ``axis`` is not an int or ``where`` is not
        boolean.
    ValueError
        When ``axis`` is out of range or ``where`` does not broadcast to ``x``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import log_softmax
    >>> log_softmax(xp.asarray([0.0, 0.0]))
    Array([-0.6931, -0.6931], dtype=array_api_strict.float64)
    >>> log_softmax(xp.asarray([-1e4, 0.0, 1e4]))
    Array([-20000., -10000.,      0.], dtype=array_api_strict.float64)
    """
    xp, axis, where = _prepare(x, axis, where)
    if where is None and (torch := native_torch(x)) is not None:
        return torch.log_softmax(x, dim=axis)
    if 0 in tuple(x.shape):  # Dask cannot take the max of an empty chunk
        return xp.zeros_like(x)
    masked, m, _ = _row_max(xp, x, axis, where)
    shifted = masked - m
    lse = xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
    if can_mutate(shifted):
        shifted -= lse
        out = shifted
    else:
        out = shifted - lse
    if where is not None:
        # excluded entries of a NaN row would otherwise be -inf - NaN
        out = xp.where(where, out, xp.asarray(-xp.inf, dtype=x.dtype, device=device(x)))
    return out


@array_op("x", "where")
def logsumexp(
    x: Any, /, *, axis: int = -1, keepdims: bool = False, where: Any = None
) -> Any:
    r""":math:`\log \sum_i e^{x_i}` along ``axis``, computed as :math:`m + \log\sum e^{x_i - m}`.

    Follows the mathematical limits: a row of all -inf (or with nothing included by
    ``where``, or an empty axis) gives -inf, a row holding +inf gives +inf, NaN gives NaN.

    Parameters
    ----------
    x : array
        Real floating, any shape.
    axis : int, default -1
        The axis to reduce.
    keepdims : bool, default False
        Keep the reduced axis with size 1.
    where : array, optional
        Boolean, broadcastable to ``x``; False entries are excluded from the sum.

    Returns
    -------
    array
        The dtype of ``x``, with ``axis`` removed (or of size 1 with ``keepdims``).

    Raises
    ------
    TypeError
        When ``x`` is not real floating, ``axis`` is not an int or ``where`` is not
        boolean.
    ValueError
        When ``axis`` is out of range or ``where`` does not broadcast to ``x``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import logsumexp
    >>> logsumexp(xp.asarray([1000.0, 1000.0]))
    Array(1000.6931, dtype=array_api_strict.float64)
    >>> logsumexp(xp.asarray([[0.0, 0.0], [1.0, -xp.inf]]))
    Array([0.6931, 1.    ], dtype=array_api_strict.float64)
    """
    xp, axis, where = _prepare(x, axis, where)
    if where is None and (torch := native_torch(x)) is not None:
        return torch.logsumexp(x, dim=axis, keepdim=keepdims)
    masked = x if where is None else xp.where(
        where, x, xp.asarray(-xp.inf, dtype=x.dtype, device=device(x))
    )
    if 0 in tuple(x.shape):  # Dask cannot take the max of an empty chunk
        s = xp.sum(xp.exp(masked), axis=axis, keepdims=keepdims)
        return as_array(xp, xp.log(s))
    m = xp.max(masked, axis=axis, keepdims=True)
    # a non-finite maximum would turn x - m into NaN; the limits come out right with 0
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    out = xp.log(xp.sum(xp.exp(masked - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = xp.squeeze(out, axis=axis)
    return out


@array_op("x")
def sigmoid(x: Any, /) -> Any:
    r"""Logistic sigmoid :math:`1 / (1 + e^{-x})`, without overflow for large ``|x|``.

    Parameters
    ----------
    x : array
        Real floating, any shape.

    Returns
    -------
    array
        Same shape and dtype as ``x``, in [0, 1].

    Raises
    ------
    TypeError
        When ``x`` is not real floating.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import sigmoid
    >>> sigmoid(xp.asarray([-1000.0, 0.0, 1000.0]))
    Array([0. , 0.5, 1. ], dtype=array_api_strict.float64)
    """
    xp = array_namespace(x)
    check_real_floating(xp, x, "x")
    if (torch := native_torch(x)) is not None:
        return torch.sigmoid(x)
    # exp(-|x|) never overflows; 1 / (1 + e) and e / (1 + e) are the same function
    e = xp.exp(-_abs_by_sign(xp, x))
    r = 1 / (1 + e)
    return xp.where(x >= 0, r, e * r)


@array_op("x")
def log_sigmoid(x: Any, /) -> Any:
    r""":math:`\log \sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})`, stable for any ``x``.

    Parameters
    ----------
    x : array
        Real floating, any shape.

    Returns
    -------
    array
        Same shape and dtype as ``x``, at most 0.

    Raises
    ------
    TypeError
        When ``x`` is not real floating.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import log_sigmoid
    >>> log_sigmoid(xp.asarray([-1000.0, 0.0]))
    Array([-1.0000e+03, -6.9315e-01], dtype=array_api_strict.float64)
    """
    xp = array_namespace(x)
    check_real_floating(xp, x, "x")
    if (torch := native_torch(x)) is not None:
        return torch.nn.functional.logsigmoid(x)
    # branches rather than min(x, 0) and abs(x): the derivatives of those at the tie
    # x = 0 differ by backend and do not add up to sigma(-0) = 1/2 on JAX
    log1p_e = xp.log1p(xp.exp(-_abs_by_sign(xp, x)))
    return xp.where(x >= 0, -log1p_e, x - log1p_e)


def _abs_by_sign(xp: Any, x: Any) -> Any:
    """``|x|`` as ``where(x >= 0, x, -x)``, so that its derivative at 0 is 1 on every
    backend, matching the ``x >= 0`` branch that uses it (``abs`` has derivative 0 at 0
    on torch and 1 on JAX)."""
    return xp.where(x >= 0, x, -x)
