"""The soft Dice / F-beta loss of the segmentation family.

Where :mod:`xpops.impl.segmentation` counts hard labels, this loss compares
probabilities (or logits through an activation) with soft or one-hot targets, with
smoothing terms, and is differentiable in its inputs, so it trains a network the
segmentation metrics then evaluate.
"""

from __future__ import annotations

from typing import Any

from .._lib.inputs import array_op
from .._lib.namespace import (
    array_namespace,
    as_array,
    device,
    is_array_api_obj,
    is_concrete,
)
from .._lib.validation import (
    REDUCTIONS,
    check_choice,
    check_in_unit_interval,
    check_label_range,
    check_real,
    check_real_floating,
    concrete_true,
)
from .activations import sigmoid, softmax

__all__ = ["dice_loss"]

ACTIVATIONS = (None, "softmax", "sigmoid")


@array_op("inputs", "target", "weight", labels=("target",))
def dice_loss(
    inputs: Any,
    target: Any,
    /,
    *,
    activation: str | None = None,
    beta: float = 1.0,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    squared: bool = False,
    include_background: bool = True,
    batch: bool = False,
    weight: Any = None,
    reduction: str = "mean",
) -> Any:
    r"""Soft Dice loss, :math:`1 -` soft F-beta per sample and channel (channels on axis 1).

    With sums over the spatial axes (and the batch when ``batch=True``):

    .. math:: s_c = \frac{(1 + \beta^2) \sum p g + \text{smooth\_nr}}
              {\sum p^k + \beta^2 \sum g^k + \text{smooth\_dr}}, \qquad \ell_c = w_c (1 - s_c)

    Equals MONAI's ``DiceLoss`` for the options both have (beta = 1; ``softmax``,
    ``sigmoid``, ``to_onehot_y`` for label targets, ``squared_pred``, ``batch``,
    ``include_background``, ``weight``, ``reduction``). Differentiable in ``inputs``.

    Parameters
    ----------
    inputs : array
        Real floating ``(N, C, *spatial)``: probabilities (``activation=None``, checked
        to lie in [0, 1] when concrete) or logits for ``"softmax"`` (over axis 1, needs
        C >= 2) / ``"sigmoid"``.
    target : array
        One-hot masks or probabilities of the shape of ``inputs``; or integer labels
        ``(N, *spatial)`` in ``[0, C)``, one-hot encoded (with C = 1, labels 0/1 are
        the channel's target, as MONAI).
    activation : {None, "softmax", "sigmoid"}, default None
        Applied to ``inputs`` first.
    beta : float, default 1.0
        The F-beta weight of recall, > 0; 1 is Dice.
    smooth_nr, smooth_dr : float, default 1e-5
        Added to the numerator and the denominator, >= 0.
    squared : bool, default False
        k = 2 (sums of squares in the denominator) instead of k = 1.
    include_background : bool, default True
        False drops channel 0 (needs C >= 2).
    batch : bool, default False
        Sum over the batch too, giving one score per channel.
    weight : array or None, default None
        ``(C',)`` non-negative weights, one per kept channel, multiplying the losses.
    reduction : {"mean", "sum", "none"}, default "mean"
        The mean or the sum over samples and channels, or ``"none"``.

    Returns
    -------
    array
        0-d for ``"mean"`` and ``"sum"``; for ``"none"`` ``(N, C')``, or ``(C',)`` with
        ``batch=True`` (MONAI keeps broadcastable singleton spatial axes instead:
        ``(N, C', 1, ...)``). The dtype of ``inputs``.

    Raises
    ------
    TypeError
        When ``inputs`` is not real floating, ``target`` or ``weight`` not real-valued
        (label ``target`` not integer), or ``beta``, ``smooth_nr``, ``smooth_dr`` not
        real numbers.
    ValueError
        When the shapes do not fit, an option is unknown or out of range, softmax or
        ``include_background=False`` meet a single channel, or concrete values are out
        of range (``inputs`` or ``target`` outside [0, 1], labels outside ``[0, C)``,
        negative ``weight``).

    Examples
    --------
    One sample, two channels, two pixels, both labelled 0: channel 0 predicts one of
    them (soft Dice 2/3), channel 1 predicts a pixel with no target (Dice 0):

    >>> import array_api_strict as xp
    >>> from xpops import dice_loss
    >>> p = xp.asarray([[[1.0, 0.0], [0.0, 1.0]]])
    >>> dice_loss(p, xp.asarray([[0, 0]]), smooth_nr=0.0, smooth_dr=0.0, reduction="none")
    Array([[0.33333333, 1.        ]], dtype=array_api_strict.float64)
    """
    xp = array_namespace(*(a for a in (inputs, target, weight) if is_array_api_obj(a)))
    check_real_floating(xp, inputs, "inputs")
    check_choice(activation, "activation", ACTIVATIONS)
    check_choice(reduction, "reduction", REDUCTIONS)
    beta = check_real(beta, "beta", low=0.0, low_open=True)
    smooth_nr = check_real(smooth_nr, "smooth_nr", low=0.0)
    smooth_dr = check_real(smooth_dr, "smooth_dr", low=0.0)
    if inputs.ndim < 2:
        msg = f"`inputs` must have shape (N, C, *spatial), got shape {tuple(inputs.shape)}"
        raise ValueError(msg)
    channels = inputs.shape[1]
    if activation == "softmax" and channels < 2:
        msg = (
            f"activation='softmax' needs at least 2 channels on axis 1, got "
            f"inputs.shape={tuple(inputs.shape)}; use 'sigmoid' for one channel"
        )
        raise ValueError(msg)
    if not include_background and channels < 2:
        msg = (
            "`include_background=False` leaves no channel: "
            f"inputs.shape={tuple(inputs.shape)} has one"
        )
        raise ValueError(msg)
    g = _loss_target(xp, inputs, target)
    if activation is None:
        check_in_unit_interval(xp, inputs, "inputs")
        p = inputs
    elif activation == "softmax":
        p = softmax(inputs, axis=1)
    else:
        p = sigmoid(inputs)
    kept = channels if include_background else channels - 1
    if weight is not None:
        weight = _loss_weight(xp, weight, inputs, kept)
    if not include_background:
        p, g = p[:, 1:, ...], g[:, 1:, ...]
    axes = tuple(range(2, inputs.ndim))
    if batch:
        axes = (0, *axes)

    def total(x: Any) -> Any:
        return xp.sum(x, axis=axes) if axes else x

    b2 = beta * beta
    inter = total(p * g)
    p_k = total(p * p) if squared else total(p)
    g_k = total(g * g) if squared else total(g)
    loss = 1 - ((1 + b2) * inter + smooth_nr) / (p_k + b2 * g_k + smooth_dr)
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return as_array(xp, xp.sum(loss))
    return as_array(xp, xp.mean(loss))


