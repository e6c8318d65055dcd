"""Top-k: the ``k`` smallest entries along the last axis, which the standard lacks.

Result order is fixed on every path: ascending values, and equal values in index order
(a stable sort's first ``k``). NaN entries sort last, in an unspecified order.

Native paths:

- NumPy: a threshold from group minima, then an exact sort of the few candidates. The
  columns are split into ``G`` interleaved groups; the ``k``-th smallest group minimum
  ``t`` (``np.partition`` over ``G`` values per row) bounds the answer, since ``k``
  groups hold a value ``<= t``. Every entry ``<= t`` is a candidate, ties included, and
  a ``lexsort`` by (row, value, column) of the candidates gives the stable order. This is
  several times faster than ``np.argpartition`` over the whole row, whose choice among
  values tied at the boundary is arbitrary anyway.
- PyTorch: ``torch.topk`` of ``k + 1`` entries. Its order among equal values is not
  specified, so rows whose ``k``-th and ``(k + 1)``-th values tie are redone with a
  stable sort, and the ``k`` kept entries are reordered by (value, index).
- JAX: ``jax.lax.top_k`` of the negated values, documented to put the lower index first
  among equal values; jit-able.
- Dask (NumPy chunks): per chunk of columns, NumPy's path above gives the chunk's ``k``
  smallest (values and global columns, one structured array, so each chunk of the input
  is read by one task and released), then one stable sort of the ``k`` candidates of
  every chunk. Among equal values the candidates lie in column order (chunks in order,
  each in index order), so the merge keeps index order; the graph stays lazy.
  ``dask.array.topk`` is not used: its choice among tied values is unspecified. Other
  chunk types take the fallback (which gathers each row into one chunk).

The native paths are taken only while delegation is on (see :mod:`xpops._lib.native`);
the pure-standard fallback is ``argsort(stable=True)`` and its first ``k`` columns.
"""

from __future__ import annotations

from typing import Any

import array_api_compat

from .namespace import default_int, device
from .native import natives_enabled
from .primitives import argsort_last, take_along_last_axis

__all__ = ["smallest_k"]

# rows shorter than this are sorted outright on NumPy: the threshold does not pay off
_NUMPY_MIN_COLUMNS = 512


def smallest_k(xp: Any, x: Any, k: int, /) -> tuple[Any, Any]:
    """``(values, indices)`` of the ``k`` smallest entries of ``x`` along its last axis.

    ``x`` is a real floating array ``(*batch, M)`` and ``1 <= k <= M`` (callers
    validate). Both results have shape ``(*batch, k)``: values ascending, ties in index
    order; indices in the namespace's default integer dtype.
    """
    batch, m = tuple(x.shape[:-1]), x.shape[-1]
    flat = xp.reshape(x, (-1, m))
    found = _native_smallest_k(flat, k) if natives_enabled() else None
    if found is None:
        index = argsort_last(xp, flat)[:, :k]
        values = take_along_last_axis(xp, flat, index)
    else:
        values, index = found
    int_dtype = default_int(xp, device(x))
    if index.dtype != int_dtype:
        index = xp.astype(index, int_dtype)
    return xp.reshape(values, (*batch, k)), xp.reshape(index, (*batch, k))


def _native_smallest_k(x: Any, k: int) -> tuple[Any, Any] | None:
    if array_api_compat.is_numpy_array(x):
        return _numpy_smallest_k(x, k)
    if array_api_compat.is_torch_array(x):
        return _torch_smallest_k(x, k)
    if array_api_compat.is_dask_array(x):
        return _dask_smallest_k(x, k)
    if array_api_compat.is_jax_array(x):
        import jax
        import jax.numpy as jnp

        # + 0 turns -0.0 into +0.0, which top_k's total order would put after +0.0
        _, index = jax.lax.top_k(-(x + 0), k)
        return jnp.take_along_axis(x, index, axis=-1), index
    return None


