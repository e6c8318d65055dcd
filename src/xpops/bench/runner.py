"""Run xpops and peer side by side on each backend and collect median times."""

from __future__ import annotations

import ctypes
import gc
import statistics
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

import xpops

from .._lib.native import natives_disabled
from ..conformance.backends import Backend, select
from .peers import Peer, Side
from .workloads import BENCH_OPS, DERIVED, INPUTS, WORKLOADS, Workload

__all__ = [
    "BENCH_BACKENDS",
    "BENCH_OPS",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "BenchResult",
    "run_benchmarks",
]

# Backends with a native peer; other backends (array_api_strict, dask, ...) are not timed.
BENCH_BACKENDS = ("numpy", "torch:cpu", "torch:cuda", "jax:cpu", "jax:gpu")
DEFAULT_SIZE = (4096, 4096)
DEFAULT_SEED = 20240917
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)


@dataclass(frozen=True)
class BenchResult:
    """One op on one backend: medians in seconds and ``ratio = xpops / peer``."""

    op: str
    backend: str
    workload: str
    peer: str
    xpops_median_s: float
    peer_median_s: float
    ratio: float
    target: float | None  # met when ratio <= target; None: informational row
    met: bool | None
    repeats: int


class _HostData:
    """The workload as NumPy arrays, built on first use from a fixed seed."""

    def __init__(self, size: tuple[int, int], seed: int) -> None:
        self.size = size
        self.seed = seed

    def _rng(self, stream: int) -> np.random.Generator:
        # one stream per array, so each is the same whichever ops are selected
        return np.random.default_rng([self.seed, stream])

    @cached_property
    def logits(self) -> np.ndarray:
        return self._rng(0).standard_normal(self.size, dtype=np.float32)

    @cached_property
    def labels(self) -> np.ndarray:
        return self._rng(1).integers(0, self.size[1], size=self.size[0], dtype=np.int64)

    @cached_property
    def binary(self) -> np.ndarray:
        return (self._rng(2).random(self.size, dtype=np.float32) < 0.5).astype(np.float32)

    @cached_property
    def probs(self) -> np.ndarray:
        # sigmoid of the logits: strictly inside (0, 1) for standard-normal input
        return (1 / (1 + np.exp(-self.logits.astype(np.float64)))).astype(np.float32)

    @cached_property
    def _generated(self) -> dict[str, np.ndarray]:
        return {}

    def get(self, name: str) -> np.ndarray:
        if name in ("logits", "labels", "binary", "probs"):
            return getattr(self, name)
        cache = self._generated
        if name not in cache:
            if name in DERIVED:
                source, view = DERIVED[name]
                cache[name] = view(self.get(source))
            else:
                stream = 100 + zlib.crc32(name.encode())  # stable whatever else exists
                cache[name] = INPUTS[name](self._rng(stream), self.size)
        return cache[name]


def _synchronizer(backend: Backend) -> Callable[[Any], None]:
    """Waits until ``out`` (and all queued device work) is complete."""
    if backend.library == "jax":
        import jax

        return lambda out: jax.block_until_ready(out)
    if backend.name == "torch:cuda":
        import torch

        return lambda out: torch.cuda.synchronize(backend.device)
    return lambda out: None


def _bind(backend: Backend, side: Side, arrays: dict[str, Any]) -> Callable[[], Any]:
    """A no-argument call of ``side`` on the backend's arrays (jitted on JAX)."""
    fn = side.fn
    if backend.library == "jax":
        import jax

        fn = jax.jit(fn)
    args = tuple(arrays[name] for name in side.inputs)
    return lambda: fn(*args)


def _time_pair(
    a: Callable[[], Any],
    b: Callable[[], Any],
    sync: Callable[[Any], None],
    repeats: int,
    warmup: int,
) -> tuple[float, float]:
    """Median seconds of ``a`` and ``b``, timed alternately (a first on even rounds)."""

    def once(f: Callable[[], Any]) -> float:
        sync(None)
        start = time.perf_counter()
        out = f()
        sync(out)
        elapsed = time.perf_counter() - start
        del out
        return elapsed

    for _ in range(warmup):
        once(a)
        once(b)
    times_a: list[float] = []
    times_b: list[float] = []
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(repeats):
            if i % 2 == 0:
                times_a.append(once(a))
                times_b.append(once(b))
            else:
                times_b.append(once(b))
                times_a.append(once(a))
    finally:
        if was_enabled:
            gc.enable()
    return statistics.median(times_a), statistics.median(times_b)


def _check_ops(ops: list[str] | None) -> list[str]:
    if ops is None:
        return list(BENCH_OPS)
    unknown = [op for op in ops if op not in BENCH_OPS]
    if unknown:
        msg = f"unknown op(s) {unknown}; known: {', '.join(BENCH_OPS)}"
        raise ValueError(msg)
    return [op for op in BENCH_OPS if op in ops]


