"""Rendering of benchmark results: an aligned text table, JSON and a self-contained HTML
page with a bar chart of the ratios per op."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from typing import Any

from .. import _report
from .._report import cell, esc
from .._text import aligned_table
from .runner import BenchResult

__all__ = [
    "REPORT_FORMATS",
    "format_results",
    "results_to_json",
    "to_html",
    "to_json",
    "write_report",
]

_NOTHING_RAN = "no benchmarks ran (no selected backend with a native peer is installed)"

_HEADER = (
    "op",
    "backend",
    "workload",
    "xpops",
    "peer",
    "peer time",
    "ratio",
    "target",
    "met",
)
_RIGHT = {"xpops", "peer time", "ratio", "target"}


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def _row(r: BenchResult) -> tuple[str, ...]:
    target = "-" if r.target is None else f"<= {r.target:.2f}"
    met = "-" if r.met is None else ("yes" if r.met else "NO")
    return (
        r.op,
        r.backend,
        r.workload,
        _ms(r.xpops_median_s),
        r.peer,
        _ms(r.peer_median_s),
        f"{r.ratio:.2f}",
        target,
        met,
    )


def _targets_met(results: Sequence[BenchResult]) -> tuple[int, int]:
    """How many targets were met, out of how many rows have one."""
    judged = [r for r in results if r.met is not None]
    return sum(1 for r in judged if r.met), len(judged)


def format_results(results: Sequence[BenchResult]) -> str:
    """An aligned table, one row per result, ratio = xpops / peer (medians)."""
    if not results:
        return _NOTHING_RAN
    right = [i for i, name in enumerate(_HEADER) if name in _RIGHT]
    out = aligned_table([_HEADER, *(_row(r) for r in results)], right)
    met, judged = _targets_met(results)
    if judged:
        out.append("")
        out.append(
            f"{met}/{judged} targets met; ratio = xpops / peer "
            f"(median of {results[0].repeats}); '-' rows are informational"
        )
    return "\n".join(out)


def results_to_json(results: Sequence[BenchResult]) -> list[dict[str, Any]]:
    """One plain dict per result (field names of :class:`BenchResult`)."""
    return [dataclasses.asdict(r) for r in results]


def to_json(results: Sequence[BenchResult]) -> str:
    return json.dumps(results_to_json(results), indent=2)


def _tone(r: BenchResult) -> str:
    return "neutral" if r.met is None else ("good" if r.met else "bad")


# bar chart geometry, in pixels
_LABEL_W, _BAR_W, _VALUE_W, _ROW_H, _BAR_H, _AXIS_H = 260, 420, 70, 24, 14, 20


def _bar_chart(rows: Sequence[BenchResult]) -> str:
    """Horizontal bars of ratio per (backend, workload); a dashed tick marks each row's target,
    a thin line the ratio 1 (as fast as the peer)."""
    finite = [r.ratio for r in rows if math.isfinite(r.ratio)]
    targets = [r.target for r in rows if r.target is not None]
    top = 1.1 * max([1.0, *finite, *targets])

    def x(ratio: float) -> float:
        return _LABEL_W + _BAR_W * min(ratio if math.isfinite(ratio) else top, top) / top

    axis_y = _ROW_H * len(rows)
    parts = [f"<svg width=\"{_LABEL_W + _BAR_W + _VALUE_W}\" height=\"{axis_y + _AXIS_H}\" "
             "role=\"img\">",
             f"<line class=\"parity\" x1=\"{x(1.0):.1f}\" y1=\"0\" x2=\"{x(1.0):.1f}\" "
             f"y2=\"{axis_y}\"/>"]
    for i, r in enumerate(rows):
        y = i * _ROW_H
        mid = y + _ROW_H / 2
        target = "no target" if r.target is None else f"target <= {r.target:.2f}"
        met = "" if r.met is None else (", met" if r.met else ", NOT met")
        tip = (f"{r.backend} / {r.workload}: ratio {r.ratio:.2f} (xpops "
               f"{r.xpops_median_s * 1e3:.3g} ms / {r.peer} {r.peer_median_s * 1e3:.3g} ms), "
               f"{target}{met}")
        parts.append(
            f"<text x=\"{_LABEL_W - 6}\" y=\"{mid + 4:.1f}\" text-anchor=\"end\">"
            f"{esc(r.backend)} / {esc(r.workload)}</text>"
            f"<rect class=\"{_tone(r)}\" x=\"{_LABEL_W}\" y=\"{mid - _BAR_H / 2:.1f}\" "
            f"width=\"{x(r.ratio) - _LABEL_W:.1f}\" height=\"{_BAR_H}\">"
            f"<title>{esc(tip)}</title></rect>"
            f"<text x=\"{x(r.ratio) + 4:.1f}\" y=\"{mid + 4:.1f}\">{r.ratio:.2f}</text>"
        )
        if r.target is not None:
            parts.append(f"<line class=\"target\" x1=\"{x(r.target):.1f}\" y1=\"{y + 2}\" "
                         f"x2=\"{x(r.target):.1f}\" y2=\"{y + _ROW_H - 2}\"/>")
    # the end of the scale is labelled only where it does not run into the label of 1
    ticks = (0.0, 1.0, top) if x(top) - x(1.0) > 30 else (0.0, 1.0)
    for tick in ticks:
        parts.append(f"<text x=\"{x(tick):.1f}\" y=\"{axis_y + 14}\" text-anchor=\"middle\">"
                     f"{tick:.2g}</text>")
    parts.append("</svg>")
    return "".join(parts)


def to_html(results: Sequence[BenchResult]) -> str:
    """One self-contained page: per op a bar chart of xpops / peer per backend and workload
    with its target, coloured met / not met, and the table of medians."""
    if not results:
        return _report.page("xpops bench", f"<p>{esc(_NOTHING_RAN)}</p>")
    met, judged = _targets_met(results)
    summary = {
        "targets met": f"{met}/{judged}",
        "ratio": f"xpops / peer, medians of {results[0].repeats} runs; dashed tick: target, "
                 "grey line: as fast as the peer",
    }
    body = []
    for op in dict.fromkeys(r.op for r in results):
        rows = [r for r in results if r.op == op]
        table_rows = [[*_row(r)[1:-1], cell(_row(r)[-1], cls=_tone(r))] for r in rows]
        body += [
            f"<section id=\"{esc(op)}\"><h2>{esc(op)}</h2>",
            _bar_chart(rows),
            _report.table(_HEADER[1:], table_rows, numeric=(2, 4, 5, 6)),
            "</section>",
        ]
    return _report.page("xpops bench", "\n".join(body), summary)


REPORT_FORMATS = {".json": to_json, ".html": to_html}


def write_report(results: Sequence[BenchResult], path: str) -> None:
    """Write JSON or HTML, chosen by the file extension (:data:`REPORT_FORMATS`)."""
    _report.write_report(path, results, REPORT_FORMATS)
