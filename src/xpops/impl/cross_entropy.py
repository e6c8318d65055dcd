"""Cross-entropy losses: multiclass (index or probability targets) and binary.

Values equal ``torch.nn.functional.cross_entropy``, ``binary_cross_entropy`` and
``binary_cross_entropy_with_logits`` with the class axis moved to ``axis`` (default
last), for every combination of options that torch accepts.
"""

from __future__ import annotations

from typing import Any

from .._lib.inputs import array_op
from .._lib.namespace import array_namespace, as_array, device, is_array_api_obj
from .._lib.native import native_torch
from .._lib.primitives import take_along_last_axis
from .._lib.validation import (
    REDUCTIONS,
    check_broadcastable,
    check_choice,
    check_ignore_index,
    check_in_unit_interval,
    check_label_range,
    check_probability,
    check_real_floating,
    check_same_shape,
    normalize_axis,
)
from .activations import log_sigmoid, log_softmax

__all__ = ["cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits"]


def _namespace(*arrays: Any) -> Any:
    return array_namespace(*(a for a in arrays if is_array_api_obj(a)))


def _as_float_param(xp: Any, value: Any, like: Any, name: str) -> Any:
    """An optional array parameter as an array of ``like``'s dtype and device."""
    if is_array_api_obj(value):
        if not xp.isdtype(value.dtype, ("real floating", "integral")):
            msg = f"`{name}` must be a real-valued array, got dtype {value.dtype}"
            raise TypeError(msg)
        return value if value.dtype == like.dtype else xp.astype(value, like.dtype)
    return xp.asarray(value, dtype=like.dtype, device=device(like))


def _as_float_target(xp: Any, target: Any, like: Any) -> Any:
    """Binary targets: floating as given; integer and bool 0/1 labels cast to ``like``."""
    if xp.isdtype(target.dtype, "real floating"):
        return target
    if xp.isdtype(target.dtype, ("integral", "bool")):
        return xp.astype(target, like.dtype)
    msg = f"`target` must be a real-valued array, got dtype {target.dtype}"
    raise TypeError(msg)


def _check_reduction(reduction: str) -> None:
    check_choice(reduction, "reduction", REDUCTIONS)


def _reduce(xp: Any, loss: Any, reduction: str) -> Any:
    if reduction == "none":
        return as_array(xp, loss)
    if reduction == "sum":
        return as_array(xp, xp.sum(loss))
    return as_array(xp, xp.mean(loss))