def _bench_backends(patterns: list[str] | None) -> Iterator[Backend | str]:
    """Available benchmark backends, or a message for each selected one that is skipped."""
    for backend in select(patterns):
        if backend.name not in BENCH_BACKENDS:
            if patterns:
                yield f"skip {backend.name}: no native peer to compare with"
        elif not backend.available:
            yield f"skip {backend.name}: {backend.reason}"
        else:
            yield backend


def run_benchmarks(
    ops: list[str] | None = None,
    backends: list[str] | None = None,
    repeats: int = 7,
    progress: Callable[[str], None] | None = None,
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    warmup: int = 1,
    natives: bool = True,
) -> list[BenchResult]:
    """Time each op against its native peer on each available backend.

    Parameters
    ----------
    ops : xpops op names (default all of :data:`BENCH_OPS`); unknown names raise ValueError.
    backends : backend names or prefixes as for the conformance suite (``"torch"`` means
        ``torch:cpu`` and ``torch:cuda``); default every installed backend of
        :data:`BENCH_BACKENDS`. Backends and peers that are not installed are skipped.
    repeats : timed calls per side; the median is reported.
    progress : called with a short line before each pair is timed and for each skip.
    size : ``(rows, classes)`` of the logits; the other workloads scale their element
        counts with it (full size at the default); smaller sizes are for tests.
    seed : seed of the random workload.
    warmup : untimed calls per side before timing (JAX gets one more, for compilation).
    natives : False times xpops' pure array-API path, never a backend's own kernel.
    """
    if repeats < 1:
        msg = f"`repeats` must be at least 1, got {repeats}"
        raise ValueError(msg)
    selected_ops = _check_ops(ops)
    _steady_heap()
    say = progress if progress is not None else (lambda line: None)
    rows, classes = size
    data = _HostData((int(rows), int(classes)), seed)
    results: list[BenchResult] = []
    for item in _bench_backends(backends):
        if isinstance(item, str):
            say(item)
            continue
        with item.activate():
            results.extend(
                _run_backend(item, selected_ops, data, repeats, warmup, say, natives)
            )
    return results


def _steady_heap() -> None:
    """Pins glibc's malloc thresholds for the rest of the process.

    By default freeing a large block raises the threshold above which allocations are
    mapped afresh (and page-faulted on every call) to that block's size, so one
    workload's times would depend on which workloads ran before it: ``batched_nms``
    alone ran twice as slow as after ``box_iou``. At their ceilings every workload sees
    the steady state of a long-running process, whatever the selection. Both sides of
    a ratio run in this process under the same setting. No-op off glibc.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's ceiling on 64-bit
    mallopt(_M_TRIM_THRESHOLD, 1 << 30)


def _pure(side: Side) -> Side:
    """The same call with delegation to native kernels switched off."""

    def call(*args: Any) -> Any:
        with natives_disabled():
            return side.fn(*args)

    return Side(call, side.inputs)


def _run_backend(
    backend: Backend,
    ops: list[str],
    data: _HostData,
    repeats: int,
    warmup: int,
    say: Callable[[str], None],
    natives: bool = True,
) -> Iterator[BenchResult]:
    sync = _synchronizer(backend)
    extra_warmup = 1 if backend.library == "jax" else 0
    arrays: dict[str, Any] = {}
    for op in ops:
        if not hasattr(xpops, op):
            say(f"skip {op}: xpops has no {op} yet")
            continue
        for workload in (w for w in WORKLOADS if w.op == op):
            peers = workload.peers.get(backend.library, ())
            if not peers:
                say(f"skip {op} on {backend.name}: no native peer")
            for peer in peers:
                result = _run_pair(
                    backend, workload, peer, data, arrays, sync, repeats,
                    warmup + extra_warmup, say, natives,
                )
                if result is not None:
                    yield result


def _run_pair(
    backend: Backend,
    workload: Workload,
    peer: Peer,
    data: _HostData,
    arrays: dict[str, Any],
    sync: Callable[[Any], None],
    repeats: int,
    warmup: int,
    say: Callable[[str], None],
    natives: bool,
) -> BenchResult | None:
    op = workload.op
    try:
        peer_side = peer.load()
    except Exception as exc:  # a missing (ImportError) or broken optional peer
        say(f"skip {op} on {backend.name}: peer {peer.name} unavailable ({exc})")
        return None
    ours = workload.ours() if natives else _pure(workload.ours())
    for name in ours.inputs + peer_side.inputs:
        if name not in arrays:
            arrays[name] = backend.asarray(data.get(name))
    say(f"{backend.name} {op} vs {peer.name}")
    t_ours, t_peer = _time_pair(
        _bind(backend, ours, arrays),
        _bind(backend, peer_side, arrays),
        sync,
        repeats,
        warmup,
    )
    ratio = t_ours / t_peer
    return BenchResult(
        op=op,
        backend=backend.name,
        workload=workload.describe(data.size) + ("" if natives else ", pure array-API path"),
        peer=peer.name,
        xpops_median_s=t_ours,
        peer_median_s=t_peer,
        ratio=ratio,
        target=peer.target,
        met=None if peer.target is None else ratio <= peer.target,
        repeats=repeats,
    )
