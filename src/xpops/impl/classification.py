"""Classification statistics: confusion matrix, stat scores and the precision/recall/F-beta family.

Every metric here is a function of additive per-class counts, so each one is split into
a statistics function (``confusion_matrix``, ``stat_scores``) whose results can be summed
over chunks or workers, and a function that finishes the computation from the summed
counts (``fbeta_from_stats``). ``precision_recall_fbeta`` runs both.

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

from .._lib.counting import bincount
from .._lib.inputs import array_op
from .._lib.namespace import (
    array_namespace,
    as_array,
    as_default_int,
    default_float,
    default_int,
    device,
    is_concrete,
    values_readable,
)
from .._lib.primitives import argmax_last
from .._lib.validation import (
    check_choice,
    check_ignore_index,
    check_integer,
    check_num_classes,
    check_same_shape,
    check_zero_division,
    concrete_true,
    size,
)

__all__ = [
    "confusion_matrix",
    "stat_scores",
    "fbeta_from_stats",
    "precision_recall_fbeta",
    "fbeta_score",
    "f1_score",
]

TASKS = ("binary", "multiclass", "multilabel")
AVERAGES = ("binary", "micro", "macro", "weighted", "samples", None)


# ------------------------------------------------------------------- validation


def _check_labels(xp: Any, x: Any, name: str, high: int, keep: Any, ignore_index: Any) -> None:
    """Raise when concrete labels at kept positions lie outside ``[0, high)``."""
    if not is_concrete(x) or size(x) == 0:
        return
    if keep is None:
        low, top = xp.min(x), xp.max(x)
        if not (is_concrete(low) and is_concrete(top)):
            return  # under jit, even for a concrete x closed over
        if 0 <= int(low) and int(top) < high:
            return  # two reductions, no full-size temporaries: the common, valid case
    bad = (x < 0) | (x >= high)
    if keep is not None:
        bad = bad & keep
    if concrete_true(xp.any(bad)):
        # the extremes of the bad values: others are replaced by a value inside them
        low = int(xp.min(xp.where(bad, x, xp.full_like(x, int(xp.max(x))))))
        top = int(xp.max(xp.where(bad, x, xp.full_like(x, low))))
        msg = (
            f"`{name}` holds labels outside [0, {high}): found values in [{low}, {top}]"
            + ("" if ignore_index is None else f" (ignore_index={ignore_index})")
        )
        raise ValueError(msg)


def _check_beta(beta: Any) -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float)):
        msg = f"`beta` must be a real number, got {beta!r}"
        raise TypeError(msg)
    if not (math.isfinite(beta) and beta > 0):
        msg = f"`beta` must be a finite number > 0, got {beta!r}"
        raise ValueError(msg)
    return float(beta)


def _check_threshold(threshold: Any) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        msg = f"`threshold` must be a real number, got {threshold!r}"
        raise TypeError(msg)
    return float(threshold)


def _check_label_dtype(xp: Any, x: Any, name: str, *, allow_bool: bool) -> None:
    kinds = ("integral", "bool") if allow_bool else "integral"
    if not xp.isdtype(x.dtype, kinds):
        what = "an integer or bool" if allow_bool else "an integer"
        msg = f"`{name}` must hold labels of {what} dtype, got {x.dtype}"
        raise TypeError(msg)


# --------------------------------------------------------------- confusion matrix


def _confusion(xp: Any, preds: Any, target: Any, num_classes: int, keep: Any) -> Any:
    """Counts of (target, pred) pairs; positions where ``keep`` is False are dropped.

    Dropped positions go to an extra bin ``K * K`` that is cut off afterwards, so no
    boolean indexing is needed and the shape stays static (jit-able).
    """
    k = num_classes
    index = target * k + preds
    length = k * k
    if keep is not None:
        index = xp.where(keep, index, xp.full_like(index, length))
        length += 1
    if size(index) == 0:  # Dask cannot flatten an empty (0, n) array
        return xp.zeros((k, k), dtype=default_int(xp, device(index)), device=device(index))
    counts = bincount(xp, index, length=length)
    return xp.reshape(counts[: k * k], (k, k))


def _in_range(x: Any, k: int) -> Any:
    return (x >= 0) & (x < k)


def _keep_mask(xp: Any, preds: Any, target: Any, k: int, ignore_index: Any) -> Any:
    """Positions that count: target not ignored, and (when values cannot be checked,
    under jit or on Dask) both labels in range, so that invalid labels are dropped
    rather than counted in a wrong bin."""
    keep = None if ignore_index is None else target != ignore_index
    if not (values_readable(xp, preds) and values_readable(xp, target)):
        in_range = _in_range(preds, k) & _in_range(target, k)
        keep = in_range if keep is None else keep & in_range
    return keep


@array_op("preds", "target", labels=("preds", "target"))
def confusion_matrix(
    preds: Any, target: Any, /, *, num_classes: int, ignore_index: int | None = None
) -> Any:
    """Confusion matrix of integer labels: rows are the target, columns the prediction.

    Parameters
    ----------
    preds, target : integer arrays of one shape (any rank), labels in ``[0, num_classes)``.
    num_classes : the number of classes ``K``.
    ignore_index : positions where ``target == ignore_index`` are dropped from both
        sides; ``preds`` is not checked there.

    Returns the ``(K, K)`` counts ``C[i, j] = #{n : target_n = i, preds_n = j}`` in the
    namespace's default integer dtype (scikit-learn's orientation). Labels outside the
    range raise ValueError when values are concrete; under ``jax.jit`` and on Dask they
    cannot be checked and are dropped instead.

    >>> import array_api_strict as xp
    >>> confusion_matrix(xp.asarray([0, 1, 1, 2]), xp.asarray([0, 1, 2, 2]), num_classes=3)
    Array([[1, 0, 0],
           [0, 1, 0],
           [0, 1, 1]], dtype=array_api_strict.int64)
    """
    xp = array_namespace(preds, target)
    num_classes = check_num_classes(num_classes)
    check_ignore_index(ignore_index)
    _check_label_dtype(xp, preds, "preds", allow_bool=False)
    _check_label_dtype(xp, target, "target", allow_bool=False)
    check_same_shape(preds, target, "preds", "target")
    preds, target = as_default_int(xp, preds), as_default_int(xp, target)
    keep = None if ignore_index is None else target != ignore_index
    _check_labels(xp, target, "target", num_classes, keep, ignore_index)
    _check_labels(xp, preds, "preds", num_classes, keep, None)
    keep = _keep_mask(xp, preds, target, num_classes, ignore_index)
    return _confusion(xp, preds, target, num_classes, keep)


# -------------------------------------------------------------------- stat scores


def _float_dtype(xp: Any, preds: Any) -> Any:
    if xp.isdtype(preds.dtype, "real floating"):
        return preds.dtype
    return default_float(xp, device(preds))


def _count(xp: Any, mask: Any, axis: Any = None) -> Any:
    """Number of True entries, in the default integer dtype."""
    int_dtype = default_int(xp, device(mask))
    return xp.sum(xp.astype(mask, int_dtype), axis=axis, dtype=int_dtype)


def _binary_labels(
    xp: Any, preds: Any, target: Any, threshold: float, ignore_index: Any, task: str
) -> tuple[Any, Any, Any]:
    """(predicted positive, target positive, keep) as booleans, for binary and multilabel."""
    check_same_shape(preds, target, "preds", "target")
    _check_label_dtype(xp, target, "target", allow_bool=True)
    if xp.isdtype(target.dtype, "integral"):
        target = as_default_int(xp, target)
    if xp.isdtype(preds.dtype, "integral"):
        preds = as_default_int(xp, preds)
    keep = None if ignore_index is None else target != ignore_index
    if xp.isdtype(target.dtype, "integral"):
        _check_binary_values(xp, target, "target", keep, ignore_index, task)
        t = target == 1
    else:
        t = target
    if xp.isdtype(preds.dtype, "real floating"):
        p = preds >= threshold
    elif xp.isdtype(preds.dtype, "integral"):
        _check_binary_values(xp, preds, "preds", keep, None, task)
        p = preds == 1
    elif xp.isdtype(preds.dtype, "bool"):
        p = preds
    else:
        msg = f"`preds` must hold real scores or 0/1 labels, got dtype {preds.dtype}"
        raise TypeError(msg)
    return p, t, keep


def _check_binary_values(
    xp: Any, x: Any, name: str, keep: Any, ignore_index: Any, task: str
) -> None:
    if not is_concrete(x) or size(x) == 0:
        return
    bad = (x != 0) & (x != 1)
    if keep is not None:
        bad = bad & keep
    if concrete_true(xp.any(bad)):
        msg = (
            f"`{name}` must hold 0/1 labels for task={task!r}; found "
            f"{int(_count(xp, bad))} other value(s), e.g. "
            f"{int(xp.max(xp.where(bad, x, xp.zeros_like(x) + int(xp.min(x)))))}"
            + ("" if ignore_index is None else f" (ignore_index={ignore_index})")
        )
        raise ValueError(msg)


def _multiclass_labels(
    xp: Any, preds: Any, target: Any, num_classes: Any, ignore_index: Any
) -> tuple[Any, Any, int]:
    """(predicted labels, target, K): argmax over the last axis of floating scores."""
    _check_label_dtype(xp, target, "target", allow_bool=False)
    if xp.isdtype(preds.dtype, "real floating") and preds.ndim == target.ndim + 1:
        if tuple(preds.shape[:-1]) != tuple(target.shape):
            msg = (
                "multiclass scores `preds` must have shape target.shape + (C,); got "
                f"preds.shape={tuple(preds.shape)} and target.shape={tuple(target.shape)}"
            )
            raise ValueError(msg)
        c = preds.shape[-1]
        if num_classes is None:
            num_classes = c
        if check_num_classes(num_classes) != c:
            msg = (
                f"`num_classes`={num_classes} does not match the {c} score columns of "
                f"preds.shape={tuple(preds.shape)}"
            )
            raise ValueError(msg)
        return argmax_last(xp, preds), target, num_classes
    _check_label_dtype(xp, preds, "preds", allow_bool=False)
    check_same_shape(preds, target, "preds", "target")
    if num_classes is None:
        msg = "`num_classes` is required for multiclass label `preds`, got None"
        raise ValueError(msg)
    num_classes = check_num_classes(num_classes)
    return preds, target, num_classes


def _multiclass_stats(
    xp: Any, preds: Any, target: Any, num_classes: int, ignore_index: Any
) -> Any:
    preds, target = as_default_int(xp, preds), as_default_int(xp, target)
    keep = None if ignore_index is None else target != ignore_index
    _check_labels(xp, target, "target", num_classes, keep, ignore_index)
    _check_labels(xp, preds, "preds", num_classes, keep, None)
    keep = _keep_mask(xp, preds, target, num_classes, ignore_index)
    cm = _confusion(xp, preds, target, num_classes, keep)
    diagonal = xp.arange(num_classes, dtype=cm.dtype, device=device(cm)) * (num_classes + 1)
    tp = xp.take(xp.reshape(cm, (-1,)), diagonal)
    # dtype=: sum promotes to the default integer, which some devices lack
    support = xp.sum(cm, axis=1, dtype=cm.dtype)
    predicted = xp.sum(cm, axis=0, dtype=cm.dtype)
    return xp.stack([tp, predicted - tp, support - tp, support], axis=1)


def _binary_stats(p: Any, t: Any, keep: Any, xp: Any, axis: Any) -> Any:
    """tp, fp, fn, support summed over ``axis``, stacked on a new last axis."""
    if keep is not None:
        p, t = p & keep, t & keep
    tp = _count(xp, p & t, axis)
    fp = _count(xp, p & ~t, axis)
    fn = _count(xp, ~p & t, axis)
    return xp.stack([tp, fp, fn, tp + fn], axis=-1)


def _prepare(
    xp: Any, preds: Any, target: Any, task: str, num_classes: Any, threshold: float,
    ignore_index: Any,
) -> tuple[str, Any, Any, Any, Any]:
    """Validated (task, p, t, keep, num_classes) with binary/multilabel as booleans."""
    check_choice(task, "task", TASKS)
    check_ignore_index(ignore_index)
    threshold = _check_threshold(threshold)
    if task == "multiclass":
        p, t, k = _multiclass_labels(xp, preds, target, num_classes, ignore_index)
        return task, p, t, None, k
    if task == "multilabel":
        if target.ndim < 2:
            msg = (
                "multilabel `target` must have shape (*batch, num_labels) with a batch "
                f"axis, got target.shape={tuple(target.shape)}"
            )
            raise ValueError(msg)
        labels = target.shape[-1]
        if num_classes is not None and check_num_classes(num_classes) != labels:
            msg = (
                f"`num_classes`={num_classes} (the number of labels) does not match "
                f"target.shape[-1]={labels}"
            )
            raise ValueError(msg)
        num_classes = labels
    elif num_classes not in (None, 1):
        msg = f"`num_classes` must be None (or 1) for task='binary', got {num_classes!r}"
        raise ValueError(msg)
    p, t, keep = _binary_labels(xp, preds, target, threshold, ignore_index, task)
    return task, p, t, keep, num_classes


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

    ``task="binary"``: ``preds`` scores (positive when ``score >= threshold``) or 0/1
    labels, ``target`` 0/1 labels of the same shape; result ``(1, 4)`` for the positive
    class. ``"multiclass"``: integer labels of one shape, or floating scores with one
    more axis (``(*batch, C)``, argmax over the last axis); ``num_classes`` is required
    for labels. ``"multilabel"``: ``(*batch, L)`` scores or 0/1 labels, one row per label.
    Positions where ``target == ignore_index`` count nowhere. The counts are additive:
    summing the results over chunks of the samples gives the result on all of them.

    >>> import array_api_strict as xp
    >>> stat_scores(xp.asarray([0.2, 0.7, 0.9]), xp.asarray([0, 0, 1]), task="binary")
    Array([[1, 1, 0, 1]], dtype=array_api_strict.int64)
    """
    xp = array_namespace(preds, target)
    task, p, t, keep, k = _prepare(xp, preds, target, task, num_classes, threshold,
                                   ignore_index)
    if task == "multiclass":
        return _multiclass_stats(xp, p, t, k, ignore_index)
    if task == "multilabel":
        axes = tuple(range(p.ndim - 1))
        return _binary_stats(p, t, keep, xp, axes)
    return xp.reshape(_binary_stats(p, t, keep, xp, None), (1, 4))


