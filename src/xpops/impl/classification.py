"""Classification statistics: confusion matrix, stat scores and the precision/recall/F-beta family.

Every metric here is a function of additive per-class counts, so each one is split into
a statistics function (``confusion_matrix``, ``stat_scores``) whose results can be summed
over chunks or workers, and a function that finishes the computation from the summed
counts (``fbeta_from_stats``). ``precision_recall_fbeta`` runs both. Turning each task's
labels or scores into those counts is :mod:`xpops.impl.classification_counts`.

Values equal ``sklearn.metrics.precision_recall_fscore_support`` (argument order
``(preds, target)`` here, ``(y_true, y_pred)`` there) with ``labels=range(num_classes)``:
every class in ``[0, num_classes)`` counts, whether or not it occurs in the data.

Counts have the namespace's default integer dtype (int64; int32 for JAX without x64 and
array-api-strict's ``no_x64`` device). Scores have the float dtype of ``preds`` when it
holds floating scores, else the namespace's default float dtype.
"""

from __future__ import annotations

import math
from typing import Any

from .._lib.inputs import array_op
from .._lib.namespace import array_namespace, as_array, default_float, device
from .._lib.validation import (
    check_beta,
    check_choice,
    check_ignore_index,
    check_integer,
    check_num_classes,
    check_same_shape,
    check_zero_division,
)
from .classification_counts import (
    TASKS,
    binary_stats,
    check_label_dtype,
    confusion_counts,
    prepare_labels,
    task_stats,
)

__all__ = [
    "confusion_matrix",
    "stat_scores",
    "fbeta_from_stats",
    "precision_recall_fbeta",
    "fbeta_score",
    "f1_score",
]

AVERAGES = ("binary", "micro", "macro", "weighted", "samples", None)


# --------------------------------------------------------------- confusion matrix


@array_op("preds", "target", labels=("preds", "target"))
def confusion_matrix(
    preds: Any, target: Any, /, *, num_classes: int, ignore_index: int | None = None
) -> Any:
    """Confusion matrix of integer labels: rows are the target, columns the prediction.

    ``C[i, j] = #{n : target_n = i, preds_n = j}``, scikit-learn's orientation (its
    ``confusion_matrix(target, preds, labels=range(num_classes))``). Labels outside
    ``[0, num_classes)`` raise when values are concrete; under ``jax.jit`` and on Dask
    they cannot be checked and are dropped instead.

    Parameters
    ----------
    preds, target : array
        Integer labels of one shape (any rank), in ``[0, num_classes)``.
    num_classes : int
        The number of classes ``K``, at least 1.
    ignore_index : int or None, default None
        Positions where ``target == ignore_index`` are dropped from both sides;
        ``preds`` is not checked there.

    Returns
    -------
    array
        The ``(K, K)`` counts, in the namespace's default integer dtype.

    Raises
    ------
    TypeError
        When ``preds`` or ``target`` has no integer dtype, or ``num_classes`` or
        ``ignore_index`` is not an integer.
    ValueError
        When the shapes differ, ``num_classes < 1``, or a concrete label lies outside
        ``[0, num_classes)`` (the message names the first one).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import confusion_matrix
    >>> confusion_matrix(xp.asarray([0, 1, 1, 2]), xp.asarray([0, 1, 2, 2]), num_classes=3)
    Array([[1, 0, 0],
           [0, 1, 0],
           [0, 1, 1]], dtype=array_api_strict.int64)
    """
    xp = array_namespace(preds, target)
    num_classes = check_num_classes(num_classes)
    ignore_index = check_ignore_index(ignore_index)
    check_label_dtype(xp, preds, "preds", allow_bool=False)
    check_label_dtype(xp, target, "target", allow_bool=False)
    check_same_shape(preds, target, "preds", "target")
    return confusion_counts(xp, preds, target, num_classes, ignore_index)


# -------------------------------------------------------------------- stat scores


