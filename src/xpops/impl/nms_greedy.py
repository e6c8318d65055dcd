"""The exact greedy NMS behind :func:`xpops.nms` and :func:`xpops.batched_nms`, built on
the column helpers (IoU, suppression blocks) of :mod:`xpops.impl.nms_blocks`.

Exact, with no N x N matrix. The greedy result over sorted boxes is the unique fixed
point of "keep i unless a kept j < i overlaps it above the threshold", and it is found
in up to three phases:

0. *Few survivors*, for :func:`nms` on at least ``few_min`` candidates (plain areas,
   ``0 <= iou_threshold < 1``), before any full sort: the best ``few_block`` remaining
   candidates (the candidates above a score judged on a sample, sorted) are resolved
   as a block, and the boxes kept drop the candidates they suppress. A grid of cells
   says which kept boxes may reach each candidate (narrowed by the overlap an IoU above
   the threshold needs): each candidate meets the best of them, and only those that
   survive it in a cell several kept boxes reach meet them all, about ``N`` pairs in
   all rather than ``kept x N``, and no sort of the candidates. Once a block keeps more
   than half of its boxes (most survive), the rest is sorted and goes on to phases 1
   and 2.
1. *Blocked*: take the next ``B`` candidates, resolve them among themselves (a ``B x
   B`` suppression matrix, iterated to its fixed point, which takes as many rounds as
   the block's longest suppression chain), then drop every later candidate that a box
   kept in this block suppresses (``kept x rest``) and compact. Fast when few survive
   (clusters die in a few blocks); its cost is about ``kept x N``.
2. *Sparse*, once a block suppresses few of the rest (most boxes survive): candidate
   pairs are those whose extents overlap along x (or y, whichever gives fewer), found
   by a sort and ``searchsorted`` sweep and generated in chunks; their IoU gives the
   suppression edges, and the same fixed point is iterated over the edge list with
   segment counts (a cumulative sum over edges sorted by target). Cost about the
   number of overlapping pairs, not ``N^2``.

Everything after phases 0 and 1 only needs the remaining candidates, since they already
survived every box kept before them. Python loops run over blocks, pair chunks and
fixed-point rounds, never over boxes or pairs; memory stays O(N * block).

The sizes of the blocks, chunks and grid and the points where one phase hands over to
the next are the fields of :class:`GreedyTuning`, passed as ``tuning``: they change the
speed, never the result.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .._lib.control import while_loop
from .._lib.counting import bincount
from .._lib.indexing import take_nonnegative as _take
from .._lib.namespace import default_int, device
from .._lib.topk import smallest_k
from .._lib.validation import check_count
from .nms_blocks import (
    box_columns,
    column_iou,
    earlier_pairs,
    exceeds,
    plain_areas,
    resolve_all,
    select_columns,
    strict_threshold,
    survivors,
)

__all__ = ["GreedyTuning", "DEFAULT_TUNING", "greedy_nms"]


@dataclass(frozen=True)
class GreedyTuning:
    """Sizes and switch-over points of the greedy engine's phases (module notes).

    They trade speed against memory and Python overhead; the result never depends on
    them: every setting gives the same indices. Tests pass small values so that small
    inputs reach every phase.
    """

    first_block: int = 64
    """Candidates resolved together in phase 1's first block. Larger blocks mean fewer
    loop rounds but a ``block x block`` matrix per round and longer suppression chains
    to iterate; the block doubles while few of its boxes survive."""

    max_block: int = 1024
    """The largest phase-1 block: caps the ``block x block`` matrix that doubling
    reaches."""

    sparse_min: int = 512
    """Remaining candidates from which phase 2 (the pair sweep) may take over; below
    it, setting up the sweep costs more than finishing in blocks."""

    pair_chunk: int = 1 << 20
    """Candidate pairs evaluated at once in phase 2: memory of the pair temporaries
    against the number of loop rounds."""

    few_min: int = 2048
    """Candidates from which phase 0 (few survivors, before any full sort) is tried;
    on fewer, a full sort is cheap."""

    few_block: int = 128
    """Candidates resolved together in each phase-0 block: more boxes settled per
    round against a larger ``block x block`` matrix and more kept boxes per grid
    table. At most 255 (the grid's weights are uint8)."""

    cells: int = 64
    """At most about this many grid cells along each axis in phase 0: finer cells
    pair each candidate with fewer kept boxes, but the table of cells by kept boxes
    grows with their square."""

    cell_divs: int = 4
    """Grid cells per largest box extent in phase 0: finer cells narrow the kept boxes
    that reach a cell, at the cost of more cells per kept box."""

    sample: int = 512
    """Scores sampled to pick a phase-0 block without sorting every candidate: a larger
    sample judges the block's score bound better but costs a larger sort."""

    dense_pairs: int = 1 << 15
    """Phase 0 pairs every kept box with every candidate up to this many pairs (one
    plain pass); beyond, it goes through the grid of cells."""

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name not in ("few_block", "dense_pairs"):
                check_count(getattr(self, f.name), f.name, minimum=1)
        check_count(self.few_block, "few_block", minimum=1, maximum=255)
        check_count(self.dense_pairs, "dense_pairs")


DEFAULT_TUNING = GreedyTuning()


def greedy_nms(
    xp: Any, xyxy: Any, scores: Any, labels: Any, t: float, s_thr: float | None,
    limit: int | None, offset: int, *, tuning: GreedyTuning = DEFAULT_TUNING,
) -> Any:
    """Kept indices (default integer dtype) of greedy NMS over validated ``(N, 4)`` xyxy
    boxes and ``(N,)`` scores; ``labels`` (or None) keep classes apart, ``t`` is the IoU
    threshold, ``s_thr`` the score threshold (or None), ``limit`` the most indices,
    ``tuning`` the phases' sizes (the same result for any).

    Examples
    --------
    >>> import array_api_strict as xp
    >>> boxes = xp.asarray([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
    >>> scores = xp.asarray([0.9, 0.8, 0.7])
    >>> greedy_nms(xp, boxes, scores, None, 0.5, None, None, 0)
    Array([0, 2], dtype=array_api_strict.int64)
    >>> greedy_nms(xp, boxes, scores, xp.asarray([0, 1, 0]), 0.5, None, None, 0)
    Array([0, 1, 2], dtype=array_api_strict.int64)
    """
    dev = device(xyxy)
    int_dtype = default_int(xp, dev)
    t = strict_threshold(xp, xyxy.dtype, t)
    if labels is None and 0 <= t < 1 and xyxy.shape[0] >= tuning.few_min and limit != 0:
        found = _few_first(xp, xyxy, scores, t, s_thr, limit, offset, tuning)
        if found is not None:
            return xp.astype(found, int_dtype)
    order = _sorted_candidates(xp, scores, s_thr)
    if order.shape[0] == 0 or limit == 0:
        return xp.zeros((0,), dtype=int_dtype, device=dev)
    sorted_labels = None if labels is None else _take(xp, labels, order)
    cols = box_columns(xp, _take(xp, xyxy, order, axis=0), offset)
    kept = _greedy(xp, cols, sorted_labels, t, offset, limit, tuning)
    return xp.astype(_take(xp, order, kept), int_dtype)


# ------------------------------------------------------------------ phase 1: blocked


def _sorted_candidates(xp: Any, scores: Any, score_threshold: float | None) -> Any:
    """Indices of the candidates by decreasing score, equal scores in input order."""
    if score_threshold is None:
        return xp.argsort(scores, descending=True, stable=True)
    (idx,) = xp.nonzero(scores >= score_threshold)
    order = xp.argsort(_take(xp, scores, idx), descending=True, stable=True)
    return _take(xp, idx, order)


def _greedy(
    xp: Any, cols: Any, labels: Any, t: float, offset: int, limit: int | None,
    tuning: GreedyTuning, block: int | None = None, plain: bool = False,
) -> Any:
    """Positions (ascending) kept by greedy NMS over columns ``(5, m)`` in the given order
    (``block``: the first block's size, by default ``tuning.first_block``; ``plain``: the
    areas are known to pass :func:`plain_areas`)."""
    dev = device(cols)
    pos = xp.arange(cols.shape[1], dtype=default_int(xp, dev), device=dev)
    kept: list[Any] = []
    n_kept = 0
    sparse_checked = t < 0  # a negative threshold suppresses disjoint boxes: no sweep
    guard = not (plain or plain_areas(xp, cols))
    block = tuning.first_block if block is None else block
    while cols.shape[1] > 0:
        b = min(block, cols.shape[1])
        head, lab = cols[:, :b], None if labels is None else labels[:b]
        keep = resolve_all(xp, exceeds(xp, head, head, t, offset, lab, lab, guard)
                           & earlier_pairs(xp, b, dev))
        winners, win_lab, idx = select_columns(xp, head, lab, keep)
        k = idx.shape[0]
        kept.append(_take(xp, pos, idx))
        n_kept += k
        rest_n = cols.shape[1] - b
        if rest_n == 0 or (limit is not None and n_kept >= limit):
            break
        cols, pos = cols[:, b:], pos[b:]
        labels = None if labels is None else labels[b:]
        alive = survivors(xp, winners, cols, t, offset, win_lab, labels, guard)
        cols, labels, idx = select_columns(xp, cols, labels, alive)
        pos = _take(xp, pos, idx)
        m = cols.shape[1]
        if not sparse_checked and m >= tuning.sparse_min and (rest_n - m) * 8 < m:
            sparse_checked = True  # most survive: the pair sweep, if pairs are sparse
            plan = _sweep_plan(xp, cols, labels, offset)
            if plan is not None and plan[0] * 8 < m * m:
                kept.append(_take(xp, pos, _sparse_greedy(xp, cols, t, offset, plan,
                                                          tuning.pair_chunk)))
                break
        if 4 * k < b:  # few survive: bigger blocks, fewer rounds
            block = min(2 * block, tuning.max_block)
    out = xp.concat(kept)
    return out if limit is None else out[: min(limit, out.shape[0])]


# ------------------------------------------------------------------- phase 2: sparse


def _window_plan(xp: Any, lo: Any, hi: Any, group: Any) -> tuple[int, Any, Any]:
    """Candidate pairs along one axis: ``(count, order, counts)``.

    In ``order`` (by group, then ``lo``), box ``order[p]`` may overlap only boxes
    ``order[q]`` with ``p < q <= p + counts[p]``: same group and ``lo_q <= hi_p``.
    """
    m = lo.shape[0]
    dev = device(lo)
    int_dtype = default_int(xp, dev)
    by_lo = xp.argsort(lo, stable=True)
    lo_sorted = _take(xp, lo, by_lo)
    if group is None:
        order = by_lo
        end = xp.searchsorted(lo_sorted, _take(xp, hi, order), side="right")
    else:
        g = _take(xp, group, by_lo)
        regroup = xp.argsort(g, stable=True)  # position in lo order = rank of lo
        order = _take(xp, by_lo, regroup)
        gs = _take(xp, g, regroup)
        dense = xp.cumulative_sum(xp.astype(gs[1:] != gs[:-1], int_dtype), include_initial=True)
        groups = int(dense[-1]) + 1
        if groups * (m + 1) >= xp.iinfo(int_dtype).max:
            return -1, order, order  # the composite key would overflow: no sweep
        key = dense * m + xp.astype(regroup, int_dtype)  # sorted: by group, then lo rank
        reach = xp.searchsorted(lo_sorted, _take(xp, hi, order), side="right")
        end = xp.searchsorted(key, dense * m + xp.astype(reach, int_dtype), side="left")
    counts = xp.astype(end, int_dtype) - xp.arange(1, m + 1, dtype=int_dtype, device=dev)
    counts = xp.clip(counts, min=0)
    return int(xp.sum(counts)), order, counts


def _sweep_plan(
    xp: Any, cols: Any, labels: Any, offset: int
) -> tuple[int, Any, Any, int] | None:
    """The sweep axis (x or y) with fewer candidate pairs, or None when neither works."""
    plans = [
        (*_window_plan(xp, cols[axis, :], cols[axis + 2, :] + offset, labels), axis)
        for axis in (0, 1)
    ]
    plans = [p for p in plans if p[0] >= 0]
    return min(plans, key=lambda p: p[0]) if plans else None


def _pair_chunks(xp: Any, counts: Any, total: int, chunk: int) -> Any:
    """``(p, q)`` position pairs ``p < q <= p + counts[p]``, about ``chunk`` at a time."""
    m = counts.shape[0]
    dev = device(counts)
    starts = xp.cumulative_sum(counts, include_initial=True)
    p0 = 0
    while p0 < m:  # a loop over chunks of pairs
        goal = xp.asarray(int(starts[p0]) + chunk, dtype=starts.dtype, device=dev)
        p1 = min(m, max(p0 + 1, int(xp.searchsorted(starts, goal, side="right")) - 1))
        c = counts[p0:p1]
        p = xp.repeat(xp.arange(p0, p1, dtype=counts.dtype, device=dev), c)
        first = xp.repeat(starts[p0:p1] - starts[p0], c)
        q = p + 1 + (xp.arange(p.shape[0], dtype=counts.dtype, device=dev) - first)
        yield p, q
        p0 = p1


def _sparse_greedy(
    xp: Any, cols: Any, t: float, offset: int, plan: tuple[int, Any, Any, int], chunk: int
) -> Any:
    """Positions kept by greedy NMS, from the suppression edges among candidate pairs
    (about ``chunk`` pairs at a time)."""
    total, order, counts, axis = plan
    m = cols.shape[1]
    dev = device(cols)
    int_dtype = default_int(xp, dev)
    swept = _take(xp, cols, order, axis=1)
    lo, hi = swept[1 - axis, :], swept[3 - axis, :]
    src_parts, dst_parts = [], []
    for p, q in _pair_chunks(xp, counts, total, chunk):
        # cheap rejection first: most candidate pairs are apart along the other axis
        far = xp.maximum(_take(xp, lo, p), _take(xp, lo, q))
        span = xp.minimum(_take(xp, hi, p), _take(xp, hi, q)) - far
        if offset:
            span = span + offset
        (near,) = xp.nonzero(span > 0)
        p, q = _take(xp, p, near), _take(xp, q, near)
        hit = column_iou(xp, _take(xp, swept, p, axis=1), _take(xp, swept, q, axis=1), offset) > t
        a, b = _take(xp, order, p[hit]), _take(xp, order, q[hit])
        src_parts.append(xp.minimum(a, b))
        dst_parts.append(xp.maximum(a, b))
    if not src_parts or sum(s.shape[0] for s in src_parts) == 0:
        return xp.arange(m, dtype=int_dtype, device=dev)
    src, dst = xp.concat(src_parts), xp.concat(dst_parts)
    by_dst = xp.argsort(dst)
    src, dst = _take(xp, src, by_dst), _take(xp, dst, by_dst)
    nodes = xp.arange(m, dtype=dst.dtype, device=dev)
    lo = xp.searchsorted(dst, nodes, side="left")
    hi = xp.searchsorted(dst, nodes, side="right")
    has_edges = hi > lo

    def body(state: tuple[Any, Any]) -> tuple[Any, Any]:
        keep, _ = state
        hits = xp.cumulative_sum(xp.astype(_take(xp, keep, src), int_dtype), include_initial=True)
        new = (_take(xp, hits, hi) - _take(xp, hits, lo)) == 0
        return new, xp.any(new != keep)

    start = (xp.ones((m,), dtype=xp.bool, device=dev), xp.any(has_edges))
    keep, _ = while_loop(lambda state: state[1], body, start)
    (out,) = xp.nonzero(keep)
    return out


# ------------------------------------------------------------ phase 0: few survivors


def _few_first(
    xp: Any, xyxy: Any, scores: Any, t: float, s_thr: float | None, limit: int | None,
    offset: int, tuning: GreedyTuning,
) -> Any:
    """Kept indices from phase 0 then, for what it leaves, the sorted phases; None when
    phase 0 does not apply (see :func:`_few_survivors`)."""
    if s_thr is None:
        picked = None
        cand_scores, boxes = scores, xyxy
    else:
        (picked,) = xp.nonzero(scores >= s_thr)  # ascending: ties stay in input order
        cand_scores, boxes = _take(xp, scores, picked), _take(xp, xyxy, picked, axis=0)
    if cand_scores.shape[0] < tuning.few_min or xp.finfo(boxes.dtype).eps > 1e-6:
        return None
    cols = box_columns(xp, boxes, offset)
    if not plain_areas(xp, cols):
        return None
    kept, rest = _few_survivors(xp, cols, cand_scores, t, offset, limit, tuning)
    n_kept = sum(k.shape[0] for k in kept)
    if rest is not None and (limit is None or n_kept < limit):
        order = _take(xp, rest, xp.argsort(_take(xp, cand_scores, rest), descending=True,
                                            stable=True))
        more = _greedy(xp, _take(xp, cols, order, axis=1), None, t, offset,
                       None if limit is None else limit - n_kept, tuning,
                       block=max(tuning.first_block, min(order.shape[0], 2 * tuning.few_block)),
                       plain=True)
        kept.append(_take(xp, order, more))
    out = xp.concat(kept)
    if limit is not None:
        out = out[: min(limit, out.shape[0])]
    return out if picked is None else _take(xp, picked, out)


def _few_survivors(
    xp: Any, cols: Any, scores: Any, t: float, offset: int, limit: int | None,
    tuning: GreedyTuning,
) -> tuple[list[Any], Any]:
    """Phase 0, without sorting all candidates: ``(kept, rest)``.

    Repeatedly the ``tuning.few_block`` best remaining candidates (:func:`_best_first`: ties
    in position order) are resolved among themselves as in phase 1, and the kept ones
    drop every candidate they suppress (all pairs when few, else :func:`_cell_kills`),
    the block's own boxes included (``t < 1``: a box's IoU with itself is exactly 1,
    and a box the block drops has an IoU above ``t`` with a kept one). ``kept``: the
    kept positions in greedy order, block by block; ``rest``: the ascending positions
    of the undecided candidates (None when none), handed to the sorted phases once a
    block keeps more than half of its boxes.
    """
    m = cols.shape[1]
    dev = device(cols)
    grid = None
    pos = None  # positions of the remaining candidates (None: all, in order)
    kept: list[Any] = []
    n_kept = 0
    while True:  # a loop over blocks
        n = m if pos is None else pos.shape[0]
        b = min(tuning.few_block, n)
        here = cols if pos is None else _take(xp, cols, pos, axis=1)
        block = _best_first(xp, scores if pos is None else _take(xp, scores, pos), b,
                            tuning.sample)
        b = block.shape[0]
        head = _take(xp, here, block, axis=1)
        keep = resolve_all(xp, exceeds(xp, head, head, t, offset, None, None, False)
                           & earlier_pairs(xp, b, dev))
        winners, _, idx = select_columns(xp, head, None, keep)
        won = _take(xp, block, idx)
        kept.append(won if pos is None else _take(xp, pos, won))
        k = idx.shape[0]
        n_kept += k
        if n == b or (limit is not None and n_kept >= limit):
            return kept, None
        if k * n <= tuning.dense_pairs:
            survive = survivors(xp, winners, here, t, offset, None, None, False)
        else:
            grid = _Grid(xp, cols, offset, tuning) if grid is None else grid
            survive = ~_cell_kills(xp, grid, winners, pos, t, offset, tuning.dense_pairs)
        (alive,) = xp.nonzero(survive)
        if alive.shape[0] == 0:
            return kept, None
        pos = alive if pos is None else _take(xp, pos, alive)
        if 2 * k > b:
            return kept, pos


def _best_first(xp: Any, scores: Any, b: int, sample_size: int) -> Any:
    """Positions of the ``b`` best candidates in greedy order (decreasing score, ties in
    position order; ``1 <= b <= n``) without sorting all ``n``: the candidates scoring
    at least a value that about ``4 b`` of them reach (judged on a strided sample of
    about ``sample_size``) are sorted instead. Fewer than ``b`` when the sample misjudges,
    still a prefix of the greedy order; :func:`smallest_k` when ties crowd the value."""
    n = scores.shape[0]
    if n <= 8 * b:
        return xp.argsort(-scores, stable=True)[:b]
    sample = xp.sort(scores[:: max(1, n // sample_size)])
    m = sample.shape[0]
    (top,) = xp.nonzero(scores >= sample[-min(m, -(-4 * b * m // n))])
    if top.shape[0] > 32 * b:
        return smallest_k(xp, -scores, b)[1]
    return _take(xp, top, xp.argsort(-_take(xp, scores, top), stable=True)[:b])


class _Grid:
    """Candidates bucketed by the cell of their low corner on a grid of at most ``cells x
    cells`` cells, about ``extent / cell_divs`` wide (:class:`GreedyTuning`; ``extent``:
    the largest box width or height, plus ``offset``), ``key = row * columns + column``.

    A box ``j`` has an IoU above ``t >= 0`` with a box ``w`` only if, along each axis,
    their overlap (``+ offset``) exceeds ``s = t (hi_w - lo_w + offset)`` (the IoU is at
    most the overlap over ``w``'s width), so ``lo_w + s - extent < lo_j < hi_w + offset
    - s``; ``s`` is shrunk by ``64 eps`` relative, more than the float rounding of
    the IoU can lift it, and ``t`` capped at 1 (no range is then empty). These
    bounds, widened by a margin of ``8 eps`` relative (far above the rounding of their
    computation), map to a range of cells: the cell of a coordinate, ``floor((v -
    origin) / size)`` clipped to the grid, is computed with monotone roundings, so it is
    monotone in ``v`` and no overlapping box is missed. The candidates are never
    sorted: a table of cells by kept boxes says which kept boxes reach each cell.
    """

    def __init__(self, xp: Any, cols: Any, offset: int, tuning: GreedyTuning) -> None:
        dev = device(cols)
        self.offset = offset
        self.eps = xp.finfo(cols.dtype).eps
        self.margin = 8 * self.eps
        low = cols[0:2, :]
        origin = xp.min(low, axis=1)
        extents = xp.max(cols[2:4, :] - low, axis=1)
        spans = xp.max(low, axis=1) - origin
        extent = [float(extents[axis]) + offset for axis in (0, 1)]
        max_cells = tuning.cells
        size = [max(extent[axis] / tuning.cell_divs, float(spans[axis]) / max_cells, 1e-30)
                for axis in (0, 1)]
        counts = [min(int(float(spans[axis]) / size[axis]) + 2, max_cells + 2) for axis in (0, 1)]
        # per axis (x, y) as columns; cells are int32: at most (cells + 2)^2 keys
        self.extent = xp.asarray(extent, dtype=cols.dtype, device=dev)[:, None]
        self.origin = origin[:, None]
        self.size = xp.asarray(size, dtype=cols.dtype, device=dev)[:, None]
        self.last = xp.asarray([c - 1 for c in counts], dtype=xp.int32, device=dev)[:, None]
        self.zero = xp.zeros((), dtype=xp.int32, device=dev)
        self.lines = [xp.arange(c, dtype=xp.int32, device=dev)[None, :] for c in counts]
        cells = self._cells(xp, low)
        self.keys = cells[1, :] * counts[0] + cells[0, :]
        self.cols = cols

    def _cells(self, xp: Any, v: Any) -> Any:
        """Cells of ``v (2, n)`` (x, y), clipped to the grid (monotone, as the floor)."""
        cell = xp.astype(xp.floor((v - self.origin) / self.size), xp.int32)
        return xp.minimum(xp.maximum(cell, self.zero), self.last)

    def reach(self, xp: Any, winners: Any, t: float) -> Any:
        """``(k, cells)`` uint8 table: ``k - w`` where kept box ``w`` (a column of
        ``winners (5, k)``, ``k <= 255``, greedy order) may suppress a candidate whose low
        corner lies in the cell (a column per key), else 0. The product of a range of
        columns and a range of rows; weights rather than a mask, as a maximum over them
        finds the first kept box of a cell several times faster than ``where``."""
        lo, hi = winners[0:2, :], winners[2:4, :]
        overlap = (hi - lo + self.offset) * (min(t, 1.0) * (1 - 64 * self.eps))
        first = self._cells(xp, lo + overlap - self.extent
                            - (xp.abs(lo) + self.extent) * self.margin)
        last = self._cells(xp, hi + self.offset - overlap
                           + (xp.abs(hi) + self.extent) * self.margin)
        across, down = (
            xp.astype((first[axis, :][:, None] <= self.lines[axis])
                      & (self.lines[axis] <= last[axis, :][:, None]), xp.uint8)
            for axis in (0, 1)
        )
        k = winners.shape[1]
        weight = xp.arange(k, 0, -1, dtype=xp.uint8, device=device(winners))[:, None]
        return xp.reshape(down[:, :, None] * (across * weight)[:, None, :], (k, -1))


def _cell_kills(
    xp: Any, grid: _Grid, winners: Any, pos: Any, t: float, offset: int, dense_pairs: int
) -> Any:
    """Mask over the candidates ``pos`` (positions into the grid's boxes; None: all) of
    those a box of ``winners (5, k)`` suppresses.

    Each candidate meets the first kept box (in greedy order) that reaches its cell;
    the survivors in a cell that a second one reaches meet every kept box, or, when
    they would make more than ``dense_pairs`` pairs, first the second one, and only
    those in a cell that a third one reaches meet them all. Few candidates get past the
    first round when few survive: kept boxes lie far apart. A candidate no kept box
    reaches meets the last one, harmlessly (their IoU is at most ``t``)."""
    weight = grid.reach(xp, winners, t)
    keys = grid.keys if pos is None else _take(xp, grid.keys, pos)
    cand = grid.cols if pos is None else _take(xp, grid.cols, pos, axis=1)
    n, k = cand.shape[1], winners.shape[1]
    top = xp.max(weight, axis=0)  # per cell: k - the first kept box reaching it, 0 for none
    below = weight * xp.astype(weight < top, weight.dtype)  # without each cell's first
    runner_up = xp.max(below, axis=0)  # k - the second, 0 for none
    crowded = runner_up > 0
    first = k - xp.astype(top, xp.int32)
    first = xp.minimum(first, xp.asarray(k - 1, dtype=first.dtype, device=device(first)))
    best = _take(xp, first, keys)
    killed = column_iou(xp, _take(xp, winners, best, axis=1), cand, offset, guard=False) > t
    (left,) = xp.nonzero(_take(xp, crowded, keys) & ~killed)
    if left.shape[0] == 0:
        return killed
    dead = left[:0]
    if k * left.shape[0] > dense_pairs:  # many: the second kept box of their cell first
        second = k - xp.astype(runner_up, xp.int32)
        third = xp.max(below * xp.astype(below < runner_up, weight.dtype), axis=0) > 0
        cell = _take(xp, keys, left)
        near = _take(xp, winners, _take(xp, second, cell), axis=1)
        hit = column_iou(xp, near, _take(xp, cand, left, axis=1), offset, guard=False) > t
        dead = _take(xp, left, xp.nonzero(hit)[0])
        left = _take(xp, left, xp.nonzero(_take(xp, third, cell) & ~hit)[0])
    if left.shape[0]:
        more = ~survivors(xp, winners, _take(xp, cand, left, axis=1), t, offset, None, None,
                          False)
        dead = xp.concat((dead, _take(xp, left, xp.nonzero(more)[0])))
    return killed | (bincount(xp, dead, length=n) > 0)