@array_op("logits", "target", "weight", labels=("target",))
def cross_entropy(
    logits: Any,
    target: Any,
    /,
    *,
    axis: int = -1,
    weight: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Any:
    r"""Softmax cross-entropy between ``logits`` and ``target`` along the class ``axis``.

    With index targets, per sample :math:`\ell_i = (1-\varepsilon)\,w_{t_i}(-\log p_{i,t_i})
    + \tfrac{\varepsilon}{C}\sum_c w_c(-\log p_{i,c})`, and ``"mean"`` divides the sum by
    :math:`\sum_i w_{t_i}` over non-ignored samples (NaN when every target is ignored).
    With probability targets, ``"mean"`` divides by the number of samples. Equals
    ``torch.nn.functional.cross_entropy`` with the class axis moved to ``axis``.

    Parameters
    ----------
    logits : array
        Real floating ``(*batch, C)``, the classes on ``axis``.
    target : array
        Either integer class indices in ``[0, C)`` with the shape of ``logits`` without
        ``axis``, or floating class probabilities with the shape of ``logits``.
    axis : int, default -1
        The class axis of ``logits``.
    weight : array or None, default None
        ``(C,)`` per-class weights.
    ignore_index : int or None, default None
        The class index whose targets contribute nothing (index targets only).
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`; the target becomes
        :math:`(1-\varepsilon)\,\text{target} + \varepsilon / C`.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` gives the per-sample losses (0 for ignored samples).

    Returns
    -------
    array
        0-d for ``"mean"`` and ``"sum"``, else the batch shape; the float dtype of
        ``logits`` (the result dtype of both for probability targets).

    Raises
    ------
    TypeError
        When ``logits`` is not real floating, ``target`` neither integer nor floating,
        ``weight`` not real-valued, or an option has the wrong type.
    ValueError
        When the shapes do not fit, ``axis`` is out of range, ``label_smoothing`` lies
        outside [0, 1], ``reduction`` is unknown, ``ignore_index`` meets probability
        targets, or a concrete index lies outside ``[0, C)`` and is not
        ``ignore_index``.

    Examples
    --------
    Two classes of equal logits: each sample's loss is log 2.

    >>> import array_api_strict as xp
    >>> from xpops import cross_entropy
    >>> cross_entropy(xp.asarray([[0.0, 0.0], [0.0, 0.0]]), xp.asarray([0, 1]))
    Array(0.69314718, dtype=array_api_strict.float64)
    >>> cross_entropy(xp.asarray([[0.0, 0.0], [0.0, 0.0]]), xp.asarray([0, -100]),
    ...               ignore_index=-100, reduction="none")
    Array([0.69314718, 0.        ], dtype=array_api_strict.float64)
    """
    xp = _namespace(logits, target, weight)
    check_real_floating(xp, logits, "logits")
    axis = normalize_axis(axis, logits.ndim, "axis")
    _check_reduction(reduction)
    label_smoothing = check_probability(label_smoothing, "label_smoothing")
    num_classes = logits.shape[axis]
    if weight is not None:
        weight = _as_float_param(xp, weight, logits, "weight")
        if tuple(weight.shape) != (num_classes,):
            msg = (
                f"`weight` must have shape ({num_classes},), one entry per class of "
                f"logits.shape[{axis}], got {tuple(weight.shape)}"
            )
            raise ValueError(msg)
    if xp.isdtype(target.dtype, "integral"):
        return _cross_entropy_indices(
            xp, logits, target, axis, weight, ignore_index, label_smoothing, reduction
        )
    if xp.isdtype(target.dtype, "real floating"):
        if ignore_index is not None:
            msg = (
                "`ignore_index` applies to class-index targets only; "
                f"got ignore_index={ignore_index!r} with floating (probability) targets"
            )
            raise ValueError(msg)
        check_same_shape(logits, target, "logits", "target")
        return _cross_entropy_probs(xp, logits, target, axis, weight, label_smoothing, reduction)
    msg = (
        "`target` must hold integer class indices or floating class probabilities, "
        f"got dtype {target.dtype}"
    )
    raise TypeError(msg)


def _cross_entropy_indices(
    xp: Any,
    logits: Any,
    target: Any,
    axis: int,
    weight: Any,
    ignore_index: int | None,
    label_smoothing: float,
    reduction: str,
) -> Any:
    num_classes = logits.shape[axis]
    batch_shape = tuple(logits.shape[:axis] + logits.shape[axis + 1 :])
    if tuple(target.shape) != batch_shape:
        msg = (
            f"class-index `target` must have the shape of `logits` without axis {axis}, "
            f"{batch_shape}; got target.shape={tuple(target.shape)} "
            f"for logits.shape={tuple(logits.shape)}"
        )
        raise ValueError(msg)
    ignore_index = check_ignore_index(ignore_index)
    check_label_range(xp, target, "target", num_classes, ignore_index=ignore_index)
    valid = None if ignore_index is None else target != ignore_index
    if (torch := native_torch(logits, target, weight)) is not None:
        # torch fixes the class axis at 1 and wants int64 indices; -100 cannot be a
        # valid index here, so it stands for "nothing ignored"
        return torch.nn.functional.cross_entropy(
            torch.movedim(logits, axis, 1) if logits.ndim > 1 else logits,
            target.long(),
            weight=weight,
            ignore_index=-100 if ignore_index is None else ignore_index,
            label_smoothing=label_smoothing,
            reduction=reduction,
        )

    x = xp.moveaxis(logits, axis, -1)
    index = target if valid is None else xp.where(valid, target, xp.zeros_like(target))
    index = index[..., None]
    # -log p_t = (m - x_t) + log sum exp(x - m): the full log-softmax is never formed
    # no max of an empty array: Dask cannot reduce an empty chunk with it
    empty = 0 in tuple(x.shape)
    m = xp.zeros_like(x[..., :1]) if empty else xp.max(x, axis=-1, keepdims=True)
    shifted = x - m
    lse = xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))
    nll = ((m - take_along_last_axis(xp, x, index)) + lse)[..., 0]

    if weight is None:
        sample_weight = xp.ones_like(nll)
    else:
        sample_weight = xp.reshape(xp.take(weight, xp.reshape(index, (-1,))), nll.shape)
    loss = sample_weight * nll
    if label_smoothing:
        # sum_c w_c (-log p_c) = lse * sum(w) - sum_c w_c * shifted_c; both terms >= 0
        if weight is None:
            smooth = num_classes * lse[..., 0] - xp.sum(shifted, axis=-1)
        else:
            smooth = xp.sum(weight) * lse[..., 0] - xp.sum(weight * shifted, axis=-1)
        loss = (1.0 - label_smoothing) * loss + (label_smoothing / num_classes) * smooth
    if valid is not None:
        zero = xp.zeros_like(loss)
        # where, not multiplication: an ignored sample's NaN logits must not leak
        loss = xp.where(valid, loss, zero)
        sample_weight = xp.where(valid, sample_weight, zero)
    if reduction == "none":
        return as_array(xp, loss)  # a 0-d loss of 1-D logits, not a NumPy scalar
    if reduction == "sum":
        return as_array(xp, xp.sum(loss))
    return as_array(xp, xp.sum(loss) / xp.sum(sample_weight))


