"""Rendering of benchmark results: an aligned text table and JSON-ready dicts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from .runner import BenchResult

__all__ = ["format_results", "results_to_json"]

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


def format_results(results: Sequence[BenchResult]) -> str:
    """An aligned table, one row per result, ratio = xpops / peer (medians)."""
    if not results:
        return "no benchmarks ran (no selected backend with a native peer is installed)"
    rows = [_HEADER, *(_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(w) if name in _RIGHT else cell.ljust(w)
            for cell, w, name in zip(row, widths, _HEADER, strict=True)
        ]
        return "  ".join(cells).rstrip()

    out = [line(rows[0]), "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in rows[1:])
    judged = [r for r in results if r.met is not None]
    if judged:
        met = sum(1 for r in judged if r.met)
        out.append("")
        out.append(
            f"{met}/{len(judged)} targets met; ratio = xpops / peer "
            f"(median of {results[0].repeats}); '-' rows are informational"
        )
    return "\n".join(out)


def results_to_json(results: Sequence[BenchResult]) -> list[dict[str, Any]]:
    """One plain dict per result (field names of :class:`BenchResult`)."""
    return [dataclasses.asdict(r) for r in results]
