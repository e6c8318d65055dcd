"""Segmentation metrics: IoU and Dice of label maps or one-hot masks.

Every metric here is a function of additive per-class counts: ``intersection_and_union``
and a confusion matrix are the statistics, ``mean_iou_from_confusion`` and
``dice_from_confusion`` finish the computation, so a data set can be evaluated in
chunks (or across workers) by summing the statistics.

Counting goes through :func:`xpops._lib.counting.bincount`. What must not be counted
(positions whose target is ``ignore_index``) is mapped to one extra bin that is cut off
afterwards, instead of boolean indexing, so the output shapes stay static and the
metrics stay jit-able. The soft Dice loss, which compares probabilities instead of
counting labels, is :mod:`xpops.impl.segmentation_loss`.
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
    is_concrete,
)
from .._lib.validation import (
    check_binary_values,
    check_choice,
    check_ignore_index,
    check_integer,
    check_label_range,
    check_num_classes,
    check_same_shape,
    check_zero_division,
    concrete_true,
    size,
)

__all__ = [
    "MeanIoU",
    "intersection_and_union",
    "mean_iou",
    "mean_iou_from_confusion",
    "dice_from_confusion",
    "dice_score",
]

AVERAGES = ("macro", "micro", "weighted", None)
AGGREGATIONS = ("global", "samplewise")
INPUT_FORMATS = ("index", "one-hot")


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

    Positions where ``target == ignore_index`` are dropped from both sides; a prediction
    equal to an out-of-range ``ignore_index`` at a counted position counts for the
    target only. This is mmsegmentation's ``intersect_and_union`` (``ignore_index=255``
    on VOC masks). :math:`I_c = \#\{p = t = c\}`, :math:`P_c = \#\{p = c\}`,
    :math:`T_c = \#\{t = c\}`, :math:`U_c = P_c + T_c - I_c`. The counts are additive:
    summing them over chunks of a data set gives the counts of the whole.

    Parameters
    ----------
    preds, target : array
        Integer label maps of one shape (any rank), labels in ``[0, num_classes)`` or
        equal to ``ignore_index``.
    num_classes : int
        The number of classes ``K``, at least 1.
    ignore_index : int or None, default None
        The target value whose positions are not counted (255 on VOC).

    Returns
    -------
    tuple of array
        ``(I, U, P, T)``, each of shape ``(K,)`` in the namespace's default integer
        dtype.

    Raises
    ------
    TypeError
        When ``preds`` or ``target`` has no integer dtype, or ``num_classes`` or
        ``ignore_index`` is not an integer.
    ValueError
        When the shapes differ, ``num_classes < 1``, or a concrete label lies outside
        ``[0, num_classes)`` and is not ``ignore_index`` (the message names the first).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import intersection_and_union
    >>> i, u, p, t = intersection_and_union(
    ...     xp.asarray([0, 1, 1, 2]), xp.asarray([0, 1, 2, 255]), num_classes=3,
    ...     ignore_index=255)
    >>> i
    Array([1, 1, 0], dtype=array_api_strict.int64)
    >>> u
    Array([1, 2, 1], dtype=array_api_strict.int64)
    """
    xp = array_namespace(preds, target)
    num_classes = check_num_classes(num_classes)
    check_ignore_index(ignore_index)
    check_integer(xp, preds, "preds")
    check_integer(xp, target, "target")
    check_same_shape(preds, target, "preds", "target")
    check_label_range(xp, target, "target", num_classes, ignore_index=ignore_index)
    check_label_range(xp, preds, "preds", num_classes, ignore_index=ignore_index)
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
    nothing is counted). Equals mmsegmentation's ``mean_iou`` (IoU, aAcc) and, per
    class, scikit-learn's ``jaccard_score(average=None)`` over the non-ignored positions.

    Parameters
    ----------
    preds, target : array
        Integer label maps of one shape (any rank), as in
        :func:`intersection_and_union`.
    num_classes : int
        The number of classes ``K``, at least 1.
    ignore_index : int or None, default None
        The target value whose positions are not counted.

    Returns
    -------
    MeanIoU
        ``per_class_iou`` ``(K,)``, ``miou`` and ``pixel_accuracy`` (0-d), in the
        namespace's default float dtype on the input device.

    Raises
    ------
    TypeError, ValueError
        As :func:`intersection_and_union`.

    Examples
    --------
    Class 3 occurs nowhere, so its IoU is NaN and the mean is over the other three:

    >>> import array_api_strict as xp
    >>> from xpops import mean_iou
    >>> r = mean_iou(xp.asarray([0, 1, 1, 2]), xp.asarray([0, 1, 2, 2]), num_classes=4)
    >>> r.per_class_iou
    Array([1. , 0.5, 0.5, nan], dtype=array_api_strict.float64)
    >>> r.miou
    Array(0.66666667, dtype=array_api_strict.float64)
    >>> r.pixel_accuracy
    Array(0.75, dtype=array_api_strict.float64)
    """
    xp = array_namespace(preds, target)
    inter, _, area_pred, area_target = intersection_and_union(
        preds, target, num_classes=num_classes, ignore_index=ignore_index
    )
    return _iou_result(xp, inter, area_pred, area_target, default_float(xp, device(inter)))


@array_op("cm", labels=("cm",))
def mean_iou_from_confusion(cm: Any, /) -> MeanIoU:
    r""":func:`mean_iou` from a ``(K, K)`` confusion matrix (rows = target, columns = pred).

    :math:`I_c = cm_{cc}`, :math:`T_c = \sum_j cm_{cj}`, :math:`P_c = \sum_i cm_{ic}`;
    a confusion matrix summed over chunks of a data set gives the result on the whole.

    Parameters
    ----------
    cm : array
        Non-negative ``(K, K)`` counts, integer or real floating, as
        :func:`xpops.confusion_matrix` returns them.

    Returns
    -------
    MeanIoU
        As :func:`mean_iou`. A floating ``cm`` keeps its dtype; an integer one gives the
        namespace's default float dtype.

    Raises
    ------
    TypeError
        When ``cm`` is neither integer nor real floating.
    ValueError
        When ``cm`` is not square, or holds negative counts (when concrete).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import mean_iou_from_confusion
    >>> r = mean_iou_from_confusion(xp.asarray([[2, 1], [0, 1]]))
    >>> r.per_class_iou
    Array([0.66666667, 0.5       ], dtype=array_api_strict.float64)
    >>> r.pixel_accuracy
    Array(0.75, dtype=array_api_strict.float64)
    """
    xp = array_namespace(cm)
    _check_confusion(xp, cm)
    return _iou_result(
        xp, _diagonal(xp, cm), _sum(xp, cm, axis=0), _sum(xp, cm, axis=1), _float_of(xp, cm)
    )


@array_op("cm", labels=("cm",))
def dice_from_confusion(cm: Any, /, *, zero_division: float = math.nan) -> Any:
    r"""Per-class Dice :math:`2\,cm_{cc} / (T_c + P_c)` from a ``(K, K)`` confusion matrix.

    Rows are targets and columns predictions: :math:`T_c = \sum_j cm_{cj}`,
    :math:`P_c = \sum_i cm_{ic}`.

    Parameters
    ----------
    cm : array
        Non-negative ``(K, K)`` counts, integer or real floating.
    zero_division : {nan, 0.0, 1.0}, default nan
        The score of a class absent from both (:math:`T_c + P_c = 0`).

    Returns
    -------
    array
        ``(K,)``; dtype as :func:`mean_iou_from_confusion`.

    Raises
    ------
    TypeError
        When ``cm`` is neither integer nor real floating, or ``zero_division`` is not a
        number.
    ValueError
        When ``cm`` is not square or holds negative counts (when concrete), or
        ``zero_division`` is not 0, 1 or nan.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import dice_from_confusion
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

    Per class :math:`D_c = 2 TP_c / (2 TP_c + FP_c + FN_c)`. NaN entries are left out of
    every mean (classes, then samples); a mean over nothing is NaN. MONAI
    ``DiceMetric(ignore_empty=False)`` is ``zero_division=1.0``; its
    ``reduction="mean"`` is ``aggregation="samplewise", average="macro"`` and
    ``"mean_batch"`` is ``aggregation="samplewise", average=None`` (except that MONAI
    returns 0 where everything is NaN).

    Parameters
    ----------
    preds, target : array
        ``input_format="index"``: integer labels ``(N, *spatial)`` in
        ``[0, num_classes)``; ``"one-hot"``: 0/1 masks ``(N, C, *spatial)`` (bool,
        integer or floating; channels may overlap). Axis 0 is the batch.
    num_classes : int or None, default None
        Required for index inputs; for one-hot inputs None or ``C``.
    input_format : {"index", "one-hot"}, default "index"
        How ``preds`` and ``target`` hold the classes.
    include_background : bool, default True
        False drops class (channel) 0.
    average : {"macro", "micro", "weighted", None}, default "macro"
        ``"macro"`` (mean over classes), ``"micro"`` (Dice of the counts summed over
        classes), ``"weighted"`` (mean weighted by target support; unweighted when every
        support is 0, as scikit-learn) or None (per class).
    aggregation : {"global", "samplewise"}, default "global"
        ``"global"`` counts over the whole batch; ``"samplewise"`` scores each sample,
        then averages over samples.
    zero_division : {nan, 0.0, 1.0}, default nan
        The score of a class absent from both prediction and target.
    ignore_empty_target : bool, default False
        True gives NaN to every class whose target is empty, whatever was predicted
        (MONAI ``DiceMetric(ignore_empty=True)``).

    Returns
    -------
    array
        0-d, or ``(C',)`` (the kept classes) for ``average=None``; the float dtype of
        floating one-hot inputs, else the namespace's default float dtype.

    Raises
    ------
    TypeError
        When a dtype does not fit ``input_format``, or an option has the wrong type.
    ValueError
        When the shapes differ or lack the batch (and channel) axis, an option is
        unknown, ``num_classes`` is missing or does not match the channels,
        ``include_background=False`` leaves no class, or concrete labels are out of
        range (one-hot values other than 0 and 1).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import dice_score
    >>> dice_score(xp.asarray([[0, 1, 1, 2]]), xp.asarray([[0, 1, 2, 2]]), num_classes=4,
    ...            average=None)
    Array([1. , 0.66666667, 0.66666667, nan], dtype=array_api_strict.float64)
    >>> dice_score(xp.asarray([[0, 1, 1, 2]]), xp.asarray([[0, 1, 2, 2]]), num_classes=3)
    Array(0.77777778, dtype=array_api_strict.float64)
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
        check_label_range(xp, target, "target", num_classes)
        check_label_range(xp, preds, "preds", num_classes)
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
    check_binary_values(xp, preds, "preds")
    check_binary_values(xp, target, "target")
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
