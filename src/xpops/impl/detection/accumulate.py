"""pycocotools' ``accumulate``: precision, recall and scores tables from the matches.

All kept detections are sorted once by (category, -score, image, rank). Per area range
and max-detections value, true and false positives are segment-wise cumulative sums per
category. The precision envelope is only needed at the recall thresholds: detections
are split into blocks by how many thresholds their recall reaches, each block's maximum
precision is a segment maximum, and a reverse cumulative maximum over the (at most
``R + 1``) blocks gives pycocotools' interpolated precision exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..._lib.counting import bincount
from ..._lib.namespace import default_int, device
from ..._lib.scans import reverse_cumulative_max
from ..._lib.segments import segment_max
from ..._lib.sorting import stable_order

__all__ = ["accumulate", "count_positives"]

_EPS = 2.220446049250313e-16  # np.spacing(1), pycocotools' precision denominator guard


def count_positives(xp: Any, category: Any, ignore: Any, num_k: int) -> Any:
    """``(A, K)``: the ground truth not ignored, per area range and category."""
    return xp.stack([
        bincount(xp, xp.take(category, xp.nonzero(~ignore[a, :])[0]), length=num_k)
        for a in range(ignore.shape[0])
    ])


@dataclass(frozen=True)
class _Grid:
    """The fixed axes of one table: T thresholds, K categories, R recall thresholds."""

    n_thr: int
    num_k: int
    recall_thresholds: Any  # (R,)
    dtype: Any
    index: Any  # the default integer dtype

    @property
    def n_rec(self) -> int:
        return int(self.recall_thresholds.shape[0])

    def arange(self, xp: Any, n: int) -> Any:
        return xp.arange(n, dtype=self.index, device=device(self.recall_thresholds))

    def full(self, xp: Any, value: float) -> Any:
        return xp.asarray(value, dtype=self.dtype, device=device(self.recall_thresholds))


def _curves(
    xp: Any, g: _Grid, k: Any, tp_flags: Any, fp_flags: Any, den: Any
) -> tuple[Any, Any, Any, Any]:
    """Per threshold and detection (category-sorted), recall and precision so far in its
    category; and the category segments' starts and the cumulative tp counts."""
    cats = g.arange(xp, g.num_k)
    seg_start = xp.searchsorted(k, cats, side="left")
    tps = xp.cumulative_sum(xp.astype(tp_flags, g.index), axis=-1, include_initial=True)
    fps = xp.cumulative_sum(xp.astype(fp_flags, g.index), axis=-1, include_initial=True)
    first = xp.take(seg_start, k)  # segment start of each detection
    tp = xp.astype(tps[:, 1:] - xp.take(tps, first, axis=-1), g.dtype, copy=False)
    fp = xp.astype(fps[:, 1:] - xp.take(fps, first, axis=-1), g.dtype, copy=False)
    recall = tp / xp.take(den, k)[None, :]
    precision = tp / (fp + tp + g.full(xp, _EPS))
    return recall, precision, seg_start, tps


def _at_recall_thresholds(
    xp: Any, g: _Grid, k: Any, score: Any, recall: Any, precision: Any, seg_start: Any,
    seg_len: Any,
) -> tuple[Any, Any]:
    """``(T, K, R)`` interpolated precision and the score where each recall threshold is
    first reached (0 where it never is)."""
    n_rec = g.n_rec
    t_base = g.arange(xp, g.n_thr)[:, None] * g.num_k
    # block of a detection: how many recall thresholds its recall reaches
    blk = xp.astype(xp.searchsorted(g.recall_thresholds, xp.reshape(recall, (-1,)),
                                    side="right"), g.index, copy=False)
    ids = (xp.reshape(t_base + k[None, :], (-1,))) * (n_rec + 1) + blk
    best = segment_max(xp, xp.reshape(precision, (-1,)), ids,
                       num_segments=g.n_thr * g.num_k * (n_rec + 1), fill=0.0)
    best = xp.reshape(best, (g.n_thr, g.num_k, n_rec + 1))
    interpolated = reverse_cumulative_max(xp, best)[..., 1:]  # (T, K, R)
    # detections of each (t, k) segment whose recall is below threshold r
    seg_first = (t_base + g.arange(xp, g.num_k)[None, :]) * (n_rec + 1)  # first block id
    upto = xp.searchsorted(ids, xp.reshape(seg_first[..., None] + g.arange(xp, n_rec), (-1,)),
                           side="right")
    start = xp.searchsorted(ids, xp.reshape(seg_first, (-1,)))
    below = xp.reshape(upto, (g.n_thr, g.num_k, n_rec)) - xp.reshape(
        start, (g.n_thr, g.num_k, 1))
    reach = below < seg_len[None, :, None]
    n = k.shape[0]
    if not n:
        return interpolated, xp.zeros(reach.shape, dtype=g.dtype, device=device(reach))
    at = xp.clip(seg_start[None, :, None] + below, max=n - 1)
    at_score = xp.reshape(xp.take(score, xp.reshape(at, (-1,))), at.shape)
    return interpolated, xp.where(reach, at_score, g.full(xp, 0.0))