def _cross_entropy_probs(
    xp: Any,
    logits: Any,
    target: Any,
    axis: int,
    weight: Any,
    label_smoothing: float,
    reduction: str,
) -> Any:
    num_classes = logits.shape[axis]
    dtype = xp.result_type(logits, target)
    logp = xp.moveaxis(log_softmax(xp.astype(logits, dtype), axis=axis), axis, -1)
    prob = xp.moveaxis(xp.astype(target, dtype), axis, -1)
    if label_smoothing:
        prob = prob * (1.0 - label_smoothing) + label_smoothing / num_classes
    if weight is not None:
        prob = prob * xp.astype(weight, dtype)
    loss = -xp.sum(logp * prob, axis=-1)
    return _reduce(xp, loss, reduction)


@array_op("probs", "target", "weight")
def binary_cross_entropy(
    probs: Any, target: Any, /, *, weight: Any = None, reduction: str = "mean"
) -> Any:
    r"""Binary cross-entropy of probabilities, as ``torch.nn.functional.binary_cross_entropy``.

    :math:`\ell = -w\,[t \max(\log p, -100) + (1-t)\max(\log(1-p), -100)]`; the clamp
    at -100 keeps ``p`` of exactly 0 or 1 finite, as torch does.

    Parameters
    ----------
    probs : array
        Real floating probabilities in [0, 1] (checked when values are concrete; NaN
        passes through).
    target : array
        Targets in [0, 1] of the shape of ``probs``; integer or bool targets are cast.
    weight : array or None, default None
        Weights that broadcast to the shape of ``probs``.
    reduction : {"mean", "sum", "none"}, default "mean"
        The mean or the sum of the elementwise losses, or ``"none"`` for all of them.

    Returns
    -------
    array
        0-d for ``"mean"`` and ``"sum"``, else the shape of ``probs``; its dtype.

    Raises
    ------
    TypeError
        When ``probs`` is not real floating, or ``target`` or ``weight`` not
        real-valued.
    ValueError
        When the shapes do not fit, ``reduction`` is unknown, or concrete ``probs`` or
        ``target`` lie outside [0, 1].

    Examples
    --------
    A probability of 0 for a positive target costs the clamp, 100; a probability of 1
    costs nothing:

    >>> import array_api_strict as xp
    >>> from xpops import binary_cross_entropy
    >>> binary_cross_entropy(xp.asarray([0.0, 1.0]), xp.asarray([1.0, 1.0]))
    Array(50., dtype=array_api_strict.float64)
    """
    xp = _namespace(probs, target, weight)
    check_real_floating(xp, probs, "probs")
    _check_reduction(reduction)
    target = _as_float_target(xp, target, probs)
    check_same_shape(probs, target, "probs", "target")
    check_in_unit_interval(xp, probs, "probs")
    check_in_unit_interval(xp, target, "target")
    floor = xp.asarray(-100.0, dtype=probs.dtype, device=device(probs))
    log_p = xp.maximum(xp.log(probs), floor)
    log_1mp = xp.maximum(xp.log1p(-probs), floor)
    loss = (target - 1) * log_1mp - target * log_p
    if weight is not None:
        weight = _as_float_param(xp, weight, probs, "weight")
        check_broadcastable(weight, tuple(probs.shape), "weight", "probs")
        loss = weight * loss
    return _reduce(xp, loss, reduction)


