"""Segmentation metrics (IoU, Dice) and the soft Dice / F-beta loss.

Every metric here is a function of additive per-class counts: ``intersection_and_union``
and a confusion matrix are the statistics, ``mean_iou_from_confusion`` and
``dice_from_confusion`` finish the computation, so a data set can be evaluated in
chunks (or across workers) by summing the statistics.

Counting goes through :func:`xpops._lib.counting.bincount`. What must not be counted
(positions whose target is ``ignore_index``) is mapped to one extra bin that is cut off
afterwards, instead of boolean indexing, so the output shapes stay static and the
metrics stay jit-able.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .._lib.counting import bincount
from .._lib.inputs import array_op
from .._lib.jax_eager import as_pytree
from .._lib.namespace import (
    array_namespace,
    as_array,
    as_default_int,
    default_float,
    default_int,
    device,
    is_array_api_obj,
    is_concrete,
)
from .._lib.validation import (
    REDUCTIONS,
    check_choice,
    check_ignore_index,
    check_in_unit_interval,
    check_integer,
    check_num_classes,
    check_real_floating,
    check_same_shape,
    check_zero_division,
    concrete_true,
    size,
)
from .activations import sigmoid, softmax

__all__ = [
    "MeanIoU",
    "intersection_and_union",
    "mean_iou",
    "mean_iou_from_confusion",
    "dice_from_confusion",
    "dice_score",
    "dice_loss",
]

AVERAGES = ("macro", "micro", "weighted", None)
AGGREGATIONS = ("global", "samplewise")
INPUT_FORMATS = ("index", "one-hot")
ACTIVATIONS = (None, "softmax", "sigmoid")


@dataclass(frozen=True)
class MeanIoU:
    """Result of :func:`mean_iou`: 0-d arrays except ``per_class_iou`` ``(num_classes,)``.

    ``per_class_iou`` is NaN where a class's union is empty; ``miou`` is the mean over
    the other classes (NaN when there are none); ``pixel_accuracy`` is the fraction of
    counted positions whose prediction equals the target (NaN when none is counted).
    """

    per_class_iou: Any
    miou: Any
    pixel_accuracy: Any


# ------------------------------------------------------------------------ validation


def _check_label_values(
    xp: Any, x: Any, name: str, num_classes: int, ignore_index: int | None = None
) -> None:
    """Raise when concrete labels fall outside [0, num_classes) and are not ignore_index."""
    if not is_concrete(x) or size(x) == 0:
        return
    bad = (x < 0) | (x >= num_classes)
    if ignore_index is not None:
        bad = bad & (x != ignore_index)
    if concrete_true(xp.any(bad)):
        bad_values = x[bad]  # eager and concrete here: boolean indexing is fine
        msg = (
            f"`{name}` holds labels outside [0, {num_classes}): found values in "
            f"[{int(xp.min(bad_values))}, {int(xp.max(bad_values))}]"
            + ("" if ignore_index is None else f" (ignore_index={ignore_index})")
        )
        raise ValueError(msg)


def _check_binary_values(xp: Any, x: Any, name: str) -> None:
    if x.dtype == xp.bool or not is_concrete(x) or size(x) == 0:
        return
    if concrete_true(xp.any((x != 0) & (x != 1))):
        msg = (
            f"one-hot `{name}` must hold only 0 and 1; got values in "
            f"[{float(xp.min(x))}, {float(xp.max(x))}]"
        )
        raise ValueError(msg)


def _check_real_number(value: Any, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"`{name}` must be a real number, got {value!r}"
        raise TypeError(msg)
    if positive and not value > 0:
        msg = f"`{name}` must be > 0, got {value!r}"
        raise ValueError(msg)
    if not positive and not value >= 0:
        msg = f"`{name}` must be >= 0, got {value!r}"
        raise ValueError(msg)
    return float(value)


def _check_confusion(xp: Any, cm: Any) -> None:
    if not xp.isdtype(cm.dtype, ("integral", "real floating")):
        msg = f"`cm` must have an integer or real floating dtype, got {cm.dtype}"
        raise TypeError(msg)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        msg = f"`cm` must be a square (K, K) confusion matrix, got shape {tuple(cm.shape)}"
        raise ValueError(msg)
    if is_concrete(cm) and size(cm) and concrete_true(xp.any(cm < 0)):
        msg = f"`cm` holds negative counts (min {float(xp.min(cm))})"
        raise ValueError(msg)


# ------------------------------------------------------------------------- helpers


def _safe_div(xp: Any, num: Any, den: Any, fill: float = math.nan) -> Any:
    """``num / den`` where ``den > 0``, else ``fill``; no 0/0 is ever evaluated."""
    ok = den > 0
    ratio = num / xp.where(ok, den, xp.ones_like(den))
    return xp.where(ok, ratio, xp.full_like(ratio, fill))


def _nanmean(xp: Any, x: Any, axis: int) -> Any:
    """Mean over ``axis`` of the non-NaN entries; NaN where there are none."""
    ok = ~xp.isnan(x)
    total = xp.sum(xp.where(ok, x, xp.zeros_like(x)), axis=axis)
    return _safe_div(xp, total, xp.sum(xp.astype(ok, x.dtype), axis=axis))


def _counts(
    xp: Any, preds: Any, target: Any, num_classes: int, ignore_index: int | None,
    samples: int = 0,
) -> tuple[Any, Any, Any]:
    """Per-class (intersection, pred count, target count), with mmsegmentation's rule:
    positions whose target is ``ignore_index`` are dropped from both sides; a counted
    prediction outside [0, num_classes) (it can only equal ``ignore_index``) is a miss.

    With ``samples > 0`` the counts are per sample of axis 0: shape ``(samples, K)``.
    """
    k = num_classes
    preds, target = as_default_int(xp, preds), as_default_int(xp, target)
    extra = xp.asarray(k, dtype=target.dtype, device=device(target))
    t_ok = (target >= 0) & (target < k)
    if ignore_index is not None:
        t_ok = t_ok & (target != ignore_index)
    p_ok = (preds >= 0) & (preds < k) & t_ok  # t_ok: the position is counted at all
    t_bin = xp.where(t_ok, target, extra)
    p_bin = xp.where(p_ok, preds, extra)
    i_bin = xp.where(p_ok & (preds == target), target, extra)
    length = k + 1
    if samples:
        # sample n's bins are shifted to [n (k + 1), (n + 1)(k + 1)): one count per sample
        shape = (samples,) + (1,) * (target.ndim - 1)
        offset = xp.reshape(
            xp.arange(samples, dtype=target.dtype, device=device(target)) * length, shape
        )
        t_bin, p_bin, i_bin = t_bin + offset, p_bin + offset, i_bin + offset

    def count(bins: Any) -> Any:
        if not samples:
            return bincount(xp, bins, length=length)[:k]
        c = bincount(xp, bins, length=samples * length)
        return xp.reshape(c, (samples, length))[:, :k]

    return count(i_bin), count(p_bin), count(t_bin)


def _iou_result(xp: Any, inter: Any, area_pred: Any, area_target: Any, dtype: Any) -> MeanIoU:
    union = area_pred + area_target - inter
    iou = _safe_div(xp, xp.astype(inter, dtype), xp.astype(union, dtype))
    miou = _nanmean(xp, iou, axis=0)
    # integer totals first: a float32 sum of large counts would round
    accuracy = _safe_div(
        xp,
        xp.astype(xp.sum(inter, dtype=inter.dtype), dtype),
        xp.astype(xp.sum(area_target, dtype=area_target.dtype), dtype),
    )
    return as_pytree(MeanIoU(iou, as_array(xp, miou), as_array(xp, accuracy)))


def _diagonal(xp: Any, cm: Any) -> Any:
    k = cm.shape[0]
    return xp.take(xp.reshape(cm, (-1,)), xp.arange(k, device=device(cm)) * (k + 1))


def _sum(xp: Any, x: Any, axis: int) -> Any:
    # dtype kept: the standard widens small integer sums to the default integer, and
    # array-api-strict picks int64 even on a device without it
    return xp.sum(x, axis=axis, dtype=x.dtype)


def _float_of(xp: Any, x: Any) -> Any:
    return x.dtype if xp.isdtype(x.dtype, "real floating") else default_float(xp, device(x))


# ----------------------------------------------------------------------------- IoU


@array_op("preds", "target", labels=("preds", "target"))
def intersection_and_union(
    preds: Any, target: Any, /, *, num_classes: int, ignore_index: int | None = None
) -> tuple[Any, Any, Any, Any]:
    r"""Per-class pixel counts ``(area_intersection, area_union, area_pred, area_target)``.

    ``preds`` and ``target`` are integer label arrays of one shape (any rank); labels lie
    in ``[0, num_classes)`` or equal ``ignore_index``. Positions where
    ``target == ignore_index`` are dropped from both sides; a prediction equal to an
    out-of-range ``ignore_index`` at a counted position counts for the target only.
    This is mmsegmentation's ``intersect_and_union`` (``ignore_index=255`` on VOC masks).

    :math:`I_c = \#\{p = t = c\}`, :math:`P_c = \#\{p = c\}`, :math:`T_c = \#\{t = c\}`,
    :math:`U_c = P_c + T_c - I_c`, each of shape ``(num_classes,)`` in the namespace's
    default integer dtype. The counts are additive: summing them over chunks of a data
    set gives the counts of the whole.

    >>> import array_api_strict as xp
    >>> i, u, p, t = intersection_and_union(
    ...     xp.asarray([0, 1, 1, 2]), xp.asarray([0, 1, 2, 255]), num_classes=3,
    ...     ignore_index=255)
    >>> i, u
    (Array([1, 1, 0], dtype=array_api_strict.int64), Array([1, 2, 1], dtype=array_api_strict.int64))
    """
    xp = array_namespace(preds, target)
    num_classes = check_num_classes(num_classes)
    check_ignore_index(ignore_index)
    check_integer(xp, preds, "preds")
    check_integer(xp, target, "target")
    check_same_shape(preds, target, "preds", "target")
    _check_label_values(xp, target, "target", num_classes, ignore_index)
    _check_label_values(xp, preds, "preds", num_classes, ignore_index)
    inter, area_pred, area_target = _counts(xp, preds, target, num_classes, ignore_index)
    return inter, area_pred + area_target - inter, area_pred, area_target


@array_op("preds", "target", labels=("preds", "target"))
def mean_iou(
    preds: Any, target: Any, /, *, num_classes: int, ignore_index: int | None = None
) -> MeanIoU:
    r"""Per-class IoU, mean IoU and pixel accuracy of integer label maps.

    With the counts of :func:`intersection_and_union`: ``per_class_iou`` is
    :math:`I_c / U_c` (NaN where :math:`U_c = 0`), ``miou`` the mean over the non-NaN
    classes (NaN if none), ``pixel_accuracy`` :math:`\sum_c I_c / \sum_c T_c` (NaN when
    nothing is counted). Floats take the namespace's default float dtype on the input
    device. Equals mmsegmentation's ``mean_iou`` (IoU, aAcc) and, per class, scikit-learn's
    ``jaccard_score(average=None)`` over the non-ignored positions.

    >>> import array_api_strict as xp
    >>> r = mean_iou(xp.asarray([0, 1, 1, 2]), xp.asarray([0, 1, 2, 2]), num_classes=4)
    >>> r.per_class_iou
    Array([1. , 0.5, 0.5, nan], dtype=array_api_strict.float64)
    >>> r.miou
    Array(0.66666667, dtype=array_api_strict.float64)
    """
    xp = array_namespace(preds, target)
    inter, _, area_pred, area_target = intersection_and_union(
        preds, target, num_classes=num_classes, ignore_index=ignore_index
    )
    return _iou_result(xp, inter, area_pred, area_target, default_float(xp, device(inter)))


@array_op("cm", labels=("cm",))
def mean_iou_from_confusion(cm: Any, /) -> MeanIoU:
    r""":func:`mean_iou` from a ``(K, K)`` confusion matrix (rows = target, columns = pred).

    :math:`I_c = cm_{cc}`, :math:`T_c = \sum_j cm_{cj}`, :math:`P_c = \sum_i cm_{ic}`.
    A floating ``cm`` keeps its dtype; an integer one gives the default float dtype.

    >>> import array_api_strict as xp
    >>> mean_iou_from_confusion(xp.asarray([[2, 1], [0, 1]])).per_class_iou
    Array([0.66666667, 0.5       ], dtype=array_api_strict.float64)
    """
    xp = array_namespace(cm)
    _check_confusion(xp, cm)
    return _iou_result(
        xp, _diagonal(xp, cm), _sum(xp, cm, axis=0), _sum(xp, cm, axis=1), _float_of(xp, cm)
    )


@array_op("cm", labels=("cm",))
def dice_from_confusion(cm: Any, /, *, zero_division: float = math.nan) -> Any:
    r"""Per-class Dice :math:`2\,cm_{cc} / (T_c + P_c)` from a ``(K, K)`` confusion matrix.

    Rows are targets and columns predictions; a class absent from both (:math:`T_c +
    P_c = 0`) scores ``zero_division`` (nan, 0.0 or 1.0). Dtype as
    :func:`mean_iou_from_confusion`.

    >>> import array_api_strict as xp
    >>> dice_from_confusion(xp.asarray([[2, 1, 0], [0, 1, 0], [0, 0, 0]]))
    Array([0.8       , 0.66666667,        nan], dtype=array_api_strict.float64)
    """
    xp = array_namespace(cm)
    _check_confusion(xp, cm)
    zero_division = check_zero_division(zero_division)
    dtype = _float_of(xp, cm)
    inter = xp.astype(_diagonal(xp, cm), dtype)
    den = xp.astype(_sum(xp, cm, axis=0) + _sum(xp, cm, axis=1), dtype)
    return _safe_div(xp, 2 * inter, den, zero_division)


# ---------------------------------------------------------------------------- Dice


@array_op("preds", "target", labels=("preds", "target"))
def dice_score(
    preds: Any,
    target: Any,
    /,
    *,
    num_classes: int | None = None,
    input_format: str = "index",
    include_background: bool = True,
    average: str | None = "macro",
    aggregation: str = "global",
    zero_division: float = math.nan,
    ignore_empty_target: bool = False,
) -> Any:
    r"""Hard Dice (= F1) per class of label maps or one-hot masks, and its averages.

    Parameters
    ----------
    preds, target : ``input_format="index"``: integer labels ``(N, *spatial)`` in
        ``[0, num_classes)``; ``"one-hot"``: 0/1 masks ``(N, C, *spatial)`` (bool,
        integer or floating; channels may overlap). Axis 0 is the batch.
    num_classes : required for index inputs; for one-hot inputs ``None`` or ``C``.
    include_background : False drops class (channel) 0.
    average : ``"macro"`` (mean over classes), ``"micro"`` (Dice of the counts summed
        over classes), ``"weighted"`` (mean weighted by target support; unweighted when
        every support is 0, as scikit-learn) or ``None`` (per class).
    aggregation : ``"global"`` counts over the whole batch; ``"samplewise"`` scores each
        sample, then averages over samples.
    zero_division : the score of a class absent from both prediction and target.
    ignore_empty_target : True gives NaN to every class whose target is empty, whatever
        was predicted (MONAI ``DiceMetric(ignore_empty=True)``).

    Per class :math:`D_c = 2 TP_c / (2 TP_c + FP_c + FN_c)`. NaN entries are left out of
    every mean (classes, then samples); a mean over nothing is NaN. MONAI
    ``DiceMetric(ignore_empty=False)`` is ``zero_division=1.0``; its
    ``reduction="mean"`` is ``aggregation="samplewise", average="macro"`` and
    ``"mean_batch"`` is ``aggregation="samplewise", average=None`` (except that MONAI
    returns 0 where everything is NaN). Returns a 0-d array, or ``(C',)`` for
    ``average=None``; float dtype from floating inputs, else the default float.

    >>> import array_api_strict as xp
    >>> dice_score(xp.asarray([[0, 1, 1, 2]]), xp.asarray([[0, 1, 2, 2]]), num_classes=4,
    ...            average=None)
    Array([1. , 0.66666667, 0.66666667, nan], dtype=array_api_strict.float64)
    """
    xp = array_namespace(preds, target)
    check_choice(input_format, "input_format", INPUT_FORMATS)
    check_choice(average, "average", AVERAGES)
    check_choice(aggregation, "aggregation", AGGREGATIONS)
    zero_division = check_zero_division(zero_division)
    check_same_shape(preds, target, "preds", "target")
    samples = preds.shape[0] if preds.ndim and aggregation == "samplewise" else 0
    if input_format == "index":
        if num_classes is None:
            msg = "`num_classes` is required with input_format='index'"
            raise ValueError(msg)
        num_classes = check_num_classes(num_classes)
        check_integer(xp, preds, "preds")
        check_integer(xp, target, "target")
        if preds.ndim < 1:
            msg = f"index `preds` must have a batch axis (N, *spatial), got shape {preds.shape}"
            raise ValueError(msg)
        _check_label_values(xp, target, "target", num_classes)
        _check_label_values(xp, preds, "preds", num_classes)
        tp, pred_count, target_count = _counts(xp, preds, target, num_classes, None, samples)
        dtype = default_float(xp, device(preds))
    else:
        tp, pred_count, target_count, dtype = _one_hot_counts(
            xp, preds, target, num_classes, samples
        )
    if not samples:  # one row: the whole batch
        tp, pred_count, target_count = (x[None, :] for x in (tp, pred_count, target_count))
    if not include_background:
        if tp.shape[1] < 2:
            msg = (
                "`include_background=False` leaves no class: there is only "
                f"{tp.shape[1]} class"
            )
            raise ValueError(msg)
        tp, pred_count, target_count = (x[:, 1:] for x in (tp, pred_count, target_count))
    tp, pred_count, target_count = (xp.astype(x, dtype) for x in (tp, pred_count, target_count))
    per_class = _safe_div(xp, 2 * tp, pred_count + target_count, zero_division)
    nan = xp.full_like(per_class, math.nan)
    has_target = target_count > 0
    if ignore_empty_target:
        per_class = xp.where(has_target, per_class, nan)
    if average is None:
        scores = per_class
    elif average == "macro":
        scores = _nanmean(xp, per_class, axis=1)
    elif average == "weighted":
        ok = ~xp.isnan(per_class)
        zero = xp.zeros_like(per_class)
        weights = xp.where(ok, target_count, zero)
        weighted = _safe_div(
            xp, xp.sum(xp.where(ok, per_class, zero) * weights, axis=1), xp.sum(weights, axis=1)
        )
        # every weight 0: the plain mean of the defined scores, as scikit-learn does
        scores = xp.where(xp.sum(weights, axis=1) > 0, weighted, _nanmean(xp, per_class, axis=1))
    else:  # micro: one Dice of the counts summed over the (kept) classes
        keep = has_target if ignore_empty_target else xp.ones_like(has_target)
        zero = xp.zeros_like(tp)
        sum_tp = xp.sum(xp.where(keep, tp, zero), axis=1)
        den = xp.sum(xp.where(keep, pred_count + target_count, zero), axis=1)
        scores = _safe_div(xp, 2 * sum_tp, den, zero_division)
        scores = xp.where(xp.any(keep, axis=1), scores, xp.full_like(scores, math.nan))
    return as_array(xp, _nanmean(xp, scores, axis=0))


def _one_hot_counts(
    xp: Any, preds: Any, target: Any, num_classes: int | None, samples: int
) -> tuple[Any, Any, Any, Any]:
    for x, name in ((preds, "preds"), (target, "target")):
        if not xp.isdtype(x.dtype, ("bool", "integral", "real floating")):
            msg = f"one-hot `{name}` must be bool, integer or real floating, got {x.dtype}"
            raise TypeError(msg)
    if preds.ndim < 2:
        msg = f"one-hot `preds` must have shape (N, C, *spatial), got shape {preds.shape}"
        raise ValueError(msg)
    channels = preds.shape[1]
    if num_classes is not None and check_num_classes(num_classes) != channels:
        msg = (
            f"`num_classes`={num_classes} does not match the {channels} channels of "
            f"one-hot preds.shape={tuple(preds.shape)}"
        )
        raise ValueError(msg)
    _check_binary_values(xp, preds, "preds")
    _check_binary_values(xp, target, "target")
    floats = [x.dtype for x in (preds, target) if xp.isdtype(x.dtype, "real floating")]
    dtype = xp.result_type(*floats) if floats else default_float(xp, device(preds))
    p = preds if preds.dtype == xp.bool else preds != 0
    t = target if target.dtype == xp.bool else target != 0
    int_dtype = default_int(xp, device(preds))
    axes = tuple(range(2, preds.ndim)) if samples else (0, *range(2, preds.ndim))

    def count(mask: Any) -> Any:
        m = xp.astype(mask, int_dtype)
        return xp.sum(m, axis=axes, dtype=int_dtype) if axes else m

    return count(p & t), count(p), count(t), dtype


# ---------------------------------------------------------------------------- loss


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

    Parameters
    ----------
    inputs : real floating ``(N, C, *spatial)``: probabilities (``activation=None``,
        checked to lie in [0, 1] when concrete) or logits for ``"softmax"`` (over axis 1,
        needs C >= 2) / ``"sigmoid"``.
    target : one-hot masks or probabilities of the shape of ``inputs``; or integer labels
        ``(N, *spatial)`` in ``[0, C)``, one-hot encoded (with C = 1, labels 0/1 are the
        channel's target, as MONAI).
    beta : F-beta weight of recall; 1 is Dice.
    squared : k = 2 (sums of squares in the denominator) instead of k = 1.
    include_background : False drops channel 0 (needs C >= 2).
    batch : sum over the batch too, giving one score per channel.
    weight : optional ``(C',)`` weights, one per kept channel, multiplying the losses.
    reduction : ``"mean"`` / ``"sum"`` over samples and channels, or ``"none"``:
        ``(N, C')``, or ``(C',)`` with ``batch=True`` (MONAI keeps broadcastable
        singleton spatial axes instead: ``(N, C', 1, ...)``).

    With sums over the spatial axes (and the batch when ``batch=True``):

    .. math:: s_c = \frac{(1 + \beta^2) \sum p g + \text{smooth\_nr}}
              {\sum p^k + \beta^2 \sum g^k + \text{smooth\_dr}}, \qquad \ell_c = w_c (1 - s_c)

    Equals MONAI's ``DiceLoss`` for the options both have (beta = 1; ``softmax``,
    ``sigmoid``, ``to_onehot_y`` for label targets, ``squared_pred``, ``batch``,
    ``include_background``, ``weight``, ``reduction``). Differentiable in ``inputs``.

    >>> import array_api_strict as xp
    >>> p = xp.asarray([[[1.0, 0.0], [0.0, 1.0]]])  # (N=1, C=2, 2 pixels)
    >>> dice_loss(p, xp.asarray([[0, 0]]), smooth_nr=0.0, smooth_dr=0.0, reduction="none")
    Array([[0.33333333, 1.        ]], dtype=array_api_strict.float64)
    """
    xp = array_namespace(*(a for a in (inputs, target, weight) if is_array_api_obj(a)))
    check_real_floating(xp, inputs, "inputs")
    check_choice(activation, "activation", ACTIVATIONS)
    check_choice(reduction, "reduction", REDUCTIONS)
    beta = _check_real_number(beta, "beta", positive=True)
    smooth_nr = _check_real_number(smooth_nr, "smooth_nr")
    smooth_dr = _check_real_number(smooth_dr, "smooth_dr")
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
    _check_label_values(xp, target, "target", max(channels, 2))
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
