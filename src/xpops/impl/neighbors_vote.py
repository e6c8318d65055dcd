"""k-nearest-neighbour classification: the neighbours of :func:`kneighbors` vote.

Each neighbour votes 1 (``weights="uniform"``) or ``1 / distance`` (``"distance"``; a
query with exact matches, distance 0, gives its exact matches weight 1 and every other
neighbour 0, as scikit-learn). Votes are summed per class by comparing the neighbours'
labels with every class (a ``(Q, k, C)`` mask): no scatter, the same on every backend.
"""

from __future__ import annotations

from typing import Any

from .._lib.inputs import array_op
from .._lib.namespace import array_namespace, device
from .._lib.primitives import argmax_last
from .._lib.validation import check_choice, check_count
from .neighbors_common import as_float, check_labels, check_pair, run_checked
from .neighbors_search import search

__all__ = ["knn_predict", "knn_predict_proba", "votes", "WEIGHTS"]

WEIGHTS = ("uniform", "distance")


def votes(
    xp: Any, labels: Any, distances: Any, num_classes: int, weights: str
) -> Any:
    """Per-class vote totals ``(Q, C)`` of neighbour ``labels`` ``(Q, k)``."""
    dtype = distances.dtype
    dev = device(distances)
    if weights == "uniform":
        w = xp.ones(distances.shape, dtype=dtype, device=dev)
    else:
        # scikit-learn's rule: a query with an exact match gives all the weight to its
        # exact matches
        exact = distances == 0
        any_exact = xp.any(exact, axis=1, keepdims=True)
        safe = xp.where(exact, xp.ones_like(distances), distances)
        w = xp.where(any_exact, xp.astype(exact, dtype), 1 / safe)
    classes = xp.arange(num_classes, dtype=labels.dtype, device=dev)
    hits = labels[:, :, None] == classes
    zero = xp.zeros((), dtype=dtype, device=dev)
    return xp.sum(xp.where(hits, w[:, :, None], zero), axis=1)


def _knn_votes(
    x_train: Any, y_train: Any, x_query: Any, k: int, metric: str, weights: str,
    num_classes: int | None, chunk_size: int | None,
) -> tuple[Any, Any]:
    """The namespace and the per-class vote totals ``(Q, C)``, after validation."""
    xp = array_namespace(x_train, y_train, x_query)
    chunk_size = check_pair(xp, x_train, x_query, ("x_train", "x_query"), metric, chunk_size)
    check_choice(weights, "weights", WEIGHTS)
    k = check_count(k, "k", minimum=1, maximum=x_train.shape[0])
    num_classes = check_labels(xp, y_train, x_train.shape[0], num_classes)
    x_train, x_query = as_float(xp, x_train, x_query)
    return xp, run_checked(_knn_vote_core, x_train, x_query, y_train,
                           finite=("x_train", "x_query"), labels="y_train", k=k,
                           metric=metric, weights=weights, num_classes=num_classes,
                           chunk_size=chunk_size)


def _knn_vote_core(
    x_train: Any, x_query: Any, y_train: Any, /, *, k: int, metric: str, weights: str,
    num_classes: int, chunk_size: int | None,
) -> Any:
    xp = array_namespace(x_train, y_train, x_query)
    distances, index = search(x_train, x_query, k=k, metric=metric, chunk_size=chunk_size)
    labels = xp.reshape(xp.take(y_train, xp.reshape(index, (-1,))), index.shape)
    return votes(xp, labels, distances, num_classes, weights)


