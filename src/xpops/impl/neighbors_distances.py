"""Pairwise distances: euclidean, squared euclidean, manhattan and cosine kernels.

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
"""

from __future__ import annotations

from typing import Any

import array_api_compat
from array_api_compat import is_dask_array

from .._lib.inputs import array_op
from .._lib.namespace import array_namespace, device, values_readable
from .._lib.native import natives_disabled
from .._lib.primitives import clamped_root, nonzero_padded, set_masked, set_pairs, whole_axis
from .._lib.validation import concrete_true
from .neighbors_common import BLOCK_ELEMENTS, as_float, check_pair, row_blocks, run_checked

__all__ = [
    "pairwise_distances",
    "Expansion",
    "unit_rows",
    "manhattan_block",
    "direct_distances",
]

_REFINE = 1.0 / 16  # relative size below which an expanded squared distance is redone
_REFINE_BATCH = 1 << 20  # differences formed at once when redoing entries


# ------------------------------------------------------------------- kernels


def _centre(xp: Any, a: Any, b: Any) -> Any:
    """A common per-feature centre ``(1, D)`` of ``a`` and ``b`` (see the module notes)."""
    total = xp.sum(a, axis=0) + xp.sum(b, axis=0)
    mean = total / (a.shape[0] + b.shape[0])
    spread = xp.maximum(xp.max(a, axis=0), xp.max(b, axis=0)) - xp.minimum(
        xp.min(a, axis=0), xp.min(b, axis=0)
    )
    return xp.reshape(xp.where(spread >= 1, xp.round(mean), mean), (1, -1))


class Expansion:
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


def unit_rows(xp: Any, x: Any) -> Any:
    """Rows scaled to unit norm; zero rows stay zero (cosine similarity 0, distance 1)."""
    norm = xp.sqrt(xp.sum(x * x, axis=1, keepdims=True))
    return x / xp.where(norm > 0, norm, xp.ones_like(norm))


def _cosine_distance(xp: Any, similarity: Any) -> Any:
    zero = xp.zeros((), dtype=similarity.dtype, device=device(similarity))
    return xp.clip(1 - similarity, min=zero, max=zero + 2)


def manhattan_block(xp: Any, a: Any, b: Any) -> Any:
    """``(n, m)`` manhattan distances of two blocks of points (``n * m * D`` temporaries)."""
    return xp.sum(xp.abs(a[:, None, :] - b[None, :, :]), axis=-1)


def direct_distances(xp: Any, diff: Any, metric: str) -> Any:
    """Distances from differences ``(..., D)`` (euclidean, sqeuclidean, manhattan)."""
    if metric == "manhattan":
        return xp.sum(xp.abs(diff), axis=-1)
    squared = xp.sum(diff * diff, axis=-1)
    return xp.sqrt(squared) if metric == "euclidean" else squared


