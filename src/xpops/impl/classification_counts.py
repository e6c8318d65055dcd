"""The per-class counts behind :mod:`xpops.impl.classification`: labels in, counts out.

Per task the inputs are validated and turned into what is counted: integer labels for
``"multiclass"`` (floating scores become the argmax over their last axis), booleans for
``"binary"`` and ``"multilabel"`` (a score is positive at or above the threshold, a label
when it is 1). The counts are a ``(K, K)`` confusion matrix, from one bincount, and the
``(K, 4)`` statistics tp, fp, fn, support.

Positions whose target is ``ignore_index`` count nowhere. Labels are range-checked when
their values are concrete; under ``jax.jit`` and on Dask they cannot be, and labels out
of range are dropped rather than counted in a wrong bin. Counts have the namespace's
default integer dtype.
"""

from __future__ import annotations

from typing import Any

from .._lib.counting import bincount
from .._lib.namespace import (
    as_default_int,
    default_int,
    device,
    values_readable,
)
from .._lib.primitives import argmax_last
from .._lib.validation import (
    check_binary_values,
    check_choice,
    check_ignore_index,
    check_label_range,
    check_num_classes,
    check_real,
    check_same_shape,
    size,
)

TASKS = ("binary", "multiclass", "multilabel")


def check_label_dtype(xp: Any, x: Any, name: str, *, allow_bool: bool) -> None:
    kinds = ("integral", "bool") if allow_bool else "integral"
    if not xp.isdtype(x.dtype, kinds):
        what = "an integer or bool" if allow_bool else "an integer"
        msg = f"`{name}` must hold labels of {what} dtype, got {x.dtype}"
        raise TypeError(msg)


# --------------------------------------------------------------- confusion matrix


def _bincount_pairs(xp: Any, preds: Any, target: Any, num_classes: int, keep: Any) -> Any:
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


def confusion_counts(
    xp: Any, preds: Any, target: Any, num_classes: int, ignore_index: int | None
) -> Any:
    """The ``(K, K)`` confusion matrix of integer labels of one shape, range-checked.

    ``preds`` is not checked where the target is ignored.
    """
    preds, target = as_default_int(xp, preds), as_default_int(xp, target)
    check_label_range(xp, target, "target", num_classes, ignore_index=ignore_index)
    keep = None if ignore_index is None else target != ignore_index
    check_label_range(xp, preds, "preds", num_classes, keep=keep)
    keep = _keep_mask(xp, preds, target, num_classes, ignore_index)
    return _bincount_pairs(xp, preds, target, num_classes, keep)


# ------------------------------------------------------------------ task labels


def _binary_labels(
    xp: Any, preds: Any, target: Any, threshold: float, ignore_index: Any
) -> tuple[Any, Any, Any]:
    """(predicted positive, target positive, keep) as booleans, for binary and multilabel."""
    check_same_shape(preds, target, "preds", "target")
    check_label_dtype(xp, target, "target", allow_bool=True)
    if xp.isdtype(target.dtype, "integral"):
        target = as_default_int(xp, target)
    if xp.isdtype(preds.dtype, "integral"):
        preds = as_default_int(xp, preds)
    keep = None if ignore_index is None else target != ignore_index
    if xp.isdtype(target.dtype, "integral"):
        check_binary_values(xp, target, "target", ignore_index=ignore_index)
        t = target == 1
    else:
        t = target
    if xp.isdtype(preds.dtype, "real floating"):
        p = preds >= threshold
    elif xp.isdtype(preds.dtype, "integral"):
        check_binary_values(xp, preds, "preds", keep=keep)
        p = preds == 1
    elif xp.isdtype(preds.dtype, "bool"):
        p = preds
    else:
        msg = f"`preds` must hold real scores or 0/1 labels, got dtype {preds.dtype}"
        raise TypeError(msg)
    return p, t, keep


def _multiclass_labels(
    xp: Any, preds: Any, target: Any, num_classes: Any
) -> tuple[Any, Any, int]:
    """(predicted labels, target, K): argmax over the last axis of floating scores."""
    check_label_dtype(xp, target, "target", allow_bool=False)
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
        return argmax_last(xp, preds), target, int(num_classes)
    check_label_dtype(xp, preds, "preds", allow_bool=False)
    check_same_shape(preds, target, "preds", "target")
    if num_classes is None:
        msg = "`num_classes` is required for multiclass label `preds`, got None"
        raise ValueError(msg)
    num_classes = check_num_classes(num_classes)
    return preds, target, num_classes


def prepare_labels(
    xp: Any, preds: Any, target: Any, task: str, num_classes: Any, threshold: Any,
    ignore_index: Any,
) -> tuple[str, Any, Any, Any, Any]:
    """Validated (task, p, t, keep, num_classes) with binary/multilabel as booleans."""
    check_choice(task, "task", TASKS)
    check_ignore_index(ignore_index)
    # any real threshold, infinities included; NaN would silently make every score negative
    threshold = check_real(threshold, "threshold")
    if task == "multiclass":
        p, t, k = _multiclass_labels(xp, preds, target, num_classes)
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
    p, t, keep = _binary_labels(xp, preds, target, threshold, ignore_index)
    return task, p, t, keep, num_classes


# -------------------------------------------------------------------- stat scores


def _count(xp: Any, mask: Any, axis: Any = None) -> Any:
    """Number of True entries, in the default integer dtype."""
    int_dtype = default_int(xp, device(mask))
    return xp.sum(xp.astype(mask, int_dtype), axis=axis, dtype=int_dtype)


def binary_stats(p: Any, t: Any, keep: Any, xp: Any, axis: Any) -> Any:
    """tp, fp, fn, support summed over ``axis``, stacked on a new last axis."""
    if keep is not None:
        p, t = p & keep, t & keep
    tp = _count(xp, p & t, axis)
    fp = _count(xp, p & ~t, axis)
    fn = _count(xp, ~p & t, axis)
    return xp.stack([tp, fp, fn, tp + fn], axis=-1)


def _multiclass_stats(
    xp: Any, preds: Any, target: Any, num_classes: int, ignore_index: Any
) -> Any:
    cm = confusion_counts(xp, preds, target, num_classes, ignore_index)
    diagonal = xp.arange(num_classes, dtype=cm.dtype, device=device(cm)) * (num_classes + 1)
    tp = xp.take(xp.reshape(cm, (-1,)), diagonal)
    # dtype=: sum promotes to the default integer, which some devices lack
    support = xp.sum(cm, axis=1, dtype=cm.dtype)
    predicted = xp.sum(cm, axis=0, dtype=cm.dtype)
    return xp.stack([tp, predicted - tp, support - tp, support], axis=1)


def task_stats(
    xp: Any, task: str, p: Any, t: Any, keep: Any, num_classes: int, ignore_index: Any
) -> Any:
    """The ``(K, 4)`` counts of labels from :func:`prepare_labels`: one row per class
    (multiclass), per label (multilabel) or for the positive class (binary)."""
    if task == "multiclass":
        return _multiclass_stats(xp, p, t, num_classes, ignore_index)
    if task == "multilabel":
        return binary_stats(p, t, keep, xp, tuple(range(p.ndim - 1)))
    return xp.reshape(binary_stats(p, t, keep, xp, None), (1, 4))