@array_op("preds", "target", labels=("preds", "target"))
def stat_scores(
    preds: Any,
    target: Any,
    /,
    *,
    task: str,
    num_classes: int | None = None,
    threshold: float = 0.5,
    ignore_index: int | None = None,
) -> Any:
    """Per-class counts ``(K, 4)``: columns tp, fp, fn, support (= tp + fn).

    The counts are additive: summing the results over chunks of the samples gives the
    result on all of them, which :func:`fbeta_from_stats` then finishes. Positions where
    ``target == ignore_index`` count nowhere.

    Parameters
    ----------
    preds : array
        ``task="binary"``: scores (positive when ``score >= threshold``) or 0/1 labels
        (integer or bool) of the shape of ``target``. ``"multiclass"``: integer labels of
        the shape of ``target``, or floating scores ``(*target.shape, C)`` (argmax over
        the last axis). ``"multilabel"``: scores or 0/1 labels of the shape of ``target``.
    target : array
        0/1 labels (integer or bool) for ``"binary"``; integer labels in
        ``[0, num_classes)`` for ``"multiclass"``; 0/1 labels ``(*batch, L)`` for
        ``"multilabel"``, one row of the result per label.
    task : {"binary", "multiclass", "multilabel"}
        The kind of problem.
    num_classes : int or None, default None
        ``"multiclass"``: required with label ``preds``, else None or ``C``.
        ``"multilabel"``: None or ``L``. ``"binary"``: None or 1.
    threshold : float, default 0.5
        Floating ``preds`` at or above it are positive (binary and multilabel tasks).
    ignore_index : int or None, default None
        The target value whose positions count nowhere.

    Returns
    -------
    array
        ``(K, 4)`` in the namespace's default integer dtype: ``K = 1`` (the positive
        class) for ``"binary"``, ``num_classes`` for ``"multiclass"``, ``L`` for
        ``"multilabel"``.

    Raises
    ------
    TypeError
        When a dtype does not fit the task (floating ``target``, floating multiclass
        labels) or an option has the wrong type.
    ValueError
        When the shapes do not fit the task, ``num_classes`` is missing or does not
        match, ``task`` is unknown, or a concrete label is out of range (not 0/1 for
        the binary and multilabel tasks).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import stat_scores
    >>> stat_scores(xp.asarray([0.2, 0.7, 0.9]), xp.asarray([0, 0, 1]), task="binary")
    Array([[1, 1, 0, 1]], dtype=array_api_strict.int64)
    >>> stat_scores(xp.asarray([0, 2, 1, 2]), xp.asarray([0, 1, 1, 2]), task="multiclass",
    ...             num_classes=3)
    Array([[1, 0, 0, 1],
           [1, 0, 1, 2],
           [1, 1, 0, 1]], dtype=array_api_strict.int64)
    """
    xp = array_namespace(preds, target)
    task, p, t, keep, k = prepare_labels(
        xp, preds, target, task, num_classes, threshold, ignore_index
    )
    return task_stats(xp, task, p, t, keep, k, ignore_index)


# ----------------------------------------------------------------------- F-beta


def _float_dtype(xp: Any, preds: Any) -> Any:
    if xp.isdtype(preds.dtype, "real floating"):
        return preds.dtype
    return default_float(xp, device(preds))


def _divide(xp: Any, num: Any, den: Any, zero_division: float) -> Any:
    """``num / den``, and ``zero_division`` where ``den == 0`` (scikit-learn's rule)."""
    zero = den == 0
    safe = xp.where(zero, xp.ones_like(den), den)
    return xp.where(zero, xp.full_like(num, zero_division), num / safe)


def _nanmean(xp: Any, v: Any, axis: int = -1) -> Any:
    """Mean over ``axis`` leaving NaN out; NaN when nothing is left."""
    nan = xp.isnan(v)
    total = xp.sum(xp.where(nan, xp.zeros_like(v), v), axis=axis)
    count = xp.sum(xp.astype(~nan, v.dtype), axis=axis)
    return _divide(xp, total, count, math.nan)