def _numpy_smallest_k(x: Any, k: int) -> tuple[Any, Any]:
    import numpy as np

    q, m = x.shape
    group = max(8, int((m / k) ** 0.5))
    groups = m // group
    if m < _NUMPY_MIN_COLUMNS or groups < 2 * k or q == 0:
        index = np.argsort(x, axis=-1, kind="stable")[:, :k]
        return np.take_along_axis(x, index, axis=-1), index
    # group j holds columns j, j + G, j + 2G, ...: the minima are elementwise minima of
    # contiguous rows of length G, which vectorise well
    body = x[:, : group * groups].reshape(q, group, groups)
    minima = np.fmin.reduce(body, axis=1)  # NaN-free minima: NaN never hides a value
    tail = m - group * groups
    if tail:
        tail_minima = np.fmin.reduce(x[:, group * groups :], axis=1, keepdims=True)
        minima = np.concatenate([minima, tail_minima], axis=1)
    threshold = np.partition(minima, k - 1, axis=1)[:, k - 1]
    rows, which = np.nonzero(minima <= threshold[:, None])
    full = which < groups
    r, j = rows[full], which[full]
    values = body[r, :, j].ravel()
    cols = (np.arange(group) * groups + j[:, None]).ravel()
    owner = np.repeat(r, group)
    if tail and not full.all():
        rt = rows[~full]
        values = np.concatenate([values, x[rt, group * groups :].ravel()])
        cols = np.concatenate([cols, np.tile(np.arange(group * groups, m), rt.size)])
        owner = np.concatenate([owner, np.repeat(rt, tail)])
    keep = values <= threshold[owner]  # NaN never passes: a NaN row has a NaN threshold
    values, cols, owner = values[keep], cols[keep], owner[keep]
    counts = np.bincount(owner, minlength=q)
    if (counts < k).any():  # rows with NaN: the threshold test drops them
        index = np.argsort(x, axis=-1, kind="stable")[:, :k]
        return np.take_along_axis(x, index, axis=-1), index
    order = np.lexsort((cols, values, owner))
    start = np.cumsum(counts) - counts
    pick = order[start[:, None] + np.arange(k)]
    return values[pick], cols[pick]


def _torch_smallest_k(x: Any, k: int) -> tuple[Any, Any]:
    import torch

    m = x.shape[-1]
    values, index = torch.topk(x, min(k + 1, m), dim=-1, largest=False, sorted=True)
    index = index[:, :k]
    if k < m:
        # which of the tied entries topk kept is unspecified (NaN: which NaN)
        tied = (values[:, k] == values[:, k - 1]) | torch.isnan(values[:, k])
        if bool(tied.any()):
            rows = torch.nonzero(tied)[:, 0]
            stable = torch.sort(x[rows], dim=-1, stable=True).indices[:, :k]
            index = index.index_put((rows,), stable)
    index = torch.sort(index, dim=-1).values  # index order first, then a stable sort
    values = torch.gather(x, -1, index)
    order = torch.sort(values, dim=-1, stable=True).indices
    return torch.gather(values, -1, order), torch.gather(index, -1, order)



def _chunk_candidates(block: Any, k: int, block_info: Any = None) -> Any:
    """One chunk's ``k`` smallest per row as a structured array of (value, column)."""
    import numpy as np

    start = block_info[0]["array-location"][1][0]  # the chunk's first column
    values, index = _numpy_smallest_k(block, min(k, block.shape[1]))
    out = np.empty(values.shape, dtype=[("v", block.dtype), ("i", np.int64)])
    out["v"], out["i"] = values, index + start
    return out


def _merge_candidates(block: Any, k: int) -> Any:
    """The ``k`` smallest of every chunk's candidates: a stable sort by value keeps the
    column order among equal values, since the chunks' candidates come in column order."""
    import numpy as np

    order = np.argsort(block["v"], axis=-1, kind="stable")[:, :k]
    return np.take_along_axis(block, order, axis=-1)


def _dask_smallest_k(x: Any, k: int) -> tuple[Any, Any] | None:
    import numpy as np

    if not isinstance(x._meta, np.ndarray):  # chunks of another library: the fallback
        return None
    rows = x.chunks[0]
    widths = tuple(min(k, c) for c in x.chunks[1])
    pair = np.dtype([("v", x.dtype), ("i", np.int64)])
    # one task per chunk yields both the values and the columns, so each chunk of x is
    # read once and released (two consumers of it would keep every chunk in memory)
    found = x.map_blocks(_chunk_candidates, k, chunks=(rows, widths), dtype=pair,
                         meta=np.empty((0, 0), dtype=pair))
    best = found.rechunk({1: -1}).map_blocks(_merge_candidates, k, chunks=(rows, (k,)),
                                             dtype=pair, meta=np.empty((0, 0), dtype=pair))
    return best["v"], best["i"]
