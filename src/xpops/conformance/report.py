"""Conformance results as a terminal matrix, JSON, Markdown and a self-contained HTML page."""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict

from .. import _report
from .._report import cell, esc
from .._text import aligned_table
from .resources import ResourceLog
from .results import Failure, OpResult, Status

__all__ = [
    "REPORT_FORMATS",
    "format_failures",
    "format_inputs",
    "format_matrix",
    "to_html",
    "to_json",
    "to_markdown",
    "write_report",
]

# how each status reads in a matrix cell
_SYMBOL = {
    Status.PASS: "pass",
    Status.FAIL: "FAIL",
    Status.NOT_INSTALLED: "-",
    Status.NOT_PROVIDED: "n/a",
    Status.NOT_ON_BACKEND: "no",
    Status.OPTIONS_UNSUPPORTED: "unsupported",
    Status.ERROR: "ERROR",
    Status.NOT_RUN: "not run",
}


def _cell(r: OpResult) -> str:
    if r.status.checked:
        return f"{_SYMBOL[r.status]} {r.cases} {r.max_abs_err:.0e}"
    return _SYMBOL[r.status]


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
    lines = aligned_table(rows)
    missing = sorted({(r.backend, r.reason) for r in results if r.status == Status.NOT_INSTALLED})
    legend = "cells: status, cases run, worst absolute error vs the float64 oracle"
    if missing:
        legend += "\nnot installed: " + "; ".join(f"{b} ({why})" for b, why in missing)
    return "\n".join(lines) + "\n" + legend


def _dtypes_by_param(results: Sequence[OpResult]) -> dict[str, dict[str, list[str]]]:
    """op -> parameter -> every dtype it was checked in, over all backends."""
    out: dict[str, dict[str, list[str]]] = {}
    for r in results:
        params = out.setdefault(r.op, {})
        for name, dtypes in r.inputs.items():
            seen = params.setdefault(name, [])
            seen += [d for d in dtypes if d not in seen]
    return {op: params for op, params in out.items() if params}


def format_inputs(results: Sequence[OpResult]) -> str:
    """Per op, the dtypes each array parameter was checked in (all backends together)
    and how many calls handed side inputs over as NumPy or in another memory layout."""
    lines = ["inputs checked: dtypes per parameter (all backends); other forms"]
    forms: dict[str, int] = {}
    for r in results:
        for form, n in r.forms.items():
            key = f"{r.op}|{form.split()[-1] if 'NumPy' not in form else 'NumPy side'}"
            forms[key] = forms.get(key, 0) + n
    for op, params in _dtypes_by_param(results).items():
        text = "; ".join(f"{name} {', '.join(sorted(d))}" for name, d in params.items())
        extra = ", ".join(
            f"{key.split('|')[1]} {n}" for key, n in forms.items() if key.split("|")[0] == op
        )
        lines.append(f"  {op}: {text}" + (f"  [{extra}]" if extra else ""))
    return "\n".join(lines) if len(lines) > 1 else ""


# how each piece of a failure listing is written, as text and as HTML
_TEXT_FAILURES = {
    "head": "FAIL {op} @ {backend}",
    "failure": "  [{dtype}] {check}: {message}",
    "input": "    input: {reproducer}",
    "more": "  ... and {more} more distinct ({all} failures in all)",
    "end": "",
}
_HTML_FAILURES = {
    "head": '<section id="{anchor}"><h3>FAIL {op} @ {backend}</h3>',
    "failure": "<p><b>[{dtype}] {check}</b>: {message}</p>",
    "input": "<pre>{reproducer}</pre>",
    "more": "<p>... and {more} more distinct ({all} failures in all)</p>",
    "end": "</section>",
}


def _failure_lines(
    results: Sequence[OpResult], limit: int, style: dict[str, str], quote: Callable[[str], str]
) -> list[str]:
    out = []
    for r in results:
        if r.status != Status.FAIL:
            continue
        out.append(style["head"].format(op=quote(r.op), backend=quote(r.backend),
                                        anchor=_anchor(r)))
        # the same check and message (on several dtypes or inputs) shows once, with its
        # dtypes and count, and the first input
        kinds: dict[tuple[str, str], list[Failure]] = {}
        for f in r.failures:
            kinds.setdefault((f.check, f.message), []).append(f)
        for same in list(kinds.values())[:limit]:
            f = same[0]
            times = f" (x{len(same)})" if len(same) > 1 else ""
            out.append(style["failure"].format(
                dtype=quote(", ".join(dict.fromkeys(g.dtype for g in same))),
                check=quote(f.check), message=quote(f.message + times)))
            if f.reproducer:
                out.append(style["input"].format(reproducer=quote(f.reproducer)))
        if len(kinds) > limit:
            out.append(style["more"].format(more=len(kinds) - limit, all=len(r.failures)))
        if style["end"]:
            out.append(style["end"])
    return out


def format_failures(results: Sequence[OpResult], limit: int = 3) -> str:
    """Each failing (op, backend) with its first failures and minimal reproducing input,
    then each cell that could not finish with what is known of why."""
    lines = _failure_lines(results, limit, _TEXT_FAILURES, str)
    for r in results:
        if r.status == Status.ERROR:
            lines.append(f"ERROR {r.op} @ {r.backend}")
            lines += ["  " + line for line in r.reason.splitlines()]
            lines.append("")
    return "\n".join(lines).rstrip("\n")