def _weighted(xp: Any, v: Any, w: Any) -> Any:
    """Support-weighted mean leaving NaN out; unweighted when every weight left is 0."""
    nan = xp.isnan(v)
    zero = xp.zeros_like(v)
    w = xp.where(nan, zero, w)
    total_w = xp.sum(w, axis=-1)
    positive = total_w > 0
    weighted = xp.sum(w * xp.where(nan, zero, v), axis=-1) / xp.where(
        positive, total_w, xp.ones_like(total_w)
    )
    return xp.where(positive, weighted, _nanmean(xp, v))


def _prf(xp: Any, tp: Any, fp: Any, fn: Any, beta: float, zero_division: float) -> Any:
    """Precision, recall and F-beta elementwise from float counts.

    F = (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp): 0 when tp = 0 but fp + fn > 0, and
    ``zero_division`` only when tp + fp + fn = 0.
    """
    b2 = beta * beta
    precision = _divide(xp, tp, tp + fp, zero_division)
    recall = _divide(xp, tp, tp + fn, zero_division)
    fbeta = _divide(xp, (1 + b2) * tp, b2 * (tp + fn) + (tp + fp), zero_division)
    return precision, recall, fbeta


def _fbeta(xp: Any, stats: Any, dtype: Any, beta: float, average: Any,
           zero_division: float) -> tuple[Any, Any, Any]:
    counts = xp.astype(stats, dtype)
    tp, fp, fn, support = (counts[:, i] for i in range(4))
    if average == "micro":
        tp, fp, fn = xp.sum(tp), xp.sum(fp), xp.sum(fn)
    elif average == "binary":
        tp, fp, fn = tp[0], fp[0], fn[0]
    scores = _prf(xp, tp, fp, fn, beta, zero_division)
    if average == "macro":
        scores = tuple(_nanmean(xp, s) for s in scores)
    elif average == "weighted":
        scores = tuple(_weighted(xp, s, support) for s in scores)
    return tuple(as_array(xp, s) for s in scores)


def _check_average(average: Any, num_classes: int, task: str | None) -> None:
    check_choice(average, "average", AVERAGES)
    if average == "binary" and (num_classes != 1 or task not in (None, "binary")):
        shown = f"task={task!r}" if task is not None else f"stats of {num_classes} classes"
        msg = (
            f"average='binary' needs a binary problem, got {shown}; choose `average` "
            "from 'micro', 'macro', 'weighted'"
            + (", 'samples'" if task == "multilabel" else "") + " or None"
        )
        raise ValueError(msg)


