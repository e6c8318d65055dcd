"""What a conformance worker process holds: memory, memory maps, compiled programs.

A worker samples itself after every cell; the run's log keeps every sample so a report
can show that a run twice as long does not hold twice the resources (start, middle and
end of the run side by side).
"""

from __future__ import annotations

import resource
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Sample", "ResourceLog", "sample", "map_limit"]


@dataclass
class Sample:
    """One worker's state right after a cell (its compiled programs already released)."""

    worker: int  # 1, 2, ...: the n-th worker process started in the run
    cell: str  # "op @ backend"
    rss_mib: float
    peak_rss_mib: float  # the worker's high-water mark so far
    maps: int  # lines of /proc/self/maps (-1 where there is no /proc)
    live_executables: int  # JAX executables still alive after the release (-1: JAX not loaded)
    cell_executables: int = 0  # JAX executables the cell compiled, freed after it


def _status_kib(field_name: str) -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return -1.0


def _maps() -> int:
    try:
        with open("/proc/self/maps", "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return -1


def live_executables() -> int:
    """JAX executables alive in this process; -1 when JAX was never imported."""
    if "jax" not in sys.modules:
        return -1
    from jax.extend.backend import get_backend

    return len(get_backend().live_executables())


def sample(worker: int, cell: str, cell_executables: int = 0) -> Sample:
    rss = _status_kib("VmRSS")
    peak = _status_kib("VmHWM")
    if peak < 0:  # no /proc: getrusage's maximum (KiB on Linux, bytes on macOS)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = peak / 1024 if sys.platform == "darwin" else peak
    return Sample(
        worker, cell, round(rss / 1024, 1), round(peak / 1024, 1), _maps(),
        live_executables(), cell_executables,
    )


def map_limit() -> int:
    """The kernel's per-process limit on memory maps (-1 where unknown)."""
    try:
        with open("/proc/sys/vm/max_map_count", encoding="ascii") as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return -1


@dataclass
class ResourceLog:
    """Every sample of a run, in the order the cells finished, from every worker."""

    samples: list[Sample] = field(default_factory=list)
    workers_started: int = 0
    # workers replaced because they outgrew the memory guard (not counting crashes)
    recycled: int = 0

    def _by_worker(self) -> dict[int, list[Sample]]:
        by_worker: dict[int, list[Sample]] = {}
        for x in self.samples:
            by_worker.setdefault(x.worker, []).append(x)
        return by_worker

    @staticmethod
    def _marks(samples: list[Sample]) -> dict[str, int]:
        """Positions of the start, the middle and the end in one worker's samples."""
        return {"start": 0, "middle": (len(samples) - 1) // 2, "end": len(samples) - 1}

    def milestones(self) -> dict[int, dict[str, Sample]]:
        """Each worker's samples at the start, the middle and the end of its life."""
        return {
            w: {name: s[i] for name, i in self._marks(s).items()}
            for w, s in self._by_worker().items()
        }

    def worst(self) -> dict[str, Any]:
        if not self.samples:
            return {}
        heaviest = max(self.samples, key=lambda x: x.cell_executables)
        return {
            "peak_rss_mib": max(x.peak_rss_mib for x in self.samples),
            "maps": max(x.maps for x in self.samples),
            "live_executables": max(x.live_executables for x in self.samples),
            "cell_executables": heaviest.cell_executables,
            "heaviest_cell": heaviest.cell,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "map_limit": map_limit(),
            "workers_started": self.workers_started,
            "recycled": self.recycled,
            "worst": self.worst(),
            "milestones": {
                str(w): {k: asdict(v) for k, v in marks.items()}
                for w, marks in self.milestones().items()
            },
            "samples": [asdict(x) for x in self.samples],
        }

    def format(self) -> str:
        """A few lines for the terminal: start / middle / end and the worst values."""
        if not self.samples:
            return ""
        rows = [("worker", "", "its cells", "RSS MiB", "peak RSS MiB", "memory maps",
                 "live JAX executables")]
        by_worker = self._by_worker()
        for w, samples in list(by_worker.items())[:_SHOWN_WORKERS]:
            for name, i in self._marks(samples).items():
                x = samples[i]
                rows.append((
                    str(w) if name == "start" else "", name, str(i + 1),
                    f"{x.rss_mib:.0f}", f"{x.peak_rss_mib:.0f}", str(x.maps),
                    _count(x.live_executables),
                ))
        from .._text import aligned_table

        worst = self.worst()
        limit = map_limit()
        recycled = f", {self.recycled} replaced by the memory guard" if self.recycled else ""
        if len(by_worker) > _SHOWN_WORKERS:
            recycled += f"; the first {_SHOWN_WORKERS} shown"
        lines = [
            f"resources per worker process ({self.workers_started} started{recycled}), "
            "after each cell:",
            *("  " + line for line in aligned_table(rows)),
            f"  worst: peak RSS {worst['peak_rss_mib']:.0f} MiB, {worst['maps']} memory maps"
            + (f" (limit {limit})" if limit > 0 else "")
            + f", {_count(worst['live_executables'])} live JAX executables"
            + (f"; largest cell compiled {worst['cell_executables']} "
               f"({worst['heaviest_cell']}), freed after it"
               if worst["cell_executables"] > 0 else ""),
        ]
        return "\n".join(lines)


_SHOWN_WORKERS = 4


def _count(n: int) -> str:
    return "-" if n < 0 else str(n)
