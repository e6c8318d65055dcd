"""The conformance matrix in worker processes: a crash loses one cell, not the run.

The parent process never imports an array library: it hands (op, backend) cells to
``jobs`` worker processes (started with ``spawn``: forking a process that has loaded
torch or JAX is unsafe) and collects an :class:`~xpops.conformance.results.OpResult` and a
resource :class:`~xpops.conformance.resources.Sample` per cell.

- A worker that dies inside a cell (a segfault or abort in a backend's native code) or
  runs past ``cell_timeout`` gives that cell the status ``"error"``, with the signal and
  the worker's last output (a faulthandler traceback included) as its reason; a fresh
  worker takes the next cell.
- A worker whose resident memory passes ``memory_limit_mib`` after a cell is replaced (a
  guard against leaks in a backend; the run's log counts it, and the release of compiled
  programs after every cell is what keeps a healthy run under it).
- Ctrl-C stops the workers; the cells not finished are ``"not run"``.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import signal
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from .resources import ResourceLog, Sample
from .results import OpResult, Status

__all__ = ["Cell", "CellOptions", "run_cells", "default_jobs"]

MEMORY_LIMIT_MIB = 6144  # per worker; a healthy full run stays far below (see DESIGN.md)
CELL_TIMEOUT_S = 1800.0
_LOG_TAIL_LINES = 25


@dataclass(frozen=True)
class Cell:
    op: str
    backend: str

    @property
    def label(self) -> str:
        return f"{self.op} @ {self.backend}"


@dataclass(frozen=True)
class CellOptions:
    """How every cell runs; ``impl`` is an ``--impl`` target, resolved in the worker."""

    impl: str | None = None
    native: bool = False  # ``impl`` names a native counterpart: run it through its adapter
    natives: bool = True  # False: xpops' pure array-API path (``--pure``)
    max_examples: int = 25
    seed: int = 0


def default_jobs() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------- worker process


def check_cell(cell: Cell, options: CellOptions) -> OpResult:
    """One cell's checks, in this process."""
    from .. import spec as specs
    from .backends import named
    from .engine import check_op

    spec = specs.get(cell.op)
    backend = named(cell.backend)
    if options.native and options.impl:
        from .natives import check_native, find_natives

        native = find_natives(options.impl, [spec])[spec.name]
        (result,) = check_native(spec, native, [backend], max_examples=options.max_examples,
                                 seed=options.seed)
        return result
    impl = None
    if options.impl:
        from .targets import load_impls

        impl = load_impls(options.impl, [spec.name])[spec.name]
    return check_op(spec, backend, impl, natives=options.natives,
                    max_examples=options.max_examples, seed=options.seed)


def _return_freed_memory() -> None:
    """Give the memory freed by the cell back to the system (glibc's ``malloc_trim``).

    glibc keeps freed blocks in its arenas (one per thread that allocated: XLA and torch
    run thread pools), so without this a worker's RSS holds every earlier cell's peak:
    measured on every op's fixed cases on JAX, 1.1 GB after the release of compiled
    programs, 250-280 MB with the trim.
    """
    try:
        import ctypes

        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)


def _serve(conn: Connection, log_path: str, worker: int) -> None:
    """A worker's loop: receive a cell, check it, send the result and a resource sample."""
    from .resources import sample

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    # native libraries write to file descriptor 2: send it, and faulthandler's traceback
    # of a crash, to the log the parent reads when this process dies
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 2)
    os.close(fd)
    faulthandler.enable(all_threads=True)
    if hasattr(signal, "SIGUSR1"):  # the parent asks for the stack of a cell out of time
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    while True:
        request = conn.recv()
        if request is None:
            return
        cell, options = request
        try:
            result = check_cell(cell, options)
        except BaseException as exc:  # a bad --impl target (ValueError) included
            result = OpResult(cell.op, cell.backend, Status.ERROR,
                              reason=f"{type(exc).__name__}: {exc}")
        _return_freed_memory()
        conn.send((result, sample(worker, cell.label, result.executables)))


# ---------------------------------------------------------------- parent process