@array_op("stats", labels=("stats",))
def fbeta_from_stats(
    stats: Any, /, *, beta: float = 1.0, average: str | None = "binary",
    zero_division: float = 0.0,
) -> tuple[Any, Any, Any]:
    r"""Precision, recall and F-beta from ``stat_scores`` counts (possibly summed over chunks).

    Per class :math:`P = tp / (tp + fp)`, :math:`R = tp / (tp + fn)` and
    :math:`F_\beta = (1+\beta^2)\,tp / ((1+\beta^2)\,tp + \beta^2 fn + fp)`; a zero
    denominator gives ``zero_division`` (so F is 0 when tp = 0 but fp + fn > 0).

    Parameters
    ----------
    stats : array
        Integer ``(K, 4)`` counts tp, fp, fn, support, as :func:`stat_scores` returns
        them (or their sum over chunks of the data).
    beta : float, default 1.0
        The weight of recall, finite and > 0.
    average : {"binary", "micro", "macro", "weighted", None}, default "binary"
        ``"binary"`` (``K`` must be 1), ``"micro"`` (counts summed over classes first),
        ``"macro"`` (mean over classes, NaN left out), ``"weighted"`` (by support, NaN
        left out; unweighted when every support is 0) or None (per class).
        ``"samples"`` needs per-sample counts: use :func:`precision_recall_fbeta`.
    zero_division : {0.0, 1.0, nan}, default 0.0
        The score where a denominator is 0.

    Returns
    -------
    tuple of array
        ``(precision, recall, fbeta)``: 0-d arrays, or ``(K,)`` for ``average=None``, of
        the namespace's default float dtype.

    Raises
    ------
    TypeError
        When ``stats`` has no integer dtype, or ``beta`` or ``zero_division`` is not a
        real number.
    ValueError
        When ``stats`` is not ``(K, 4)`` with ``K >= 1``, ``average`` is unknown,
        ``"samples"``, or ``"binary"`` with ``K != 1``, ``beta`` is not finite and > 0,
        or ``zero_division`` is not 0, 1 or nan.

    Examples
    --------
    Class 0 has tp=2, fp=1, fn=0; class 1 has only a miss (fn=1):

    >>> import array_api_strict as xp
    >>> from xpops import fbeta_from_stats
    >>> stats = xp.asarray([[2, 1, 0, 2], [0, 0, 1, 1]])
    >>> precision, recall, fbeta = fbeta_from_stats(stats, average=None)
    >>> precision
    Array([0.66666667, 0.        ], dtype=array_api_strict.float64)
    >>> fbeta
    Array([0.8, 0. ], dtype=array_api_strict.float64)
    >>> fbeta_from_stats(stats, average="macro")[2]
    Array(0.4, dtype=array_api_strict.float64)
    """
    xp = array_namespace(stats)
    beta = check_beta(beta)
    zero_division = check_zero_division(zero_division)
    check_choice(average, "average", AVERAGES)
    if average == "samples":
        msg = (
            "average='samples' is not derivable from global statistics (it needs "
            "per-sample counts); use precision_recall_fbeta(..., average='samples')"
        )
        raise ValueError(msg)
    check_integer(xp, stats, "stats")
    if stats.ndim != 2 or stats.shape[1] != 4 or stats.shape[0] < 1:
        msg = (
            "`stats` must have shape (num_classes, 4) with columns tp, fp, fn, support; "
            f"got stats.shape={tuple(stats.shape)}"
        )
        raise ValueError(msg)
    _check_average(average, stats.shape[0], None)
    return _fbeta(xp, stats, default_float(xp, device(stats)), beta, average, zero_division)


def _samples_prf(xp: Any, p: Any, t: Any, keep: Any, dtype: Any, beta: float,
                 zero_division: float) -> tuple[Any, Any, Any]:
    """'samples' average: scores per sample over its labels, then the NaN-free mean."""
    rows = xp.reshape(p, (-1, p.shape[-1])), xp.reshape(t, (-1, t.shape[-1]))
    k = None if keep is None else xp.reshape(keep, (-1, keep.shape[-1]))
    counts = xp.astype(binary_stats(rows[0], rows[1], k, xp, -1), dtype)
    scores = _prf(xp, counts[:, 0], counts[:, 1], counts[:, 2], beta, zero_division)
    return tuple(as_array(xp, _nanmean(xp, s)) for s in scores)


