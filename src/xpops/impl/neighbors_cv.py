"""k-nearest-neighbour cross-validation: the accuracy of each ``k`` on each fold, and
the best ``k``.

The samples are split in order, without shuffling, into contiguous folds like
``numpy.array_split`` (scikit-learn's ``KFold`` splits alike, ``torch.chunk`` does not).
One neighbour search per fold, for the largest ``k``, serves every ``k``: the first
``k`` neighbours of the ``k_max`` found are the ``k`` nearest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._lib.inputs import array_op
from .._lib.namespace import array_namespace, default_int, device
from .._lib.primitives import argmax_last
from .._lib.validation import check_choice, check_count, check_real_floating, reject_lazy
from .neighbors_common import METRICS, check_finite, check_labels, check_points, run_checked
from .neighbors_search import search
from .neighbors_vote import votes

__all__ = ["knn_cross_validate", "best_k", "DEFAULT_K_CHOICES"]

DEFAULT_K_CHOICES = (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)


def _check_k_choices(k_choices: Any) -> tuple[int, ...]:
    """A non-empty sequence of integers >= 1, as a tuple of ints."""
    if isinstance(k_choices, (str, bytes)) or not isinstance(k_choices, Sequence):
        msg = f"`k_choices` must be a sequence of ints, got {k_choices!r}"
        raise TypeError(msg)
    if not k_choices:
        msg = "`k_choices` must not be empty"
        raise ValueError(msg)
    return tuple(check_count(k, f"k_choices[{i}]", minimum=1) for i, k in enumerate(k_choices))


def _fold_bounds(n: int, num_folds: int) -> list[tuple[int, int]]:
    """Fold ``i`` is ``[start, stop)``: the first ``n % num_folds`` folds get one extra
    sample, as ``numpy.array_split`` (``torch.chunk`` makes equal folds of
    ``ceil(n / num_folds)`` and fewer of them)."""
    base, extra = divmod(n, num_folds)
    bounds, start = [], 0
    for i in range(num_folds):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


@array_op("x", "y", labels=("y",))
def knn_cross_validate(
    x: Any,
    y: Any,
    /,
    *,
    k_choices: Sequence[int] = DEFAULT_K_CHOICES,
    num_folds: int = 5,
    metric: str = "euclidean",
) -> Any:
    """Accuracy of :func:`knn_predict` (uniform votes) for each ``k`` on each fold.

    The samples are split in order, without shuffling, into ``num_folds`` contiguous
    folds like ``numpy.array_split`` (the first ``N % num_folds`` folds are one longer;
    scikit-learn's ``KFold`` splits alike, ``torch.chunk`` does not). Fold ``j`` is
    validated on a classifier trained on the other folds, in their order, with
    ``max(y) + 1`` classes. One neighbour search per fold serves every ``k``. Runs
    eagerly.

    Parameters
    ----------
    x : array
        ``(N, D)`` real floating samples, finite where values can be read.
    y : array
        ``(N,)`` integer labels, at least 0.
    k_choices : sequence of int, default (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)
        The ``k`` to try, each at least 1 and at most the smallest training split.
    num_folds : int, default 5
        The number of folds, ``2 <= num_folds <= N``.
    metric : {"euclidean", "sqeuclidean", "manhattan", "cosine"}, default "euclidean"
        As in :func:`pairwise_distances`.

    Returns
    -------
    array
        ``(len(k_choices), num_folds)`` accuracies in the float dtype of ``x``.

    Raises
    ------
    TypeError
        When ``x`` is not real floating, ``y`` not integer, ``num_folds`` not an int,
        or ``k_choices`` not a sequence of ints.
    ValueError
        When the shapes do not fit, ``metric`` is unknown, ``num_folds`` lies outside
        ``[2, N]``, ``k_choices`` is empty or holds a ``k`` below 1 or above the smallest
        training split, ``x`` holds NaN or infinite values or ``y`` negative labels.
    NotImplementedError
        For Dask arrays: the count of classes reads ``max(y)``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import knn_cross_validate
    >>> x = xp.asarray([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> y = xp.asarray([0, 0, 0, 1, 1, 1])
    >>> knn_cross_validate(x, y, k_choices=(1, 3), num_folds=3)  # folds of 2 samples
    Array([[1., 1., 1.],
           [0., 1., 0.]], dtype=array_api_strict.float64)

    With ``k=3`` the first and last folds score 0: each of their samples has one
    training sample of its class among its three neighbours, against two of the other.
    """
    reject_lazy("knn_cross_validate", "reads max(y) to count the classes", x, y)
    xp = array_namespace(x, y)
    check_points(xp, x, "x")
    check_choice(metric, "metric", METRICS)
    check_finite(xp, x, "x")
    n = x.shape[0]
    num_folds = check_count(num_folds, "num_folds", minimum=2, maximum=n)
    k_choices = _check_k_choices(k_choices)
    num_classes = check_labels(xp, y, n, None, "y")
    bounds = _fold_bounds(n, num_folds)
    smallest_train = n - max(stop - start for start, stop in bounds)
    if max(k_choices) > smallest_train:
        msg = (
            f"`k_choices` holds k={max(k_choices)} but the smallest training split has "
            f"{smallest_train} samples (N={n}, num_folds={num_folds})"
        )
        raise ValueError(msg)
    return run_checked(_cross_validate_core, x, y, finite=("x",), labels="y",
                       k_choices=k_choices, bounds=tuple(bounds), metric=metric,
                       num_classes=num_classes)


def _cross_validate_core(
    x: Any, y: Any, /, *, k_choices: tuple[int, ...], bounds: tuple[tuple[int, int], ...],
    metric: str, num_classes: int,
) -> Any:
    xp = array_namespace(x, y)
    n, k_max, dev = x.shape[0], max(k_choices), device(x)
    columns = []
    for start, stop in bounds:  # a loop over folds
        keep = xp.concat([xp.arange(0, start, device=dev), xp.arange(stop, n, device=dev)])
        train, labels = xp.take(x, keep, axis=0), xp.take(y, keep)
        distances, index = search(train, x[start:stop, :], k=k_max, metric=metric,
                                  chunk_size=None)
        neighbour_labels = xp.reshape(xp.take(labels, xp.reshape(index, (-1,))), index.shape)
        truth = y[start:stop]
        accuracy = []
        for k in k_choices:
            totals = votes(xp, neighbour_labels[:, :k], distances[:, :k], num_classes,
                           "uniform")
            predicted = xp.astype(argmax_last(xp, totals), truth.dtype)
            accuracy.append(xp.mean(xp.astype(predicted == truth, x.dtype)))
        columns.append(xp.stack(accuracy))
    return xp.stack(columns, axis=1)


@array_op("accuracies")
def best_k(k_choices: Sequence[int], accuracies: Any, /) -> Any:
    """The ``k`` with the highest mean accuracy over folds; ties go to the smallest ``k``.

    Parameters
    ----------
    k_choices : sequence of int
        The ``k`` tried, each at least 1, in the order of the rows of ``accuracies``.
    accuracies : array
        ``(len(k_choices), num_folds)`` real floating accuracies, as returned by
        :func:`knn_cross_validate`; ``num_folds >= 1``.

    Returns
    -------
    array
        0-d, the best ``k`` in the default integer dtype, on the device of
        ``accuracies`` (``int(best_k(...))`` gives a Python int).

    Raises
    ------
    TypeError
        When ``k_choices`` is not a sequence of ints or ``accuracies`` not real floating.
    ValueError
        When ``k_choices`` is empty or holds a ``k`` below 1, or ``accuracies`` does not
        have one row per ``k`` and at least one column.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import best_k
    >>> accuracies = xp.asarray([[0.9, 0.8], [0.8, 0.9], [0.7, 0.9]])
    >>> best_k((5, 1, 3), accuracies)  # k=5 and k=1 tie at 0.85
    Array(1, dtype=array_api_strict.int64)
    """
    xp = array_namespace(accuracies)
    k_choices = _check_k_choices(k_choices)
    check_real_floating(xp, accuracies, "accuracies")
    if accuracies.ndim != 2 or accuracies.shape[0] != len(k_choices) or not accuracies.shape[1]:
        msg = (
            f"`accuracies` must have shape (len(k_choices), num_folds) = "
            f"({len(k_choices)}, num_folds >= 1), got {tuple(accuracies.shape)}"
        )
        raise ValueError(msg)
    order = sorted(range(len(k_choices)), key=lambda i: k_choices[i])  # ascending k
    dev = device(accuracies)
    means = xp.mean(xp.take(accuracies, xp.asarray(order, device=dev), axis=0), axis=1)
    best = argmax_last(xp, means)  # the first maximum: the smallest k
    ks = xp.asarray([k_choices[i] for i in order], dtype=default_int(xp, dev), device=dev)
    return xp.reshape(xp.take(ks, xp.reshape(best, (1,))), ())