@array_op("x_query", "x_train", "y_train", labels=("y_train",))
def knn_predict(
    x_train: Any,
    y_train: Any,
    x_query: Any,
    /,
    *,
    k: int = 1,
    metric: str = "euclidean",
    weights: str = "uniform",
    num_classes: int | None = None,
    chunk_size: int | None = None,
) -> Any:
    """k-nearest-neighbour classification: the label with the largest vote.

    Neighbours are those of :func:`kneighbors`. Each neighbour votes 1
    (``weights="uniform"``) or ``1 / distance`` (``"distance"``; a query with exact
    matches, distance 0, gives its exact matches weight 1 and every other neighbour 0,
    as scikit-learn). A tie between classes goes to the smallest label (scikit-learn's
    rule).

    Parameters
    ----------
    x_train : array
        ``(N, D)`` real floating training points, finite where values can be read.
    y_train : array
        ``(N,)`` integer labels in ``[0, num_classes)``.
    x_query : array
        ``(Q, D)`` real floating query points, finite where values can be read.
    k : int, default 1
        The number of neighbours, ``1 <= k <= N``.
    metric : {"euclidean", "sqeuclidean", "manhattan", "cosine"}, default "euclidean"
        As in :func:`pairwise_distances`.
    weights : {"uniform", "distance"}, default "uniform"
        Each neighbour's vote: 1, or ``1 / distance`` (exact matches take it all).
    num_classes : int or None, default None
        The number of classes, at least 1; None: ``max(y_train) + 1`` (required where
        values cannot be read, e.g. under ``jax.jit``).
    chunk_size : int or None, default None
        Queries per block of the search, as in :func:`kneighbors`.

    Returns
    -------
    array
        ``(Q,)`` predicted labels in the default integer dtype.

    Raises
    ------
    TypeError
        When the points are not real floating, ``y_train`` is not integer, or ``k``,
        ``num_classes`` or ``chunk_size`` is not an int.
    ValueError
        When the shapes do not fit, ``k`` lies outside ``[1, N]``, ``metric`` or
        ``weights`` is unknown, ``num_classes`` or ``chunk_size`` is below 1,
        ``num_classes`` is None where values cannot be read, or (where values can be
        read) the points hold NaN or infinite values or ``y_train`` labels outside
        ``[0, num_classes)``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import knn_predict
    >>> train = xp.asarray([[0.0], [1.0], [2.0], [10.0]])
    >>> y = xp.asarray([1, 0, 0, 1])
    >>> knn_predict(train, y, xp.asarray([[0.2], [9.0]]), k=3)  # 2 votes against 1
    Array([0, 0], dtype=array_api_strict.int64)
    >>> knn_predict(train, y, xp.asarray([[0.2], [9.0]]), k=3, weights="distance")
    Array([1, 1], dtype=array_api_strict.int64)
    """
    xp, totals = _knn_votes(x_train, y_train, x_query, k, metric, weights, num_classes,
                            chunk_size)
    return argmax_last(xp, totals)  # the first maximum: the smallest label


@array_op("x_query", "x_train", "y_train", labels=("y_train",))
def knn_predict_proba(
    x_train: Any,
    y_train: Any,
    x_query: Any,
    /,
    *,
    k: int = 1,
    metric: str = "euclidean",
    weights: str = "uniform",
    num_classes: int | None = None,
    chunk_size: int | None = None,
) -> Any:
    """Class probabilities: each query's votes over their total.

    Votes as in :func:`knn_predict`. Uniform weights give the fraction of the ``k``
    neighbours in each class. Equals scikit-learn's
    ``KNeighborsClassifier(algorithm="brute").predict_proba`` where every class occurs
    in ``y_train``.

    Parameters
    ----------
    x_train : array
        ``(N, D)`` real floating training points, finite where values can be read.
    y_train : array
        ``(N,)`` integer labels in ``[0, num_classes)``.
    x_query : array
        ``(Q, D)`` real floating query points, finite where values can be read.
    k : int, default 1
        The number of neighbours, ``1 <= k <= N``.
    metric : {"euclidean", "sqeuclidean", "manhattan", "cosine"}, default "euclidean"
        As in :func:`pairwise_distances`.
    weights : {"uniform", "distance"}, default "uniform"
        Each neighbour's vote: 1, or ``1 / distance`` (exact matches take it all).
    num_classes : int or None, default None
        The number of classes, at least 1; None: ``max(y_train) + 1`` (required where
        values cannot be read, e.g. under ``jax.jit``).
    chunk_size : int or None, default None
        Queries per block of the search, as in :func:`kneighbors`.

    Returns
    -------
    array
        ``(Q, num_classes)`` probabilities in the float dtype of the points; each row
        sums to 1.

    Raises
    ------
    TypeError
        When the points are not real floating, ``y_train`` is not integer, or ``k``,
        ``num_classes`` or ``chunk_size`` is not an int.
    ValueError
        When the shapes do not fit, ``k`` lies outside ``[1, N]``, ``metric`` or
        ``weights`` is unknown, ``num_classes`` or ``chunk_size`` is below 1,
        ``num_classes`` is None where values cannot be read, or (where values can be
        read) the points hold NaN or infinite values or ``y_train`` labels outside
        ``[0, num_classes)``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import knn_predict_proba
    >>> train = xp.asarray([[0.0], [1.0], [2.0], [10.0]])
    >>> knn_predict_proba(train, xp.asarray([1, 0, 0, 2]), xp.asarray([[0.5]]), k=2)
    Array([[0.5, 0.5, 0. ]], dtype=array_api_strict.float64)
    """
    xp, totals = _knn_votes(x_train, y_train, x_query, k, metric, weights, num_classes,
                            chunk_size)
    return totals / xp.sum(totals, axis=1, keepdims=True)
