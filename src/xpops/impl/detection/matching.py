"""Greedy matching of every kept detection, for every area range and IoU threshold at once.

pycocotools walks each group's detections by rank; each takes, among the ground truth
of its group not yet taken (crowd regions stay free), the one with the highest IoU at or
above the threshold, preferring ground truth that is not ignored. Here that walk is one
loop over ranks ``r`` for all groups together:

- the groups holding ground truth are laid out in *slots*, ordered by detection count
  (descending), so the groups still matching at rank ``r`` are the first ``n_r`` slots
  and their detections of rank ``r`` one contiguous block;
- each slot's ground truth is padded to the widest group still matching, ``w_r``;
- one step matches the block against its slots for every area range and threshold: an
  ``(A, T, n_r, w_r)`` array, split into chunks of slots so temporaries stay bounded.

The IoU of a step comes from the IoU kind (:mod:`.iou`); nothing here knows what it
compares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..._lib.namespace import default_int, device
from ..._lib.sorting import lookup, sorted_unique
from .grouping import GroupedTruth, RankedDetections

__all__ = ["match"]

_IOU_CAP = 1 - 1e-10  # pycocotools matches with IoU >= min(t, 1 - 1e-10)
_STEP_ELEMENTS = 1 << 22  # (area, threshold, slot, ground truth) cells per matching chunk


@dataclass(frozen=True)
class _Slots:
    """The groups matched, one slot each, and their detections in (rank, slot) order."""

    det_index: Any  # detections that have ground truth in their group, in block order
    det_rest: Any  # the others: never matched
    det_count: Any  # (S,) detections per slot, non-increasing
    gt_start: Any  # (S,) first ground truth of each slot's group
    gt_count: Any  # (S,) its ground truth count


def _slots(xp: Any, dets: RankedDetections, gt_group: Any) -> _Slots | None:
    """The slot layout, or None when no detection has ground truth in its group."""
    d_grp = dets.group
    gt_groups = sorted_unique(xp, gt_group) if gt_group.shape[0] else gt_group
    g_start = xp.searchsorted(gt_group, gt_groups, side="left")
    g_count = xp.searchsorted(gt_group, gt_groups, side="right") - g_start
    _, has_gt = lookup(xp, gt_groups, d_grp)
    sel = xp.nonzero(has_gt)[0]
    if sel.shape[0] == 0:
        return None
    m_grp, m_rank = xp.take(d_grp, sel), xp.take(dets.rank, sel)
    groups = sorted_unique(xp, m_grp)
    det_count = xp.searchsorted(m_grp, groups, side="right") - xp.searchsorted(
        m_grp, groups, side="left")
    slot_order = xp.argsort(-det_count, stable=True)
    slot_of = xp.argsort(slot_order, stable=True)  # group (sorted) -> slot
    gpos = xp.take(lookup(xp, gt_groups, groups)[0], slot_order)
    m_slot = xp.take(slot_of, lookup(xp, groups, m_grp)[0])
    num_slots = groups.shape[0]
    block = m_rank * num_slots + xp.astype(m_slot, m_rank.dtype, copy=False)
    return _Slots(
        det_index=xp.take(sel, xp.argsort(block, stable=True)),
        det_rest=xp.nonzero(~has_gt)[0],
        det_count=xp.take(det_count, slot_order),
        gt_start=xp.take(g_start, gpos),
        gt_count=xp.take(g_count, gpos),
    )


def _padded(xp: Any, x: Any, cell: Any, fill: Any) -> Any:
    """Rows of ``x`` at ``cell`` ``(S, W)``; the index ``len(x)`` reads ``fill``."""
    pad = xp.full((1, *x.shape[1:]), fill, dtype=x.dtype, device=device(x))
    flat = xp.take(xp.concat((x, pad)), xp.reshape(cell, (-1,)), axis=0)
    return xp.reshape(flat, (*cell.shape, *x.shape[1:]))


def _slot_truth(xp: Any, truth: GroupedTruth, slots: _Slots) -> tuple[Any, ...]:
    """Each slot's ground truth padded to the widest: rows, crowd, real, ignore (A, S, W)."""
    dev = device(slots.gt_start)
    n_gt = truth.group.shape[0]
    cols = xp.arange(int(xp.max(slots.gt_count)), dtype=slots.gt_start.dtype, device=dev)
    cell = xp.where(cols[None, :] < slots.gt_count[:, None], slots.gt_start[:, None] + cols,
                    xp.asarray(n_gt, dtype=cols.dtype, device=dev))
    rows = tuple(_padded(xp, r, cell, 0) for r in truth.geometry.rows)
    ignore = _padded(xp, xp.permute_dims(truth.ignore, (1, 0)), cell, True)
    return (rows, _padded(xp, truth.crowd, cell, False), cell < n_gt,
            xp.permute_dims(ignore, (2, 0, 1)))


