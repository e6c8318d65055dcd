"""Aligned plain-text tables, the terminal form of every listing and report."""

from __future__ import annotations

from collections.abc import Collection, Sequence

__all__ = ["aligned_table"]


def aligned_table(rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    """``rows[0]`` as the header, a rule of dashes, then the other rows: columns two
    spaces apart, left-aligned except the column indices in ``right``."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: Sequence[str]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return [line(rows[0]), "  ".join("-" * w for w in widths), *map(line, rows[1:])]