@array_op("preds", "target", labels=("preds", "target"))
def precision_recall_fbeta(
    preds: Any,
    target: Any,
    /,
    *,
    beta: float = 1.0,
    task: str = "binary",
    num_classes: int | None = None,
    threshold: float = 0.5,
    average: str | None = "binary",
    zero_division: float = 0.0,
    ignore_index: int | None = None,
) -> tuple[Any, Any, Any]:
    """Precision, recall and F-beta as ``sklearn.metrics.precision_recall_fscore_support``.

    :func:`stat_scores` then :func:`fbeta_from_stats`, plus the ``"samples"`` average.
    Every class in ``[0, num_classes)`` counts (scikit-learn with
    ``labels=range(num_classes)``). For ``task="binary"`` the statistics describe the
    positive class only, so ``"micro"``/``"macro"``/``"weighted"`` equal ``"binary"``;
    scikit-learn's macro over both labels of a binary problem is
    ``task="multiclass", num_classes=2``.

    Parameters
    ----------
    preds, target : array
        Scores or labels and target labels, as in :func:`stat_scores`.
    beta : float, default 1.0
        The weight of recall, finite and > 0.
    task : {"binary", "multiclass", "multilabel"}, default "binary"
        The kind of problem, as in :func:`stat_scores`.
    num_classes : int or None, default None
        As in :func:`stat_scores`: required for multiclass label ``preds``.
    threshold : float, default 0.5
        Floating ``preds`` at or above it are positive (binary and multilabel tasks).
    average : {"binary", "micro", "macro", "weighted", "samples", None}, default "binary"
        As in :func:`fbeta_from_stats`; ``"binary"`` raises for the multiclass and
        multilabel tasks, ``"samples"`` (multilabel only) scores each sample over its
        labels, then takes the mean over samples, NaN left out.
    zero_division : {0.0, 1.0, nan}, default 0.0
        The score where a denominator is 0.
    ignore_index : int or None, default None
        The target value whose positions count nowhere.

    Returns
    -------
    tuple of array
        ``(precision, recall, fbeta)``: 0-d arrays, or per-class ``(K,)`` arrays for
        ``average=None``, of the float dtype of floating ``preds``, else the namespace's
        default float dtype.

    Raises
    ------
    TypeError
        As :func:`stat_scores`, or when ``beta`` or ``zero_division`` is not a real
        number.
    ValueError
        As :func:`stat_scores`, or for an unknown ``average``, ``"binary"`` beside a
        multiclass or multilabel task, ``"samples"`` beside a task other than
        multilabel, ``beta`` not finite and > 0, ``zero_division`` not 0, 1 or nan.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import precision_recall_fbeta
    >>> p, r, f = precision_recall_fbeta(xp.asarray([1, 1, 0, 1]), xp.asarray([1, 0, 0, 1]))
    >>> float(p), float(r), float(f)
    (0.6666666666666666, 1.0, 0.8)
    """
    xp = array_namespace(preds, target)
    check_choice(task, "task", TASKS)
    check_choice(average, "average", AVERAGES)
    beta = check_beta(beta)
    zero_division = check_zero_division(zero_division)
    if average == "samples" and task != "multilabel":
        msg = f"average='samples' applies to task='multilabel' only, got task={task!r}"
        raise ValueError(msg)
    _check_average(average, 1 if task == "binary" else 0, task)
    dtype = _float_dtype(xp, preds)
    task, p, t, keep, k = prepare_labels(
        xp, preds, target, task, num_classes, threshold, ignore_index
    )
    if average == "samples":
        return _samples_prf(xp, p, t, keep, dtype, beta, zero_division)
    stats = task_stats(xp, task, p, t, keep, k, ignore_index)
    return _fbeta(xp, stats, dtype, beta, average, zero_division)


