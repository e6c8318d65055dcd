"""What the written reports share: the format chosen by the file extension, and the HTML
page skeleton (inline CSS, escaping, the environment header).

The HTML pages are self-contained: no scripts, no external stylesheets, fonts or images, and
a Content-Security-Policy that forbids the browser from loading anything, so a report opens
the same offline, from a CI artifact or from an email attachment.
"""

from __future__ import annotations

import datetime
import html
import importlib.metadata
import os
import platform
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

__all__ = ["Html", "cell", "check_report_path", "environment", "esc", "page", "table",
           "write_report"]

T = TypeVar("T")

# libraries whose versions make a report reproducible; absent ones are left out
_LIBRARIES = ("numpy", "array-api-strict", "array-api-compat", "torch", "jax", "jaxlib",
              "dask", "hypothesis")

# neutral for anything but success and failure, so a status added later needs no style
_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { margin-bottom: .2em; }
header dl { display: grid; grid-template-columns: max-content auto; gap: 0 1em;
            color: #555; margin: 0 0 1em; }
header dt { font-weight: 600; }
header dd { margin: 0; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.good { background: #c8ecc9; fill: #4caf50; }
.bad { background: #f8c4c0; fill: #e53935; }
.neutral { background: #e4e4e4; fill: #9e9e9e; }
td a { color: inherit; font-weight: 600; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .5em; overflow-x: auto;
      white-space: pre-wrap; word-break: break-all; }
svg text { font: 12px system-ui, sans-serif; fill: #222; }
svg line.target { stroke: #000; stroke-width: 2; stroke-dasharray: 4 2; }
svg line.parity { stroke: #888; stroke-width: 1; }
.swatch { display: inline-block; padding: 0 .6em; border: 1px solid #ccc; }
"""

# default-src 'none': nothing may be fetched; only the inline stylesheet applies
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


class Html(str):
    """Text that is already HTML: :func:`table` takes it as is instead of escaping it."""

    __slots__ = ()


def esc(value: object) -> str:
    """``value`` as HTML text: ``<``, ``>``, ``&`` and both quotes escaped."""
    return html.escape(str(value), quote=True)


def check_report_path(path: str, formats: Iterable[str]) -> str:
    """The extension of ``path`` among ``formats`` (e.g. ``".json"``); ValueError otherwise."""
    formats = list(formats)
    for ext in formats:
        if path.endswith(ext):
            return ext
    choices = ", ".join(formats[:-1]) + " or " + formats[-1] if len(formats) > 1 else formats[0]
    msg = f"--report must end in {choices}, got {path!r}"
    raise ValueError(msg)


def write_report(path: str, results: T, renderers: Mapping[str, Callable[[T], str]]) -> None:
    """Render ``results`` with the renderer chosen by the extension of ``path`` and write it."""
    text = renderers[check_report_path(path, renderers)](results)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def environment() -> dict[str, str]:
    """xpops version, date, Python, platform and the installed array libraries' versions."""
    from . import __version__

    versions = []
    for name in _LIBRARIES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "xpops": __version__,
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "libraries": ", ".join(versions),
    }


def page(title: str, body: str, summary: Mapping[str, str] | None = None) -> str:
    """A complete HTML document: ``title``, the environment and ``summary`` as a header,
    then ``body`` (already HTML)."""
    facts = {**environment(), **(summary or {})}
    header = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts.items())
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">\n"
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1><dl>{header}</dl></header>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def cell(text: object, *, cls: str = "", title: str = "", href: str = "") -> Html:
    """One ``<td>``: escaped ``text``, optional class, tooltip and link."""
    content = esc(text)
    if href:
        content = f"<a href=\"{esc(href)}\">{content}</a>"
    attrs = f" class=\"{esc(cls)}\"" if cls else ""
    attrs += f" title=\"{esc(title)}\"" if title else ""
    return Html(f"<td{attrs}>{content}</td>")


def table(
    head: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: Iterable[int] = ()
) -> str:
    """A table of ``head`` and ``rows``: values are escaped into cells, except :class:`Html`
    ones, which are ready cells (see :func:`cell`); ``numeric`` columns align right."""
    right = set(numeric)
    lines = ["<table>", "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells = [
            v if isinstance(v, Html) else
            cell(v, cls="num" if i in right else "")
            for i, v in enumerate(row)
        ]
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)
