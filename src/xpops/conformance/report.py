"""Conformance results as a terminal matrix, JSON and Markdown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from .engine import Failure, OpResult

__all__ = ["format_matrix", "format_failures", "to_json", "to_markdown", "write_report"]

_SYMBOL = {"pass": "pass", "fail": "FAIL", "not installed": "-", "not provided": "n/a"}


def _cell(r: OpResult) -> str:
    if r.status in ("pass", "fail"):
        return f"{_SYMBOL[r.status]} {r.cases} {r.max_abs_err:.0e}"
    return _SYMBOL.get(r.status, r.status)


def _grid(results: Sequence[OpResult]) -> tuple[list[str], list[str], dict]:
    ops = list(dict.fromkeys(r.op for r in results))
    backends = list(dict.fromkeys(r.backend for r in results))
    return ops, backends, {(r.op, r.backend): r for r in results}


def format_matrix(results: Sequence[OpResult]) -> str:
    """Op x backend table: status, cases run, worst absolute error."""
    ops, backends, by = _grid(results)
    rows = [["op", *backends]]
    for op in ops:
        rows.append([op, *(_cell(by[op, b]) if (op, b) in by else "" for b in backends)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    missing = sorted({(r.backend, r.reason) for r in results if r.status == "not installed"})
    legend = "cells: status, cases run, worst absolute error vs the float64 oracle"
    if missing:
        legend += "\nnot installed: " + "; ".join(f"{b} ({why})" for b, why in missing)
    return "\n".join(lines) + "\n" + legend


def format_failures(results: Sequence[OpResult], limit: int = 3) -> str:
    """Each failing (op, backend) with its first distinct failures and minimal input.

    Failures with the same check and message (on several dtypes or inputs) show once,
    with their dtypes and count, and the first input.
    """
    out = []
    for r in results:
        if r.status != "fail":
            continue
        out.append(f"FAIL {r.op} @ {r.backend}")
        kinds: dict[tuple[str, str], list[Failure]] = {}
        for f in r.failures:
            kinds.setdefault((f.check, f.message), []).append(f)
        for same in list(kinds.values())[:limit]:
            f = same[0]
            dtypes = ", ".join(dict.fromkeys(g.dtype for g in same))
            times = f" (x{len(same)})" if len(same) > 1 else ""
            out.append(f"  [{dtypes}] {f.check}: {f.message}{times}")
            if f.reproducer:
                out.append(f"    input: {f.reproducer}")
        if len(kinds) > limit:
            out.append(f"  ... and {len(kinds) - limit} more distinct "
                       f"({len(r.failures)} failures in all)")
    return "\n".join(out)


def to_json(results: Sequence[OpResult]) -> str:
    return json.dumps([asdict(r) for r in results], indent=2, default=str)


def to_markdown(results: Sequence[OpResult]) -> str:
    ops, backends, by = _grid(results)
    lines = ["| op | " + " | ".join(backends) + " |", "|---" * (len(backends) + 1) + "|"]
    for op in ops:
        cells = [_cell(by[op, b]) if (op, b) in by else "" for b in backends]
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    failures = format_failures(results, limit=10)
    if failures:
        lines += ["", "## Failures", "", "```", failures, "```"]
    return "\n".join(lines) + "\n"


def write_report(results: Sequence[OpResult], path: str) -> None:
    """Write JSON or Markdown, chosen by the file extension."""
    if path.endswith(".json"):
        text = to_json(results)
    elif path.endswith(".md"):
        text = to_markdown(results)
    else:
        msg = f"--report must end in .json or .md, got {path!r}"
        raise ValueError(msg)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