def _loss_target(xp: Any, inputs: Any, target: Any) -> Any:
    """``target`` as floats of the shape and dtype of ``inputs``."""
    shape = tuple(inputs.shape)
    channels = shape[1]
    if tuple(target.shape) == shape:
        if not xp.isdtype(target.dtype, ("bool", "integral", "real floating")):
            msg = f"`target` must be real-valued, got dtype {target.dtype}"
            raise TypeError(msg)
        check_in_unit_interval(xp, target, "target")
        return xp.astype(target, inputs.dtype)
    label_shape = shape[:1] + shape[2:]
    if tuple(target.shape) != label_shape:
        msg = (
            f"`target` must have the shape of `inputs` {shape} (one-hot or probabilities) "
            f"or {label_shape} (integer labels); got target.shape={tuple(target.shape)}"
        )
        raise ValueError(msg)
    if not xp.isdtype(target.dtype, "integral"):
        msg = (
            f"label `target` of shape {label_shape} must have an integer dtype, "
            f"got {target.dtype}"
        )
        raise TypeError(msg)
    check_label_range(xp, target, "target", max(channels, 2))
    labels = xp.expand_dims(target, axis=1)
    if channels == 1:  # a single channel: labels 0/1 are its binary target
        return xp.astype(labels, inputs.dtype)
    classes = xp.reshape(
        xp.arange(channels, dtype=target.dtype, device=device(target)),
        (1, channels) + (1,) * (len(shape) - 2),
    )
    return xp.astype(labels == classes, inputs.dtype)


def _loss_weight(xp: Any, weight: Any, inputs: Any, kept: int) -> Any:
    if is_array_api_obj(weight):
        if not xp.isdtype(weight.dtype, ("integral", "real floating")):
            msg = f"`weight` must be a real-valued array, got dtype {weight.dtype}"
            raise TypeError(msg)
        weight = xp.astype(weight, inputs.dtype)
    else:
        weight = xp.asarray(weight, dtype=inputs.dtype, device=device(inputs))
    if tuple(weight.shape) != (kept,):
        msg = (
            f"`weight` must have shape ({kept},), one entry per kept channel, "
            f"got {tuple(weight.shape)}"
        )
        raise ValueError(msg)
    if is_concrete(weight) and concrete_true(xp.any(weight < 0)):
        msg = f"`weight` must be non-negative, got min {float(xp.min(weight))}"
        raise ValueError(msg)
    return weight
