"""The porting reference: one page per op, generated from its spec, with the measured
differences of every native counterpart (``docs/``, ``xpops porting``)."""

from __future__ import annotations

from .measure import RECORDS_FILE, load_records, measure, measure_native
from .page import check_pages, render_index, render_page, render_pages, write_pages

__all__ = [
    "RECORDS_FILE",
    "load_records",
    "measure",
    "measure_native",
    "render_page",
    "render_index",
    "render_pages",
    "write_pages",
    "check_pages",
]
