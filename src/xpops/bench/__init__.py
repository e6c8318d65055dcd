"""``xpops bench``: xpops next to each backend's native peer, as time ratios.

Every op runs fixed workloads from a fixed seed (4096 x 4096 float32 logits for the
activations and losses; workloads of their own for the metrics, see ``workloads/``) on
each available backend, interleaved with the peer a user of that library would otherwise call,
in one process and on the same device. Targets are stated as ratios xpops / peer, since
absolute times on shared machines mean little. Missing libraries and peers are skipped.
"""

from __future__ import annotations

from .report import format_results, results_to_json, write_report
from .runner import (
    BENCH_BACKENDS,
    BENCH_OPS,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    BenchResult,
    run_benchmarks,
)

__all__ = [
    "BENCH_BACKENDS",
    "BENCH_OPS",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "BenchResult",
    "format_results",
    "results_to_json",
    "run_benchmarks",
    "write_report",
]
