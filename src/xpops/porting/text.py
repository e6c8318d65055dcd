"""Plain-text rendering of the generated Markdown, wrapped for a terminal."""

from __future__ import annotations

import re
import textwrap

from .._text import aligned_table

__all__ = ["markdown_to_text"]

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _inline(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = text.replace("**", "").replace("\\|", "|")
    return re.sub(r"``? ?([^`]+?) ?``?", r"\1", text)


def _cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [_inline(c.strip()) for c in cells]


def _table(rows: list[list[str]], width: int) -> list[str]:
    header, body = rows[0], rows[1:]
    table = aligned_table(rows)
    if len(table[1]) <= width:  # the rule spans the full table width
        return table
    out = []
    for row in body:  # too wide: one wrapped paragraph per row, columns named
        parts = [row[0]] + [f"{h}: {c}" for h, c in zip(header[1:], row[1:], strict=True) if c]
        out += textwrap.wrap("; ".join(parts), width, subsequent_indent="    ") or [""]
    return out


def markdown_to_text(markdown: str, width: int = 100) -> str:
    """The subset of Markdown the pages use (headings, paragraphs, bullets, tables, code
    blocks) as wrapped plain text."""
    width = max(width, 40)
    out: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            indent = line[: len(line) - len(line.lstrip())]
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                out.append("    " + lines[i][len(indent):])
                i += 1
        elif stripped.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                if not re.fullmatch(r"\|(---\|)+", lines[i].strip()):
                    rows.append(_cells(lines[i]))
                i += 1
            out += _table(rows, width)
            continue
        elif stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            title = _inline(stripped.lstrip("#").strip())
            out += [title, ("=" if level == 1 else "-") * min(len(title), width)]
        elif stripped.startswith("- "):
            out += textwrap.wrap(_inline(stripped), width, subsequent_indent="  ")
        elif stripped:
            out += textwrap.wrap(_inline(stripped), width)
        else:
            out.append("")
        i += 1
    return "\n".join(out).rstrip() + "\n"
