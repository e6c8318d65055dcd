"""Pairwise distances and k-nearest neighbours: search, vote, cross-validation.

Euclidean distances use the matrix-product expansion
``|a - b|^2 = |a|^2 + |b|^2 - 2 a.b``, one GEMM, but on data that is *centred first*:
both point sets are shifted by one common centre (per feature), which leaves every
distance unchanged and removes the cancellation that the expansion suffers on data far
from the origin (torch.cdist's mm path errs by O(1) on float32 data offset by 1000). The
centre is the mean of both sets, rounded to an integer where the feature spans at least
1, so that integer-valued data stays exact (and exact ties stay ties). The norms ride in
the GEMM as two extra columns, and negative rounding residues are clamped to 0.

What is left of the expansion's error is about ``eps * (|a_i - c|^2 + |b_j - c|^2)`` in
the squared distance, large only *relative* to the distances of nearly coincident points.
Entries below ``_REFINE * (|a_i - c|^2 + |b_j - c|^2)`` are therefore recomputed from
their differences whenever values can be read, so exact duplicates are exactly 0 and
float32 results stay within a few ulps of a float64 computation (under ``jax.jit``, a
fixed budget of them).

The neighbour search never materialises the whole ``(n_query, n_train)`` matrix: queries
go in blocks of ``chunk_size`` rows (by default so that a block holds about 4M entries).
Each block is ranked on the expansion, the ``k`` best are found by
:func:`xpops._lib.topk.smallest_k` (ties in training-index order), and their distances
are recomputed from the differences, so the returned distances are exact to rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import array_api_compat
from array_api_compat import is_dask_array

from .._lib.inputs import array_op
from .._lib.jax_eager import on_jax, run_compiled
from .._lib.namespace import (
    array_namespace,
    default_int,
    device,
    is_concrete,
    values_readable,
)
from .._lib.native import natives_disabled, natives_enabled
from .._lib.primitives import (
    argmax_last,
    argsort_last,
    clamped_root,
    nonzero_padded,
    set_masked,
    set_pairs,
    take_along_last_axis,
    whole_axis,
)
from .._lib.topk import smallest_k
from .._lib.validation import (
    check_choice,
    check_integer,
    check_num_classes,
    check_real_floating,
    concrete_true,
    reject_lazy,
    size,
)

__all__ = [
    "pairwise_distances",
    "kneighbors",
    "knn_predict",
    "knn_predict_proba",
    "knn_cross_validate",
    "best_k",
]

METRICS = ("euclidean", "sqeuclidean", "manhattan", "cosine")
WEIGHTS = ("uniform", "distance")
DEFAULT_K_CHOICES = (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)

_BLOCK_ELEMENTS = 1 << 22  # default bound on the entries of one block's temporaries
_REFINE = 1.0 / 16  # relative size below which an expanded squared distance is redone
_REFINE_BATCH = 1 << 20  # differences formed at once when redoing entries


# ------------------------------------------------------------------- validation


def _check_points(xp: Any, x: Any, name: str) -> None:
    check_real_floating(xp, x, name)
    if x.ndim != 2:
        msg = f"`{name}` must be a 2-D (n_points, n_features) array, got shape {tuple(x.shape)}"
        raise ValueError(msg)


def _check_features(a: Any, b: Any, name_a: str, name_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        msg = (
            f"`{name_b}` must have the feature dimension of `{name_a}`, got "
            f"{name_b}.shape={tuple(b.shape)} and {name_a}.shape={tuple(a.shape)}"
        )
        raise ValueError(msg)


def _deferred(x: Any) -> bool:
    """True for concrete JAX arrays on the compiled path: their value checks run inside
    the compiled op (see ``_run``), saving one compilation per check and shape."""
    return natives_enabled() and array_api_compat.is_jax_array(x) and is_concrete(x)


def _check_finite(xp: Any, x: Any, name: str) -> None:
    if _deferred(x):
        return
    if is_concrete(x) and size(x) and concrete_true(~xp.all(xp.isfinite(x))):
        msg = f"`{name}` holds NaN or infinite values"
        raise ValueError(msg)


def _check_chunk_size(chunk_size: Any) -> None:
    if chunk_size is None:
        return
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        msg = f"`chunk_size` must be an int or None, got {chunk_size!r}"
        raise TypeError(msg)
    if chunk_size < 1:
        msg = f"`chunk_size` must be at least 1, got {chunk_size}"
        raise ValueError(msg)


def _check_k(k: Any, n_train: int, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int):
        msg = f"`{name}` must be an int, got {k!r}"
        raise TypeError(msg)
    if not 1 <= k <= n_train:
        msg = f"`{name}`={k} must lie in [1, {n_train}] (the number of training points)"
        raise ValueError(msg)
    return k


def _check_pair(
    xp: Any, train: Any, query: Any, names: tuple[str, str], metric: str, chunk_size: Any
) -> None:
    _check_points(xp, train, names[0])
    _check_points(xp, query, names[1])
    _check_features(train, query, *names)
    check_choice(metric, "metric", METRICS)
    _check_chunk_size(chunk_size)
    _check_finite(xp, train, names[0])
    _check_finite(xp, query, names[1])


def _check_labels(xp: Any, y: Any, n: int, num_classes: Any, name: str = "y_train") -> int:
    """Validate integer labels of length ``n``; return the number of classes."""
    check_integer(xp, y, name)
    if y.ndim != 1 or y.shape[0] != n:
        msg = f"`{name}` must have shape ({n},), one label per point, got {tuple(y.shape)}"
        raise ValueError(msg)
    readable = values_readable(xp, y) and n > 0
    if num_classes is None:
        if not readable:
            msg = f"`num_classes` is required when the values of `{name}` cannot be read"
            raise ValueError(msg)
        num_classes = int(xp.max(y)) + 1
        if num_classes < 1:
            msg = f"`{name}` holds negative labels (max {num_classes - 1})"
            raise ValueError(msg)
    num_classes = check_num_classes(num_classes)
    if readable and not _deferred(y):
        _check_label_range(xp, y, num_classes, name)
    return num_classes


def _check_label_range(xp: Any, y: Any, num_classes: int, name: str) -> None:
    if concrete_true(xp.any((y < 0) | (y >= num_classes))):
        msg = (
            f"`{name}` holds labels outside [0, {num_classes}): found values in "
            f"[{int(xp.min(y))}, {int(xp.max(y))}]"
        )
        raise ValueError(msg)


# --------------------------------------------------------------------- helpers


def _as_float(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    dtype = xp.result_type(a.dtype, b.dtype)
    return (a if a.dtype == dtype else xp.astype(a, dtype)), (
        b if b.dtype == dtype else xp.astype(b, dtype)
    )


def _blocks(n: int, chunk_size: int | None, per_row: int, *, lazy: bool = False
            ) -> list[tuple[int, int]]:
    """``[start, stop)`` of each block of rows (stops clamped: the standard leaves
    out-of-bounds slice stops unspecified). ``lazy`` (Dask) with no ``chunk_size``: one
    block, since the arrays' own chunks bound the memory of each task."""
    if lazy and chunk_size is None:
        return [(0, n)]
    rows = chunk_size if chunk_size is not None else max(1, _BLOCK_ELEMENTS // max(1, per_row))
    return [(s, min(s + rows, n)) for s in range(0, n, rows)]


def _centre(xp: Any, a: Any, b: Any) -> Any:
    """A common per-feature centre ``(1, D)`` of ``a`` and ``b`` (see the module notes)."""
    total = xp.sum(a, axis=0) + xp.sum(b, axis=0)
    mean = total / (a.shape[0] + b.shape[0])
    spread = xp.maximum(xp.max(a, axis=0), xp.max(b, axis=0)) - xp.minimum(
        xp.min(a, axis=0), xp.min(b, axis=0)
    )
    return xp.reshape(xp.where(spread >= 1, xp.round(mean), mean), (1, -1))


class _Expansion:
    """Centred points with their squared norms, set up for ``|a_i - b_j|^2`` by GEMM."""

    def __init__(self, xp: Any, a: Any, b: Any) -> None:
        self.xp = xp
        c = _centre(xp, a, b)
        self.ac, self.bc = a - c, b - c
        self.na = xp.sum(self.ac * self.ac, axis=1)
        self.nb = xp.sum(self.bc * self.bc, axis=1)

    def _ones(self, x: Any) -> Any:
        return self.xp.ones((x.shape[0], 1), dtype=x.dtype, device=device(x))

    def squared(self) -> tuple[Any, Any]:
        """``(lhs, rhs_t)``: ``lhs[i] @ rhs_t = |a_i|^2 + |b|^2 - 2 a_i.b``, the norms
        riding in one product as two extra columns."""
        xp, ac, bc = self.xp, self.ac, self.bc
        lhs = xp.concat([ac, self.na[:, None], self._ones(ac)], axis=1)
        rhs = xp.concat([-2 * bc, self._ones(bc), self.nb[:, None]], axis=1)
        return whole_axis(lhs, 1), xp.matrix_transpose(whole_axis(rhs, 1))

    def keys(self) -> tuple[Any, Any]:
        """``(lhs, rhs_t)`` for the ranking keys ``|b|^2 - 2 a_i.b``: the squared distance
        less the row constant ``|a_i|^2``."""
        xp, ac, bc = self.xp, self.ac, self.bc
        lhs = whole_axis(xp.concat([ac, self._ones(ac)], axis=1), 1)
        return lhs, xp.matrix_transpose(whole_axis(xp.concat([-2 * bc, self.nb[:, None]],
                                                             axis=1), 1))


def _unit_rows(xp: Any, x: Any) -> Any:
    """Rows scaled to unit norm; zero rows stay zero (cosine similarity 0, distance 1)."""
    norm = xp.sqrt(xp.sum(x * x, axis=1, keepdims=True))
    return x / xp.where(norm > 0, norm, xp.ones_like(norm))


def _cosine_distance(xp: Any, similarity: Any) -> Any:
    zero = xp.zeros((), dtype=similarity.dtype, device=device(similarity))
    return xp.clip(1 - similarity, min=zero, max=zero + 2)


def _manhattan_block(xp: Any, a: Any, b: Any) -> Any:
    return xp.sum(xp.abs(a[:, None, :] - b[None, :, :]), axis=-1)


def _direct(xp: Any, diff: Any, metric: str) -> Any:
    """Distances from differences ``(..., D)`` (euclidean, sqeuclidean, manhattan)."""
    if metric == "manhattan":
        return xp.sum(xp.abs(diff), axis=-1)
    squared = xp.sum(diff * diff, axis=-1)
    return xp.sqrt(squared) if metric == "euclidean" else squared


def _refine(xp: Any, a: Any, b: Any, exp: _Expansion, d: Any, minima: Any, metric: str,
            start: int) -> tuple[Any, Any]:
    """Redo from differences the entries of block ``d`` (rows ``start:``) where the
    expansion cancelled: squared distance below ``_REFINE`` times the two norms, or NaN
    (the square root of a negative residue, see ``clamped_root``).

    With readable values, and on Dask, every such entry is redone; traced (under
    ``jax.jit``) a fixed budget of ``max(2 (rows + columns), 4096)`` entries per block
    is, the first in row-major order. Returns the block and whether entries were left
    over (traced only).
    """
    stop = start + d.shape[0]
    na = exp.na[start:stop]
    readable = values_readable(xp, d)
    threshold = _REFINE * (na + xp.max(exp.nb))
    if metric == "euclidean":
        threshold = xp.sqrt(threshold)
    if readable and not concrete_true(xp.any(~(minima >= threshold))):
        return d, False
    bound = _REFINE * (na[:, None] + exp.nb[None, :])
    mask = ~(d >= (xp.sqrt(bound) if metric == "euclidean" else bound))
    if not readable and array_api_compat.is_dask_array(d):
        # lazy but not traced: every cancelling entry is redone, as where values can be
        # read, by a chunkwise select between the expansion and the direct distances
        diff = a[start:stop, None, :] - b[None, :, :]
        return xp.where(mask, _direct(xp, diff, metric), d), False
    if not readable:
        budget = min(d.shape[0] * d.shape[1], max(2 * (d.shape[0] + d.shape[1]), 4096))
        rows, cols = nonzero_padded(xp, mask, budget)
        diff = xp.take(a, rows + start, axis=0) - xp.take(b, cols, axis=0)
        left_over = xp.sum(xp.astype(mask, xp.int32)) > budget
        return set_pairs(xp, d, rows, cols, _direct(xp, diff, metric)), left_over
    rows, cols = _true_entries(xp, mask)
    if not rows.shape[0]:
        return d, False
    values = []
    for s, e in _blocks(rows.shape[0], None, a.shape[1] * _BLOCK_ELEMENTS // _REFINE_BATCH):
        r, c = rows[s:e], cols[s:e]  # a loop over batches of entries
        diff = xp.take(a, r + start, axis=0) - xp.take(b, c, axis=0)
        values.append(_direct(xp, diff, metric))
    fixed = values[0] if len(values) == 1 else xp.concat(values)
    return set_masked(xp, d, mask, fixed), False


def _true_entries(xp: Any, mask: Any) -> tuple[Any, Any]:
    """Row and column of each True entry of a 2-D ``mask``, in row-major order (boolean
    indexing of index grids: array-api-strict's ``nonzero`` fails without int64)."""
    dev = device(mask)
    rows = xp.arange(mask.shape[0], device=dev)[:, None]
    cols = xp.arange(mask.shape[1], device=dev)[None, :]
    return xp.broadcast_to(rows, mask.shape)[mask], xp.broadcast_to(cols, mask.shape)[mask]


def _pairwise(a: Any, b: Any, /, *, metric: str, chunk_size: int | None) -> tuple[Any, Any]:
    """The distances, and whether a traced refinement left entries over (a flag)."""
    xp = array_namespace(a, b)
    n, m = a.shape[0], b.shape[0]
    left_over: Any = False
    if n == 0 or m == 0:
        return xp.zeros((n, m), dtype=a.dtype, device=device(a)), left_over
    if metric == "manhattan":
        spans = _blocks(n, chunk_size, m * a.shape[1], lazy=is_dask_array(a))
        blocks = [_manhattan_block(xp, a[s:e, :], b) for s, e in spans]
    elif metric == "cosine":
        an, bn_t = _unit_rows(xp, a), xp.matrix_transpose(_unit_rows(xp, b))
        spans = _blocks(n, chunk_size or n, 1)
        blocks = [_cosine_distance(xp, an[s:e, :] @ bn_t) for s, e in spans]
    else:
        exp = _Expansion(xp, a, b)
        lhs, rhs_t = exp.squared()
        blocks = []
        for s, e in _blocks(n, chunk_size or n, 1):  # a loop over blocks of rows
            d, minima = clamped_root(xp, lhs[s:e, :] @ rhs_t, root=metric == "euclidean")
            d, more = _refine(xp, a, b, exp, d, minima, metric, s)
            blocks.append(d)
            left_over = left_over | more
    return (blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=0)), left_over


# ------------------------------------------------------------------- distances


@array_op("a", "b")
def pairwise_distances(
    a: Any, b: Any, /, *, metric: str = "euclidean", chunk_size: int | None = None
) -> Any:
    r"""Distances between every row of ``a`` ``(N, D)`` and every row of ``b`` ``(M, D)``.

    Parameters
    ----------
    a, b : real floating arrays of one feature dimension ``D``; NaN or infinite values
        raise ``ValueError`` where values can be read (as scikit-learn).
    metric : ``"euclidean"`` :math:`\sqrt{\sum_f (a_f - b_f)^2}`, ``"sqeuclidean"`` (its
        square), ``"manhattan"`` :math:`\sum_f |a_f - b_f|` or ``"cosine"``
        :math:`1 - a \cdot b / (|a| |b|)` clipped to ``[0, 2]`` (a zero row has
        similarity 0, distance 1: scikit-learn's rule).
    chunk_size : rows of ``a`` per block; temporaries then hold about
        ``chunk_size * M`` entries (``chunk_size * M * D`` for manhattan). None: one
        block for euclidean, sqeuclidean and cosine, blocks of about 4M entries for
        manhattan (one block on Dask, whose chunks bound each task).

    Returns
    -------
    ``(N, M)`` in the promoted float dtype of ``a`` and ``b``, never negative. Euclidean
    distances come from the centred matrix-product expansion (module notes), with
    cancelling entries recomputed from differences where values can be read; under
    ``jax.jit`` the first ``max(2 (N + M), 4096)`` of them per block are, and any further
    ones keep the expansion's error, about ``sqrt(eps (|a_i - c|^2 + |b_j - c|^2))`` for
    coincident points.

    >>> import array_api_strict as xp
    >>> a = xp.asarray([[0.0, 0.0], [3.0, 4.0]])
    >>> pairwise_distances(a, xp.asarray([[0.0, 0.0], [1.0, 1.0]]))
    Array([[0.        , 1.41421356],
           [5.        , 3.60555128]], dtype=array_api_strict.float64)
    >>> pairwise_distances(a, a, metric="manhattan")
    Array([[0., 7.],
           [7., 0.]], dtype=array_api_strict.float64)
    """
    xp = array_namespace(a, b)
    _check_pair(xp, a, b, ("a", "b"), metric, chunk_size)
    a, b = _as_float(xp, a, b)
    d, left_over = _run(_pairwise, a, b, finite=("a", "b"), metric=metric,
                        chunk_size=chunk_size)
    if values_readable(xp, d) and concrete_true(left_over):
        with natives_disabled():  # eager: every cancelling entry is redone
            return _pairwise(a, b, metric=metric, chunk_size=chunk_size)[0]
    return d


# ------------------------------------------------------------------ neighbours


def _exact_selected(xp: Any, train: Any, query: Any, index: Any, metric: str) -> Any:
    """Distances of the selected training points ``index`` ``(Q, k)`` to their queries."""
    q, k = index.shape
    points = xp.reshape(xp.take(train, xp.reshape(index, (-1,)), axis=0), (q, k, -1))
    if metric != "cosine":
        return _direct(xp, query[:, None, :] - points, metric)
    # 1 - cos = |u/|u| - v/|v||^2 / 2: no cancellation for nearly parallel points
    units = xp.reshape(_unit_rows(xp, xp.reshape(points, (q * k, -1))), (q, k, -1))
    gap = _unit_rows(xp, query)[:, None, :] - units
    half = xp.sum(gap * gap, axis=-1) / 2
    both = xp.any(points != 0, axis=-1) & xp.any(query != 0, axis=1, keepdims=True)
    return xp.where(both, half, xp.ones_like(half))  # a zero row: distance 1


def _search(
    train: Any, query: Any, /, *, k: int, metric: str, chunk_size: int | None
) -> tuple[Any, Any]:
    xp = array_namespace(train, query)
    n_query, n_train = query.shape[0], train.shape[0]
    dev = device(train)
    if n_query == 0:
        return (xp.zeros((0, k), dtype=train.dtype, device=dev),
                xp.zeros((0, k), dtype=default_int(xp, dev), device=dev))
    per_row = n_train * (train.shape[1] if metric == "manhattan" else 1)
    if metric == "cosine":
        qn, tn_t = _unit_rows(xp, query), xp.matrix_transpose(_unit_rows(xp, train))
    elif metric != "manhattan":
        key_lhs, key_rhs_t = _Expansion(xp, query, train).keys()
    dists, indices = [], []
    lazy = is_dask_array(query)
    for s, e in _blocks(n_query, chunk_size, per_row, lazy=lazy):  # a loop over query blocks
        q = query[s:e, :]
        if metric == "manhattan":
            keys = _manhattan_block(xp, q, train)
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
    """The ``k`` nearest training points of each query: ``(distances, indices)``.

    ``x_train`` ``(N, D)`` and ``x_query`` ``(Q, D)`` are real floating (finite where
    values can be read); ``1 <= k <= N``. Both results are ``(Q, k)``: distances
    (:func:`pairwise_distances` ``metric``) ascending in the promoted float dtype, equal
    distances in training-index order; indices in the default integer dtype. Queries go
    in blocks of ``chunk_size`` rows (default: about 4M entries per block), so memory
    stays ``O(chunk_size * N)``; on Dask the default is one block, the arrays' own chunks
    bounding each task, and a training set chunked along its samples is searched chunk
    by chunk (each chunk's ``k`` best, then a merge, ties still in index order). The
    candidates are ranked on the matrix-product
    expansion and the ``k`` kept ones re-measured from their differences: the returned
    distances are exact to rounding (0 for a duplicate), and only points whose distances
    differ by less than the expansion's error can be ranked differently from exact
    arithmetic.

    >>> import array_api_strict as xp
    >>> train = xp.asarray([[0.0], [3.0], [1.0], [-1.0]])
    >>> d, i = kneighbors(train, xp.asarray([[0.0], [2.0]]), k=3)
    >>> d
    Array([[0., 1., 1.],
           [1., 1., 2.]], dtype=array_api_strict.float64)
    >>> i
    Array([[0, 2, 3],
           [1, 2, 0]], dtype=array_api_strict.int64)
    """
    xp = array_namespace(x_train, x_query)
    _check_pair(xp, x_train, x_query, ("x_train", "x_query"), metric, chunk_size)
    k = _check_k(k, x_train.shape[0])
    x_train, x_query = _as_float(xp, x_train, x_query)
    return _run(_search, x_train, x_query, finite=("x_train", "x_query"), k=k, metric=metric,
                chunk_size=chunk_size)


def _run(
    fn: Any, *arrays: Any, finite: tuple[str, ...] = (), labels: str = "", **static: Any
) -> Any:
    """``fn(*arrays, **static)``, compiled whole on JAX (see ``run_compiled``).

    There the value checks the validation deferred run inside the compiled function and
    raise here: ``finite`` names the leading float arrays, ``labels`` the integer array
    after them (checked against ``static["num_classes"]``).
    """
    if not on_jax(*arrays):
        return fn(*arrays, **static)
    out, flags = run_compiled(
        _checked, arrays, core=fn, finite=len(finite), labels=bool(labels), **static
    )
    xp = array_namespace(flags)
    if values_readable(xp, flags):
        for i, name in enumerate(finite):
            if not bool(flags[i]):
                msg = f"`{name}` holds NaN or infinite values"
                raise ValueError(msg)
        if labels and not bool(flags[len(finite)]):
            _check_label_range(xp, arrays[len(finite)], static["num_classes"], labels)
    return out


def _checked(*arrays: Any, core: Any, finite: int, labels: bool, **static: Any) -> Any:
    """``core``'s result and the value checks of its inputs, as one boolean array."""
    xp = array_namespace(*arrays)
    flags = [xp.all(xp.isfinite(arrays[i])) for i in range(finite)]
    if labels:
        y = arrays[finite]
        flags.append(xp.all((y >= 0) & (y < static["num_classes"])))
    return core(*arrays, **static), xp.stack(flags)


def _votes(
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
    xp = array_namespace(x_train, y_train, x_query)
    _check_pair(xp, x_train, x_query, ("x_train", "x_query"), metric, chunk_size)
    check_choice(weights, "weights", WEIGHTS)
    k = _check_k(k, x_train.shape[0])
    num_classes = _check_labels(xp, y_train, x_train.shape[0], num_classes)
    x_train, x_query = _as_float(xp, x_train, x_query)
    return xp, _run(_knn_vote_core, x_train, x_query, y_train, finite=("x_train", "x_query"),
                    labels="y_train", k=k, metric=metric,
                    weights=weights, num_classes=num_classes, chunk_size=chunk_size)


def _knn_vote_core(
    x_train: Any, x_query: Any, y_train: Any, /, *, k: int, metric: str, weights: str,
    num_classes: int, chunk_size: int | None,
) -> Any:
    xp = array_namespace(x_train, y_train, x_query)
    distances, index = _search(x_train, x_query, k=k, metric=metric, chunk_size=chunk_size)
    labels = xp.reshape(xp.take(y_train, xp.reshape(index, (-1,))), index.shape)
    return _votes(xp, labels, distances, num_classes, weights)


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

    ``y_train`` ``(N,)`` holds integer labels in ``[0, num_classes)``; ``num_classes``
    defaults to ``max(y_train) + 1`` (required where values cannot be read, e.g. under
    ``jax.jit``). Neighbours are those of :func:`kneighbors`. Each neighbour votes 1
    (``weights="uniform"``) or ``1 / distance`` (``"distance"``; a query with exact
    matches, distance 0, gives its exact matches weight 1 and every other neighbour 0,
    as scikit-learn). A tie between classes goes to the smallest label (scikit-learn's
    rule). Returns ``(Q,)`` labels in the default integer dtype.

    >>> import array_api_strict as xp
    >>> train = xp.asarray([[0.0], [1.0], [2.0], [10.0]])
    >>> y = xp.asarray([1, 0, 0, 1])
    >>> knn_predict(train, y, xp.asarray([[0.2], [9.0]]), k=3)
    Array([0, 0], dtype=array_api_strict.int64)
    >>> knn_predict(train, y, xp.asarray([[0.2], [9.0]]), k=3, weights="distance")
    Array([1, 1], dtype=array_api_strict.int64)
    """
    xp, votes = _knn_votes(x_train, y_train, x_query, k, metric, weights, num_classes,
                           chunk_size)
    return argmax_last(xp, votes)  # the first maximum: the smallest label


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
    """Class probabilities ``(Q, num_classes)``: each query's votes over their total.

    Votes as in :func:`knn_predict`; the float dtype is that of the points. Uniform
    weights give the fraction of the ``k`` neighbours in each class. Equals
    scikit-learn's ``KNeighborsClassifier(algorithm="brute").predict_proba`` where every
    class occurs in ``y_train``.

    >>> import array_api_strict as xp
    >>> train = xp.asarray([[0.0], [1.0], [2.0], [10.0]])
    >>> knn_predict_proba(train, xp.asarray([1, 0, 0, 2]), xp.asarray([[0.5]]), k=2)
    Array([[0.5, 0.5, 0. ]], dtype=array_api_strict.float64)
    """
    xp, votes = _knn_votes(x_train, y_train, x_query, k, metric, weights, num_classes,
                           chunk_size)
    return votes / xp.sum(votes, axis=1, keepdims=True)


# ------------------------------------------------------------- cross-validation


def _check_k_choices(k_choices: Any) -> tuple[int, ...]:
    if isinstance(k_choices, (str, bytes)) or not isinstance(k_choices, Sequence):
        msg = f"`k_choices` must be a sequence of ints, got {k_choices!r}"
        raise TypeError(msg)
    if not k_choices:
        msg = "`k_choices` must not be empty"
        raise ValueError(msg)
    for k in k_choices:
        if isinstance(k, bool) or not isinstance(k, int):
            msg = f"`k_choices` must hold ints, got {k!r}"
            raise TypeError(msg)
        if k < 1:
            msg = f"`k_choices` must hold values >= 1, got {k}"
            raise ValueError(msg)
    return tuple(k_choices)


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

    ``x`` ``(N, D)`` real floating, ``y`` ``(N,)`` integer labels (``num_classes`` is
    ``max(y) + 1``). The samples are split in order, without shuffling, into
    ``num_folds`` contiguous folds like ``numpy.array_split`` (the first ``N % num_folds``
    folds are one longer; scikit-learn's ``KFold`` splits alike, ``torch.chunk`` does
    not). Fold ``j`` is validated on a classifier trained on the other folds, in their
    order. Returns ``(len(k_choices), num_folds)`` accuracies in the float dtype of
    ``x``. ``2 <= num_folds <= N``; every ``k`` must fit the smallest training split.
    One neighbour search per fold serves every ``k``. Runs eagerly.

    >>> import array_api_strict as xp
    >>> x = xp.asarray([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> y = xp.asarray([0, 0, 0, 1, 1, 1])
    >>> knn_cross_validate(x, y, k_choices=(1, 3), num_folds=3)
    Array([[1., 1., 1.],
           [0., 1., 0.]], dtype=array_api_strict.float64)
    """
    reject_lazy("knn_cross_validate", "reads max(y) to count the classes", x, y)
    xp = array_namespace(x, y)
    _check_points(xp, x, "x")
    check_choice(metric, "metric", METRICS)
    _check_finite(xp, x, "x")
    n = x.shape[0]
    if isinstance(num_folds, bool) or not isinstance(num_folds, int):
        msg = f"`num_folds` must be an int, got {num_folds!r}"
        raise TypeError(msg)
    if not 2 <= num_folds <= n:
        msg = f"`num_folds`={num_folds} must lie in [2, {n}] (the number of samples)"
        raise ValueError(msg)
    k_choices = _check_k_choices(k_choices)
    num_classes = _check_labels(xp, y, n, None, "y")
    bounds = _fold_bounds(n, num_folds)
    smallest_train = n - max(stop - start for start, stop in bounds)
    if max(k_choices) > smallest_train:
        msg = (
            f"`k_choices` holds k={max(k_choices)} but the smallest training split has "
            f"{smallest_train} samples (N={n}, num_folds={num_folds})"
        )
        raise ValueError(msg)
    return _run(_cross_validate_core, x, y, finite=("x",), labels="y", k_choices=k_choices,
                bounds=tuple(bounds),
                metric=metric, num_classes=num_classes)


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
        distances, index = _search(train, x[start:stop, :], k=k_max, metric=metric,
                                   chunk_size=None)
        neighbour_labels = xp.reshape(xp.take(labels, xp.reshape(index, (-1,))), index.shape)
        truth = y[start:stop]
        accuracy = []
        for k in k_choices:
            votes = _votes(xp, neighbour_labels[:, :k], distances[:, :k], num_classes,
                           "uniform")
            predicted = xp.astype(argmax_last(xp, votes), truth.dtype)
            accuracy.append(xp.mean(xp.astype(predicted == truth, x.dtype)))
        columns.append(xp.stack(accuracy))
    return xp.stack(columns, axis=1)


@array_op("accuracies")
def best_k(k_choices: Sequence[int], accuracies: Any, /) -> Any:
    """The ``k`` with the highest mean accuracy over folds; ties go to the smallest ``k``.

    ``accuracies`` ``(len(k_choices), num_folds)`` as returned by
    :func:`knn_cross_validate`. Returns a 0-d array of the default integer dtype on the
    device of ``accuracies`` (``int(best_k(...))`` gives a Python int).

    >>> import array_api_strict as xp
    >>> best_k((5, 1, 3), xp.asarray([[0.9, 0.8], [0.8, 0.9], [0.7, 0.9]]))
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
