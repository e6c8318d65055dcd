"""pycocotools' ``COCOeval.summarize()``: the 12 statistics, per-class AP, and the text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..._lib.namespace import default_int, device

if TYPE_CHECKING:
    from .coco import CocoEvaluation

__all__ = ["coco_summary", "per_class_ap", "summary_stats"]

# (ap, iou threshold or None, area name, which maxDets: index or the value 100)
_STATS = (
    (True, None, "all", 100), (True, 0.5, "all", 2), (True, 0.75, "all", 2),
    (True, None, "small", 2), (True, None, "medium", 2), (True, None, "large", 2),
    (False, None, "all", 0), (False, None, "all", 1), (False, None, "all", 2),
    (False, None, "small", 2), (False, None, "medium", 2), (False, None, "large", 2),
)


def _stat_max_dets(which: int, max_dets: tuple[int, ...]) -> int | None:
    if which == 100:  # summarize()'s first line always asks for maxDets=100
        return 100
    return max_dets[which] if which < len(max_dets) else None


def _masked_mean(xp: Any, s: Any, axis: Any = None) -> Any:
    """Mean of the entries > -1 (-1 when there are none)."""
    ok = s > -1
    count = xp.sum(xp.astype(ok, s.dtype), axis=axis)
    total = xp.sum(xp.where(ok, s, xp.zeros_like(s)), axis=axis)
    return xp.where(count > 0, total / xp.where(count > 0, count, xp.ones_like(count)),
                    xp.asarray(-1.0, dtype=s.dtype, device=device(s)))


def summary_stats(
    xp: Any, precision: Any, recall: Any, ious: tuple[float, ...],
    ranges: tuple[tuple[str, float, float], ...], max_dets: tuple[int, ...],
) -> Any:
    """``COCOeval.stats`` ``(12,)``: -1 where a line's threshold, range or maxDets is
    absent from the parameters."""
    names = [r[0] for r in ranges]
    dev = device(precision)
    minus = xp.asarray(-1.0, dtype=precision.dtype, device=dev)
    out = []
    for ap, iou, area, which in _STATS:
        md = _stat_max_dets(which, max_dets)
        t_idx = list(range(len(ious))) if iou is None else [
            i for i, t in enumerate(ious) if t == iou]
        if area not in names or md not in max_dets or not t_idx:
            out.append(minus)
            continue
        a, m = names.index(area), max_dets.index(md)
        t_sel = xp.asarray(t_idx, dtype=default_int(xp, dev), device=dev)
        s = precision[..., a, m] if ap else recall[..., a, m]
        out.append(_masked_mean(xp, xp.take(s, t_sel, axis=0)))
    return xp.stack(out)


def per_class_ap(xp: Any, precision: Any, ranges: tuple[tuple[str, float, float], ...]) -> Any:
    """``(K,)``: AP over every threshold, area range ``"all"`` (else the first) and the
    largest maxDets; -1 where undefined."""
    names = [r[0] for r in ranges]
    a = names.index("all") if "all" in names else 0
    return _masked_mean(xp, precision[:, :, :, a, -1], axis=(0, 1))


def coco_summary(result: CocoEvaluation) -> str:
    """The 12 lines pycocotools' ``COCOeval.summarize()`` prints, for ``result``.

    Parameters
    ----------
    result : CocoEvaluation
        What :func:`coco_evaluate` returned.

    Returns
    -------
    str
        Twelve lines, ``" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all |
        maxDets=100 ] = 0.505"`` and so on, values to 3 decimals (-1.000 where a line's
        threshold, area range or maxDets is not among the parameters).

    Raises
    ------
    AttributeError
        When ``result`` is not a :class:`CocoEvaluation`.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import coco_evaluate, coco_summary
    >>> r = coco_evaluate(
    ...     xp.asarray([[0.0, 0, 10, 10], [0, 0, 10, 10]]), xp.asarray([0.8, 0.9]),
    ...     xp.asarray([1, 1]), xp.asarray([1, 2]),
    ...     xp.asarray([[0.0, 0, 10, 10]]), xp.asarray([1]), xp.asarray([1]))
    >>> print(coco_summary(r).splitlines()[0])
     Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.500
    """
    line = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"
    ious = result.iou_thresholds
    lines = []
    for (ap, iou, area, which), value in zip(_STATS, result.stats, strict=True):
        md = _stat_max_dets(which, result.max_detections)
        iou_str = (f"{ious[0]:0.2f}:{ious[-1]:0.2f}" if iou is None else f"{iou:0.2f}")
        lines.append(line.format(
            "Average Precision" if ap else "Average Recall", "(AP)" if ap else "(AR)",
            iou_str, area, -1 if md is None else md, float(value),
        ))
    return "\n".join(lines)