@array_op("logits", "target", "weight", "pos_weight")
def binary_cross_entropy_with_logits(
    logits: Any,
    target: Any,
    /,
    *,
    weight: Any = None,
    pos_weight: Any = None,
    reduction: str = "mean",
) -> Any:
    r"""Sigmoid binary cross-entropy on logits, stable for any finite ``logits``.

    :math:`\ell = w\,[(1-t)\,x + (1 + (q-1)\,t)\,\mathrm{softplus}(-x)]` with ``q`` the
    ``pos_weight`` and :math:`\mathrm{softplus}(-x) = \max(-x, 0) + \log(1 + e^{-|x|})`,
    which never overflows. Equals ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Parameters
    ----------
    logits : array
        Real floating logits, any shape.
    target : array
        Targets of the shape of ``logits``, usually in [0, 1]; integer or bool targets
        are cast.
    weight : array or None, default None
        Weights that broadcast to the shape of ``logits``.
    pos_weight : array or None, default None
        The weight of positive targets, broadcast along the last axis (one entry per
        class).
    reduction : {"mean", "sum", "none"}, default "mean"
        The mean or the sum of the elementwise losses, or ``"none"`` for all of them.

    Returns
    -------
    array
        0-d for ``"mean"`` and ``"sum"``, else the shape of ``logits``; its dtype.

    Raises
    ------
    TypeError
        When ``logits`` is not real floating, or ``target``, ``weight`` or
        ``pos_weight`` not real-valued.
    ValueError
        When the shapes do not fit or ``reduction`` is unknown.

    Examples
    --------
    A logit of 1000 against a target of 0 costs 1000, with no overflow:

    >>> import array_api_strict as xp
    >>> from xpops import binary_cross_entropy_with_logits
    >>> binary_cross_entropy_with_logits(xp.asarray([1000.0, -1000.0]), xp.asarray([0.0, 1.0]))
    Array(1000., dtype=array_api_strict.float64)
    """
    xp = _namespace(logits, target, weight, pos_weight)
    check_real_floating(xp, logits, "logits")
    _check_reduction(reduction)
    target = _as_float_target(xp, target, logits)
    check_same_shape(logits, target, "logits", "target")
    if pos_weight is not None:
        pos_weight = _as_float_param(xp, pos_weight, logits, "pos_weight")
        check_broadcastable(pos_weight, tuple(logits.shape), "pos_weight", "logits")
    if weight is not None:
        weight = _as_float_param(xp, weight, logits, "weight")
        check_broadcastable(weight, tuple(logits.shape), "weight", "logits")
    torch = native_torch(logits, target, weight, pos_weight)
    if torch is not None and target.dtype == logits.dtype:
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits, target, weight=weight, pos_weight=pos_weight, reduction=reduction
        )
    # softplus(-x) = -log(sigmoid(x)); log_sigmoid's derivative is right at x = 0
    softplus_neg = -log_sigmoid(logits)
    if pos_weight is None:
        loss = (1 - target) * logits + softplus_neg
    else:
        loss = (1 - target) * logits + (1 + (pos_weight - 1) * target) * softplus_neg
    if weight is not None:
        loss = weight * loss
    return _reduce(xp, loss, reduction)