class _Worker:
    def __init__(self, context: Any, number: int, log_dir: str) -> None:
        self.number = number
        self.log_path = os.path.join(log_dir, f"worker-{number}.log")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, self.log_path, number), daemon=True,
            name=f"xpops-conformance-{number}",
        )
        self.process.start()
        child.close()
        self.index = -1  # the cell in hand, -1 when idle
        self.started = 0.0
        self.log_offset = 0

    def give(self, index: int, cell: Cell, options: CellOptions) -> None:
        self.index, self.started = index, time.monotonic()
        try:
            self.log_offset = os.path.getsize(self.log_path)
        except OSError:
            self.log_offset = 0
        self.conn.send((cell, options))

    def log_tail(self) -> str:
        """What the worker wrote while on its current cell (its last lines)."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                fh.seek(self.log_offset)
                lines = [line.rstrip() for line in fh
                         if line.strip() and not line.startswith("Extension modules:")]
        except OSError:
            return ""
        return "\n".join(lines[-_LOG_TAIL_LINES:])

    def dump_stack(self) -> None:
        """Have the worker write where it is to its log (faulthandler, SIGUSR1)."""
        if hasattr(signal, "SIGUSR1") and self.process.pid is not None:
            try:
                os.kill(self.process.pid, signal.SIGUSR1)
            except OSError:
                return
            time.sleep(0.5)

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except (OSError, BrokenPipeError):
                self.process.kill()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


def _error(cell: Cell, options: CellOptions, what: str, tail: str) -> OpResult:
    reason = f"the worker process {what} while checking this cell"
    if tail:
        reason += "; its last output:\n" + tail
    impl = options.impl if options.impl and options.native else "xpops"
    return OpResult(cell.op, cell.backend, Status.ERROR, reason=reason, impl=impl)


def run_cells(
    cells: Sequence[Cell],
    options: CellOptions,
    *,
    jobs: int | None = None,
    cell_timeout: float = CELL_TIMEOUT_S,
    memory_limit_mib: float = MEMORY_LIMIT_MIB,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[list[OpResult], ResourceLog]:
    """Check every cell in worker processes; results in the order of ``cells``."""
    context = multiprocessing.get_context("spawn")
    jobs = max(1, min(jobs or default_jobs(), len(cells) or 1))
    results: list[OpResult | None] = [None] * len(cells)
    log = ResourceLog()
    pending = deque(range(len(cells)))
    workers: list[_Worker] = []
    done = 0

    def start() -> None:
        log.workers_started += 1
        workers.append(_Worker(context, log.workers_started, log_dir))

    def finish(worker: _Worker, result: OpResult, sample: Sample | None) -> None:
        nonlocal done
        results[worker.index] = result
        if sample is not None:
            log.samples.append(sample)
        worker.index = -1
        done += 1
        if progress:
            progress(done, len(cells), result.op + " @ " + result.backend)

    def replace(worker: _Worker, *, kill: bool) -> None:
        worker.stop(kill=kill)
        workers.remove(worker)
        if pending:
            start()

    def lose(worker: _Worker, what: str) -> None:
        """The cell in hand is an error saying ``what`` happened; a new worker follows."""
        cell = cells[worker.index]
        finish(worker, _error(cell, options, what, worker.log_tail()), None)
        replace(worker, kill=True)

    with tempfile.TemporaryDirectory(prefix="xpops-conformance-") as log_dir:
        try:
            if progress:
                progress(0, len(cells), cells[0].label if cells else "done")
            for _ in range(jobs):
                start()
            while pending or any(w.index >= 0 for w in workers):
                for worker in workers:
                    if worker.index < 0 and pending:
                        i = pending.popleft()
                        worker.give(i, cells[i], options)
                busy = [w for w in workers if w.index >= 0]
                ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                             timeout=1.0)
                now = time.monotonic()
                for worker in busy:
                    received, died = None, False
                    if worker.conn in ready or worker.conn.poll():
                        try:
                            received = worker.conn.recv()
                        except (EOFError, OSError):  # it died: its exit code says how
                            died = True
                    if received is not None:
                        result, sample = received
                        finish(worker, result, sample)
                        if sample.rss_mib > memory_limit_mib:
                            log.recycled += 1
                            replace(worker, kill=False)
                    elif died or worker.process.sentinel in ready or not worker.process.is_alive():
                        worker.process.join(5)
                        lose(worker, _death(worker.process.exitcode))
                    elif now - worker.started > cell_timeout:
                        worker.dump_stack()
                        lose(worker, f"ran past the cell time limit ({cell_timeout:g} s) "
                             "and was killed")
        except KeyboardInterrupt:
            for i, cell in enumerate(cells):
                if results[i] is None:
                    results[i] = OpResult(cell.op, cell.backend, Status.NOT_RUN,
                                          reason="the run was interrupted")
        finally:
            for worker in list(workers):
                worker.stop(kill=worker.index >= 0)
    return [r for r in results if r is not None], log