# ----------------------------------------------------------------------- F-beta


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

    ``stats`` is an integer ``(K, 4)`` array of tp, fp, fn, support. Per class
    :math:`P = tp / (tp + fp)`, :math:`R = tp / (tp + fn)` and
    :math:`F_\beta = (1+\beta^2)\,tp / ((1+\beta^2)\,tp + \beta^2 fn + fp)`; a zero
    denominator gives ``zero_division`` (so F is 0 when tp = 0 but fp + fn > 0).
    ``average``: ``"binary"`` (``K`` must be 1), ``"micro"`` (counts summed first),
    ``"macro"`` (mean over classes, NaN left out), ``"weighted"`` (by support, NaN left
    out; unweighted when every support is 0), ``None`` (per class). ``"samples"`` needs
    per-sample counts and raises ValueError: use ``precision_recall_fbeta``. Results are
    0-d arrays (``(K,)`` for ``None``) of the default float dtype.

    >>> import array_api_strict as xp
    >>> fbeta_from_stats(xp.asarray([[2, 1, 0, 2], [0, 0, 1, 1]]), average="macro")[2]
    Array(0.4, dtype=array_api_strict.float64)
    """
    xp = array_namespace(stats)
    beta = _check_beta(beta)
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
    counts = xp.astype(_binary_stats(rows[0], rows[1], k, xp, -1), dtype)
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

    Inputs as in :func:`stat_scores`. ``average`` in ``"binary"`` (the default; raises
    ValueError for the multiclass and multilabel tasks), ``"micro"``, ``"macro"``,
    ``"weighted"``, ``"samples"`` (multilabel only: each sample's scores over its
    labels, then the mean over samples, NaN left out) or ``None`` (per-class arrays);
    ``zero_division`` in ``0.0 | 1.0 | nan``, applied as in :func:`fbeta_from_stats`.
    Every class in ``[0, num_classes)`` counts (scikit-learn with
    ``labels=range(num_classes)``). For ``task="binary"`` the statistics describe the
    positive class only, so ``"micro"``/``"macro"``/``"weighted"`` equal ``"binary"``;
    scikit-learn's macro over both labels of a binary problem is
    ``task="multiclass", num_classes=2``.

    >>> import array_api_strict as xp
    >>> p, r, f = precision_recall_fbeta(xp.asarray([1, 1, 0, 1]), xp.asarray([1, 0, 0, 1]))
    >>> float(p), float(r), float(f)
    (0.6666666666666666, 1.0, 0.8)
    """
    xp = array_namespace(preds, target)
    check_choice(task, "task", TASKS)
    check_choice(average, "average", AVERAGES)
    beta = _check_beta(beta)
    zero_division = check_zero_division(zero_division)
    if average == "samples" and task != "multilabel":
        msg = f"average='samples' applies to task='multilabel' only, got task={task!r}"
        raise ValueError(msg)
    _check_average(average, 1 if task == "binary" else 0, task)
    dtype = _float_dtype(xp, preds)
    task, p, t, keep, k = _prepare(xp, preds, target, task, num_classes, threshold,
                                   ignore_index)
    if average == "samples":
        return _samples_prf(xp, p, t, keep, dtype, beta, zero_division)
    if task == "multiclass":
        stats = _multiclass_stats(xp, p, t, k, ignore_index)
    elif task == "multilabel":
        stats = _binary_stats(p, t, keep, xp, tuple(range(p.ndim - 1)))
    else:
        stats = xp.reshape(_binary_stats(p, t, keep, xp, None), (1, 4))
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

    >>> import array_api_strict as xp
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

    >>> import array_api_strict as xp
    >>> f1_score(xp.asarray([0, 2, 1, 2]), xp.asarray([0, 1, 1, 2]), task="multiclass",
    ...          num_classes=3, average="macro")
    Array(0.77777778, dtype=array_api_strict.float64)
    """
    return precision_recall_fbeta(
        preds, target, beta=1.0, task=task, num_classes=num_classes, threshold=threshold,
        average=average, zero_division=zero_division, ignore_index=ignore_index,
    )[2]