@array_op("preds", "target", labels=("preds", "target"))
def fbeta_score(
    preds: Any,
    target: Any,
    /,
    *,
    beta: float = 1.0,
    task: str = "binary",
    num_classes: int | None = None,
    threshold: float = 0.5,
    average: str | None = "binary",
    zero_division: float = 0.0,
    ignore_index: int | None = None,
) -> Any:
    """F-beta alone: the third result of :func:`precision_recall_fbeta`.

    As ``sklearn.metrics.fbeta_score`` with ``labels=range(num_classes)``.

    Parameters
    ----------
    preds, target : array
        Scores or labels and target labels, as in :func:`stat_scores`.
    beta : float, default 1.0
        The weight of recall, finite and > 0.
    task : {"binary", "multiclass", "multilabel"}, default "binary"
        The kind of problem, as in :func:`stat_scores`.
    num_classes : int or None, default None
        As in :func:`stat_scores`: required for multiclass label ``preds``.
    threshold : float, default 0.5
        Floating ``preds`` at or above it are positive (binary and multilabel tasks).
    average : {"binary", "micro", "macro", "weighted", "samples", None}, default "binary"
        As in :func:`fbeta_from_stats`; ``"binary"`` raises for the multiclass and
        multilabel tasks, ``"samples"`` (multilabel only) scores each sample over its
        labels, then takes the mean over samples, NaN left out.
    zero_division : {0.0, 1.0, nan}, default 0.0
        The score where a denominator is 0.
    ignore_index : int or None, default None
        The target value whose positions count nowhere.

    Returns
    -------
    array
        0-d, or ``(K,)`` for ``average=None``; dtype as :func:`precision_recall_fbeta`.

    Raises
    ------
    TypeError, ValueError
        As :func:`precision_recall_fbeta`.

    Examples
    --------
    Precision 2/3 and recall 1 give F2 = 5 * 2 / (5 * 2 + 4 * 0 + 1) = 10/11:

    >>> import array_api_strict as xp
    >>> from xpops import fbeta_score
    >>> fbeta_score(xp.asarray([1, 1, 0, 1]), xp.asarray([1, 0, 0, 1]), beta=2.0)
    Array(0.90909091, dtype=array_api_strict.float64)
    """
    return precision_recall_fbeta(
        preds, target, beta=beta, task=task, num_classes=num_classes, threshold=threshold,
        average=average, zero_division=zero_division, ignore_index=ignore_index,
    )[2]


@array_op("preds", "target", labels=("preds", "target"))
def f1_score(
    preds: Any,
    target: Any,
    /,
    *,
    task: str = "binary",
    num_classes: int | None = None,
    threshold: float = 0.5,
    average: str | None = "binary",
    zero_division: float = 0.0,
    ignore_index: int | None = None,
) -> Any:
    """F1 (``beta=1``): the harmonic mean of precision and recall, as ``sklearn.metrics.f1_score``.

    Parameters
    ----------
    preds, target : array
        Scores or labels and target labels, as in :func:`stat_scores`.
    task : {"binary", "multiclass", "multilabel"}, default "binary"
        The kind of problem, as in :func:`stat_scores`.
    num_classes : int or None, default None
        As in :func:`stat_scores`: required for multiclass label ``preds``.
    threshold : float, default 0.5
        Floating ``preds`` at or above it are positive (binary and multilabel tasks).
    average : {"binary", "micro", "macro", "weighted", "samples", None}, default "binary"
        As in :func:`fbeta_from_stats`; ``"binary"`` raises for the multiclass and
        multilabel tasks, ``"samples"`` (multilabel only) scores each sample over its
        labels, then takes the mean over samples, NaN left out.
    zero_division : {0.0, 1.0, nan}, default 0.0
        The score where a denominator is 0.
    ignore_index : int or None, default None
        The target value whose positions count nowhere.

    Returns
    -------
    array
        0-d, or ``(K,)`` for ``average=None``; dtype as :func:`precision_recall_fbeta`.

    Raises
    ------
    TypeError, ValueError
        As :func:`precision_recall_fbeta`.

    Examples
    --------
    Per class F1 is 1, 2/3 and 2/3, so the macro average is 7/9:

    >>> import array_api_strict as xp
    >>> from xpops import f1_score
    >>> f1_score(xp.asarray([0, 2, 1, 2]), xp.asarray([0, 1, 1, 2]), task="multiclass",
    ...          num_classes=3, average="macro")
    Array(0.77777778, dtype=array_api_strict.float64)
    """
    return precision_recall_fbeta(
        preds, target, beta=1.0, task=task, num_classes=num_classes, threshold=threshold,
        average=average, zero_division=zero_division, ignore_index=ignore_index,
    )[2]