def _match_step(
    xp: Any, iou: Any, crowd: Any, real: Any, ign: Any, taken: Any, thr: Any
) -> tuple[Any, Any, Any]:
    """One detection per slot against its slot's padded ground truth, for every area
    range and threshold: (taken after the step, matched, matched to ignored)."""
    dev = device(iou)
    minus = xp.asarray(-1.0, dtype=iou.dtype, device=dev)
    iou = xp.where(real, iou, minus)
    ign = ign[:, None, :, :]  # (A, 1, n, w)
    cand = (iou >= thr)[None, ...] & (~taken | crowd)  # (A, T, n, w)
    any_kept = xp.any(cand & ~ign, axis=-1)
    # prefer non-ignored ground truth; among the preferred, the best IoU, last on ties
    pref = cand & (ign != any_kept[..., None])
    best = xp.max(xp.where(pref, iou, minus), axis=-1)
    hit = pref & (iou == best[..., None])
    col = xp.arange(iou.shape[-1], dtype=default_int(xp, dev), device=dev)
    choice = xp.max(xp.where(hit, col, xp.asarray(-1, dtype=col.dtype, device=dev)), axis=-1)
    found = choice >= 0
    return taken | (col == choice[..., None]), found, found & ~any_kept


def _rows(rows: tuple[Any, ...], lo: int, hi: int, width: int | None = None) -> tuple[Any, ...]:
    """Rows ``lo:hi`` of each array (and their first ``width`` columns of ground truth)."""
    return tuple(r[lo:hi, ...] if width is None else r[lo:hi, :width, ...] for r in rows)


def _walk(
    xp: Any, iou_of: Callable[..., Any], det_rows: tuple[Any, ...], slots: _Slots,
    gt: tuple[Any, ...], thr: Any,
) -> tuple[Any, Any]:
    """Every rank's step; ``matched`` and ``by_ignored`` ``(A, T, D_matched)``."""
    gt_rows, crowd, real, ign = gt
    n_ranges, n_thr = ign.shape[0], thr.shape[0]
    # block sizes n_r and padded widths w_r (non-increasing in r), read once
    max_rank = int(xp.max(slots.det_count))
    sizes = [int(xp.sum(xp.astype(slots.det_count > r, xp.int32))) for r in range(max_rank)]
    widths = [int(xp.max(slots.gt_count[:n])) for n in sizes]
    taken = xp.zeros((n_ranges, n_thr, sizes[0], widths[0]), dtype=xp.bool,
                     device=device(thr))
    out_m: list[Any] = []
    out_i: list[Any] = []
    start = 0
    for n, w in zip(sizes, widths, strict=True):  # one step per detection rank
        taken = taken[:, :, :n, :w]
        chunk = max(1, _STEP_ELEMENTS // (n_ranges * n_thr * w))
        parts = []
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            iou = iou_of(xp, _rows(det_rows, start + lo, start + hi),
                         _rows(gt_rows, lo, hi, w), crowd[lo:hi, :w])
            parts.append(_match_step(xp, iou, crowd[lo:hi, :w], real[lo:hi, :w],
                                     ign[:, lo:hi, :w], taken[:, :, lo:hi, :], thr))
        start += n
        taken = parts[0][0] if len(parts) == 1 else xp.concat([p[0] for p in parts], axis=2)
        out_m.extend(p[1] for p in parts)
        out_i.extend(p[2] for p in parts)
    return xp.concat(out_m, axis=-1), xp.concat(out_i, axis=-1)


def match(
    xp: Any, iou_of: Callable[..., Any], dets: RankedDetections, truth: GroupedTruth,
    iou_thresholds: tuple[float, ...],
) -> tuple[Any, Any]:
    """``matched`` and ``by_ignored`` ``(A, T, D)`` booleans in the order of ``dets``:
    matched at all, and matched to ignored ground truth. ``iou_of`` is an IoU kind's
    ``iou``."""
    score = dets.score
    dev = device(score)
    shape = (truth.ignore.shape[0], len(iou_thresholds), score.shape[0])
    slots = _slots(xp, dets, truth.group)
    if slots is None:
        false = xp.zeros(shape, dtype=xp.bool, device=dev)
        return false, false
    det_rows = tuple(xp.take(r, slots.det_index, axis=0) for r in dets.geometry.rows)
    thr = xp.asarray([min(t, _IOU_CAP) for t in iou_thresholds], dtype=score.dtype,
                     device=dev)[:, None, None]
    block_m, block_i = _walk(xp, iou_of, det_rows, slots, _slot_truth(xp, truth, slots), thr)
    # back to detection order: those without ground truth in their group are unmatched
    back = xp.argsort(xp.concat((slots.det_index, slots.det_rest)), stable=True)
    pad = xp.zeros((*shape[:2], slots.det_rest.shape[0]), dtype=xp.bool, device=dev)
    matched = xp.take(xp.concat((block_m, pad), axis=-1), back, axis=-1)
    by_ignored = xp.take(xp.concat((block_i, pad), axis=-1), back, axis=-1)
    return matched, by_ignored