def _refine(xp: Any, a: Any, b: Any, exp: Expansion, d: Any, minima: Any, metric: str,
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
        return xp.where(mask, direct_distances(xp, diff, metric), d), False
    if not readable:
        budget = min(d.shape[0] * d.shape[1], max(2 * (d.shape[0] + d.shape[1]), 4096))
        rows, cols = nonzero_padded(xp, mask, budget)
        diff = xp.take(a, rows + start, axis=0) - xp.take(b, cols, axis=0)
        left_over = xp.sum(xp.astype(mask, xp.int32)) > budget
        return set_pairs(xp, d, rows, cols, direct_distances(xp, diff, metric)), left_over
    rows, cols = _true_entries(xp, mask)
    if not rows.shape[0]:
        return d, False
    values = []
    for s, e in row_blocks(rows.shape[0], None, a.shape[1] * BLOCK_ELEMENTS // _REFINE_BATCH):
        r, c = rows[s:e], cols[s:e]  # a loop over batches of entries
        diff = xp.take(a, r + start, axis=0) - xp.take(b, c, axis=0)
        values.append(direct_distances(xp, diff, metric))
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
        spans = row_blocks(n, chunk_size, m * a.shape[1], lazy=is_dask_array(a))
        blocks = [manhattan_block(xp, a[s:e, :], b) for s, e in spans]
    elif metric == "cosine":
        an, bn_t = unit_rows(xp, a), xp.matrix_transpose(unit_rows(xp, b))
        spans = row_blocks(n, chunk_size or n, 1)
        blocks = [_cosine_distance(xp, an[s:e, :] @ bn_t) for s, e in spans]
    else:
        exp = Expansion(xp, a, b)
        lhs, rhs_t = exp.squared()
        blocks = []
        for s, e in row_blocks(n, chunk_size or n, 1):  # a loop over blocks of rows
            d, minima = clamped_root(xp, lhs[s:e, :] @ rhs_t, root=metric == "euclidean")
            d, more = _refine(xp, a, b, exp, d, minima, metric, s)
            blocks.append(d)
            left_over = left_over | more
    return (blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=0)), left_over


# ---------------------------------------------------------------------- the op


@array_op("a", "b")
def pairwise_distances(
    a: Any, b: Any, /, *, metric: str = "euclidean", chunk_size: int | None = None
) -> Any:
    r"""Distances between every row of ``a`` and every row of ``b``.

    Euclidean distances come from the centred matrix-product expansion (module notes),
    with cancelling entries recomputed from differences where values can be read; under
    ``jax.jit`` the first ``max(2 (N + M), 4096)`` of them per block are, and any further
    ones keep the expansion's error, about ``sqrt(eps (|a_i - c|^2 + |b_j - c|^2))`` for
    coincident points.

    Parameters
    ----------
    a, b : array
        ``(N, D)`` and ``(M, D)`` real floating points of one feature dimension ``D``.
    metric : {"euclidean", "sqeuclidean", "manhattan", "cosine"}, default "euclidean"
        ``"euclidean"`` :math:`\sqrt{\sum_f (a_f - b_f)^2}`, ``"sqeuclidean"`` (its
        square), ``"manhattan"`` :math:`\sum_f |a_f - b_f|` or ``"cosine"``
        :math:`1 - a \cdot b / (|a| |b|)` clipped to ``[0, 2]`` (a zero row has
        similarity 0, distance 1: scikit-learn's rule).
    chunk_size : int or None, default None
        Rows of ``a`` per block, at least 1; temporaries then hold about
        ``chunk_size * M`` entries (``chunk_size * M * D`` for manhattan). None: one
        block for euclidean, sqeuclidean and cosine, blocks of about 4M entries for
        manhattan (one block on Dask, whose chunks bound each task).

    Returns
    -------
    array
        ``(N, M)`` distances in the promoted float dtype of ``a`` and ``b``, never
        negative, on the device of ``a``.

    Raises
    ------
    TypeError
        When ``a`` or ``b`` is not real floating, or ``chunk_size`` is not an int or None.
    ValueError
        When ``a`` or ``b`` is not 2-D, their feature dimensions differ, ``metric`` is
        unknown, ``chunk_size < 1``, or (where values can be read, as scikit-learn) they
        hold NaN or infinite values.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import pairwise_distances
    >>> a = xp.asarray([[0.0, 0.0], [3.0, 4.0]])
    >>> pairwise_distances(a, xp.asarray([[0.0, 0.0], [1.0, 1.0]]))
    Array([[0.    , 1.4142],
           [5.    , 3.6056]], dtype=array_api_strict.float64)
    >>> pairwise_distances(a, a, metric="manhattan")
    Array([[0., 7.],
           [7., 0.]], dtype=array_api_strict.float64)
    """
    xp = array_namespace(a, b)
    chunk_size = check_pair(xp, a, b, ("a", "b"), metric, chunk_size)
    a, b = as_float(xp, a, b)
    d, left_over = run_checked(_pairwise, a, b, finite=("a", "b"), metric=metric,
                               chunk_size=chunk_size)
    if values_readable(xp, d) and concrete_true(left_over):
        with natives_disabled():  # eager: every cancelling entry is redone
            return _pairwise(a, b, metric=metric, chunk_size=chunk_size)[0]
    return d