def to_json(results: Sequence[OpResult], resources: ResourceLog | None = None) -> str:
    """``{"environment", "results": [one object per cell], "resources"}``; resources are
    the worker processes' samples (null for a run in one process)."""
    return json.dumps({
        "environment": _report.environment(),
        "results": [asdict(r) for r in results],
        "resources": None if resources is None else resources.to_dict(),
    }, indent=2, default=str)


def to_markdown(results: Sequence[OpResult], resources: ResourceLog | None = None) -> str:
    ops, backends, by = _grid(results)
    lines = ["| op | " + " | ".join(backends) + " |", "|---" * (len(backends) + 1) + "|"]
    for op in ops:
        cells = [_cell(by[op, b]) if (op, b) in by else "" for b in backends]
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    inputs = format_inputs(results)
    if inputs:
        lines += ["", "## Inputs", "", "```", inputs, "```"]
    failures = format_failures(results, limit=10)
    if failures:
        lines += ["", "## Failures", "", "```", failures, "```"]
    if resources is not None and resources.samples:
        lines += ["", "## Resources", "", "```", resources.format(), "```"]
    return "\n".join(lines) + "\n"


def _anchor(r: OpResult) -> str:
    return "fail-" + re.sub(r"[^A-Za-z0-9_-]", "-", f"{r.op}-{r.backend}")


def _tooltip(r: OpResult) -> str:
    parts = [str(r.status)]
    if r.status.checked:
        parts += [
            f"{r.cases} cases",
            f"worst tolerance ratio {r.worst_tolerance_ratio:.3g} (<= 1 passes)",
            f"max abs error {r.max_abs_err:.1e}",
        ]
    if r.failures:
        parts.append(f"{len(r.failures)} failures")
    if r.unsupported:
        parts.append("skipped as unsupported: " + ", ".join(
            f"{why} ({n})" for why, n in r.unsupported.items()))
    if r.checks:
        parts.append("checks: " + ", ".join(r.checks))
    if r.inputs:
        parts.append("dtypes: " + "; ".join(
            f"{name} {', '.join(sorted(d))}" for name, d in r.inputs.items()))
    if r.reason and r.reason != r.status:
        parts.append(r.reason)
    return "; ".join(parts)


def _tone(status: Status) -> str:
    # statuses other than pass, fail and error render neutral, as their text
    return {Status.PASS: "good", Status.FAIL: "bad", Status.ERROR: "bad"}.get(status, "neutral")


def _html_cell(r: OpResult) -> _report.Html:
    text = f"{_SYMBOL[r.status]} {r.cases}" if r.status.checked else str(r.status)
    href = "#" + _anchor(r) if r.status == Status.FAIL else ""
    return cell(text, cls=_tone(r.status), title=_tooltip(r), href=href)


def _html_legend(results: Sequence[OpResult]) -> str:
    counts = Counter(r.status for r in results)
    swatches = " ".join(
        f"<span class=\"swatch {_tone(s)}\">{esc(s)}: {n}</span>" for s, n in counts.items()
    )
    lines = [f"<p>{swatches}</p>", "<p>Cells: status and cases run; hover for the checks, "
             "the worst error as a fraction of the tolerance and the worst absolute error "
             "against the float64 oracle. Failing cells link to their inputs.</p>"]
    missing = sorted({(r.backend, r.reason) for r in results if r.status == Status.NOT_INSTALLED})
    others = [r for r in results
              if not r.status.checked and r.status != Status.NOT_INSTALLED and r.reason]
    if missing:
        lines.append("<p>Not installed: " + "; ".join(f"<b>{esc(b)}</b> ({esc(why)})"
                                                      for b, why in missing) + "</p>")
    if others:
        lines.append("<ul>")
        lines += [f"<li>{esc(r.op)} @ {esc(r.backend)} {esc(r.status)}: {esc(r.reason)}</li>"
                  for r in others]
        lines.append("</ul>")
    return "\n".join(lines)


def _html_failures(results: Sequence[OpResult], limit: int = 20) -> str:
    out = _failure_lines(results, limit, _HTML_FAILURES, esc)
    return "<h2>Failures</h2>\n" + "\n".join(out) if out else ""


def to_html(results: Sequence[OpResult], resources: ResourceLog | None = None) -> str:
    """One self-contained page: the op x backend grid coloured by status, a legend with the
    backends not installed and why, and each failure with its reproducing input."""
    ops, backends, by = _grid(results)
    rows = [[op, *(_html_cell(by[op, b]) if (op, b) in by else "" for b in backends)]
            for op in ops]
    counts = Counter(r.status for r in results)
    summary = {
        "implementation": ", ".join(dict.fromkeys(r.impl for r in results)),
        "ops": str(len(ops)),
        "backends": ", ".join(backends),
        "cells": ", ".join(f"{n} {s}" for s, n in counts.items()),
    }
    body = "\n".join([
        "<h2>Op x backend</h2>",
        _report.table(["op", *backends], rows),
        _html_legend(results),
        _html_failures(results),
        "" if resources is None or not resources.samples
        else "<h2>Resources</h2>\n<pre>" + esc(resources.format()) + "</pre>",
    ])
    return _report.page("xpops conformance", body, summary)


REPORT_FORMATS = {".json": to_json, ".md": to_markdown, ".html": to_html}


def write_report(
    results: Sequence[OpResult], path: str, resources: ResourceLog | None = None
) -> None:
    """Write JSON, Markdown or HTML, chosen by the file extension (:data:`REPORT_FORMATS`),
    with the run's resource samples (JSON) or their summary (Markdown, HTML)."""
    renderers = {
        ext: functools.partial(render, resources=resources)
        for ext, render in REPORT_FORMATS.items()
    }
    _report.write_report(path, results, renderers)
