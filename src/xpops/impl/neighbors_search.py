"""k-nearest-neighbour search: the ``k`` closest training points of each query.

The search never materialises the whole ``(n_query, n_train)`` matrix: queries go in
blocks of ``chunk_size`` rows (by default so that a block holds about 4M entries). Each
block is ranked on the centred matrix-product expansion of
:mod:`xpops.impl.neighbors_distances`, the ``k`` best are found by
:func:`xpops._lib.topk.smallest_k` (ties in training-index order), and their distances
are recomputed from the differences, so the returned distances are exact to rounding.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import is_dask_array

from .._lib.inputs import array_op
from .._lib.namespace import array_namespace, default_int, device
from .._lib.primitives import argsort_last, take_along_last_axis
from .._lib.topk import smallest_k
from .._lib.validation import check_count
from .neighbors_common import as_float, check_pair, row_blocks, run_checked
from .neighbors_distances import Expansion, direct_distances, manhattan_block, unit_rows

__all__ = ["kneighbors", "search"]


def _exact_selected(xp: Any, train: Any, query: Any, index: Any, metric: str) -> Any:
    """Distances of the selected training points ``index`` ``(Q, k)`` to their queries."""
    q, k = index.shape
    points = xp.reshape(xp.take(train, xp.reshape(index, (-1,)), axis=0), (q, k, -1))
    if metric != "cosine":
        return direct_distances(xp, query[:, None, :] - points, metric)
    # 1 - cos = |u/|u| - v/|v||^2 / 2: no cancellation for nearly parallel points
    units = xp.reshape(unit_rows(xp, xp.reshape(points, (q * k, -1))), (q, k, -1))
    gap = unit_rows(xp, query)[:, None, :] - units
    half = xp.sum(gap * gap, axis=-1) / 2
    both = xp.any(points != 0, axis=-1) & xp.any(query != 0, axis=1, keepdims=True)
    return xp.where(both, half, xp.ones_like(half))  # a zero row: distance 1


def search(
    train: Any, query: Any, /, *, k: int, metric: str, chunk_size: int | None
) -> tuple[Any, Any]:
    """``(distances, indices)`` of the ``k`` nearest ``train`` points of each ``query``
    point, on validated inputs (module notes)."""
    xp = array_namespace(train, query)
    n_query, n_train = query.shape[0], train.shape[0]
    dev = device(train)
    if n_query == 0:
        return (xp.zeros((0, k), dtype=train.dtype, device=dev),
                xp.zeros((0, k), dtype=default_int(xp, dev), device=dev))
    per_row = n_train * (train.shape[1] if metric == "manhattan" else 1)
    if metric == "cosine":
        qn, tn_t = unit_rows(xp, query), xp.matrix_transpose(unit_rows(xp, train))
    elif metric != "manhattan":
        key_lhs, key_rhs_t = Expansion(xp, query, train).keys()
    dists, indices = [], []
    lazy = is_dask_array(query)
    for s, e in row_blocks(n_query, chunk_size, per_row, lazy=lazy):  # query blocks
        q = query[s:e, :]
        if metric == "manhattan":
            keys = manhattan_block(xp, q, train)
        elif metric == "cosine":
            keys = -(qn[s:e, :] @ tn_t)
        else:
            keys = key_lhs[s:e, :] @ key_rhs_t
        _, index = smallest_k(xp, keys, k)
        d = _exact_selected(xp, train, q, index, metric)
        # the expansion ranked the candidates; order them by the exact distance, ties by
        # training index (index is ascending within equal keys, not within equal d)
        by_index = argsort_last(xp, index)
        index = take_along_last_axis(xp, index, by_index)
        d = take_along_last_axis(xp, d, by_index)
        by_distance = argsort_last(xp, d)
        dists.append(take_along_last_axis(xp, d, by_distance))
        indices.append(take_along_last_axis(xp, index, by_distance))
    if len(dists) == 1:
        return dists[0], indices[0]
    return xp.concat(dists, axis=0), xp.concat(indices, axis=0)


@array_op("x_query", "x_train")
def kneighbors(
    x_train: Any,
    x_query: Any,
    /,
    *,
    k: int,
    metric: str = "euclidean",
    chunk_size: int | None = None,
) -> tuple[Any, Any]:
    """The ``k`` nearest training points of each query.

    Queries go in blocks of ``chunk_size`` rows, so memory stays ``O(chunk_size * N)``;
    on Dask the default is one block, the arrays' own chunks bounding each task, and a
    training set chunked along its samples is searched chunk by chunk (each chunk's
    ``k`` best, then a merge, ties still in index order). The candidates are ranked on
    the matrix-product expansion and the ``k`` kept ones re-measured from their
    differences: the returned distances are exact to rounding (0 for a duplicate), and
    only points whose distances differ by less than the expansion's error can be ranked
    differently from exact arithmetic.

    Parameters
    ----------
    x_train : array
        ``(N, D)`` real floating training points, finite where values can be read.
    x_query : array
        ``(Q, D)`` real floating query points, finite where values can be read.
    k : int
        The number of neighbours, ``1 <= k <= N``.
    metric : {"euclidean", "sqeuclidean", "manhattan", "cosine"}, default "euclidean"
        As in :func:`pairwise_distances`.
    chunk_size : int or None, default None
        Queries per block, at least 1 (None: about 4M distance entries per block).

    Returns
    -------
    distances : array
        ``(Q, k)`` ascending, in the promoted float dtype of the points.
    indices : array
        ``(Q, k)`` indices into ``x_train`` in the default integer dtype; equal
        distances in training-index order.

    Raises
    ------
    TypeError
        When the points are not real floating, or ``k`` or ``chunk_size`` is not an int.
    ValueError
        When the points are not 2-D or their feature dimensions differ, ``k`` lies
        outside ``[1, N]``, ``metric`` is unknown, ``chunk_size < 1``, or (where values
        can be read) the points hold NaN or infinite values.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import kneighbors
    >>> train = xp.asarray([[0.0], [3.0], [1.0], [-1.0]])
    >>> d, i = kneighbors(train, xp.asarray([[0.0], [2.0]]), k=3)
    >>> d
    Array([[0., 1., 1.],
           [1., 1., 2.]], dtype=array_api_strict.float64)
    >>> i  # 2.0 is as far from 1.0 as from 3.0: the smaller index first
    Array([[0, 2, 3],
           [1, 2, 0]], dtype=array_api_strict.int64)
    """
    xp = array_namespace(x_train, x_query)
    chunk_size = check_pair(xp, x_train, x_query, ("x_train", "x_query"), metric, chunk_size)
    k = check_count(k, "k", minimum=1, maximum=x_train.shape[0])
    x_train, x_query = as_float(xp, x_train, x_query)
    return run_checked(search, x_train, x_query, finite=("x_train", "x_query"), k=k,
                       metric=metric, chunk_size=chunk_size)