def _table(
    xp: Any, g: _Grid, k: Any, score: Any, matched: Any, ignored: Any, npig: Any
) -> tuple[Any, Any, Any]:
    """Precision ``(T, K, R)``, recall ``(T, K)`` and scores ``(T, K, R)`` of the
    detections given (one area range and max-detections value), -1 where a category has
    no ground truth counted."""
    defined = npig > 0  # (K,)
    den = xp.astype(xp.where(defined, npig, xp.ones_like(npig)), g.dtype, copy=False)
    recall, precision, seg_start, tps = _curves(
        xp, g, k, matched & ~ignored, ~matched & ~ignored, den)
    seg_len = xp.searchsorted(k, g.arange(xp, g.num_k), side="right") - seg_start
    interpolated, at_score = _at_recall_thresholds(
        xp, g, k, score, recall, precision, seg_start, seg_len)
    tp_total = xp.astype(xp.take(tps, seg_start + seg_len, axis=-1)
                         - xp.take(tps, seg_start, axis=-1), g.dtype, copy=False)
    minus = g.full(xp, -1.0)
    ok = defined[None, :, None]
    return (xp.where(ok, interpolated, minus),
            xp.where(defined[None, :], tp_total / den[None, :], minus),
            xp.where(ok, at_score, minus))


def accumulate(
    xp: Any, category: Any, score: Any, image: Any, rank: Any, matched: Any, ignored: Any,
    npig: Any, recall_thresholds: tuple[float, ...], max_detections: tuple[int, ...],
) -> tuple[Any, Any, Any]:
    """Precision ``(T, R, K, A, M)``, recall ``(T, K, A, M)`` and scores ``(T, R, K, A, M)``
    of detections with their category index, score, image index and rank in their group;
    ``matched``/``ignored`` ``(A, T, D)``; ``npig`` ``(A, K)``."""
    dev = device(score)
    g = _Grid(n_thr=matched.shape[1], num_k=npig.shape[1],
              recall_thresholds=xp.asarray(recall_thresholds, dtype=score.dtype, device=dev),
              dtype=score.dtype, index=default_int(xp, dev))
    # one order for every (area, maxDet): category, then score (stable), image, rank
    order = stable_order(xp, category, -score, image * (max_detections[-1] + 1) + rank)
    category, score, rank = (xp.take(a, order) for a in (category, score, rank))
    matched = xp.take(matched, order, axis=-1)
    ignored = xp.take(ignored, order, axis=-1)
    tables: list[list[tuple[Any, Any, Any]]] = []
    for a in range(matched.shape[0]):
        tables.append([])
        for m in max_detections:
            keep = xp.nonzero(rank < m)[0]
            tables[-1].append(_table(
                xp, g, xp.take(category, keep), xp.take(score, keep),
                xp.take(matched[a, ...], keep, axis=-1), xp.take(ignored[a, ...], keep, axis=-1),
                npig[a, :],
            ))

    def stacked(i: int) -> Any:  # (T, K, [R,] A, M)
        return xp.stack([xp.stack([t[i] for t in row], axis=-1) for row in tables], axis=-2)

    precision = xp.permute_dims(stacked(0), (0, 2, 1, 3, 4))
    scores = xp.permute_dims(stacked(2), (0, 2, 1, 3, 4))
    return precision, stacked(1), scores
