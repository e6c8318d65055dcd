"""`xpops conformance` as a user runs it: worker processes, bounded resources, crashes
contained to their cell, every cell in the matrix and the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BACKENDS
from xpops.cli import main
from xpops.conformance import backends as backend_mod
from xpops.conformance.workers import Cell, CellOptions, run_cells
from xpops.spec import SPECS

TESTS = Path(__file__).parent


def _xpops(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path])}
    return subprocess.run(
        [sys.executable, "-m", "xpops", *args], capture_output=True, text=True,
        timeout=timeout, env=env, cwd=TESTS,
    )


@pytest.mark.slow  # about 7 minutes on one core: every op's fixed cases, compiled by XLA
@pytest.mark.skipif(
    not any(b.name == "jax:cpu" and b.available for b in BACKENDS), reason="jax:cpu not selected"
)
def test_jax_run_holds_bounded_memory_maps_and_executables(tmp_path):
    """Every op on jax:cpu with x64 off and on, in one worker process. Without the release
    of compiled programs after each cell, this run ends holding about 5,000 live XLA
    executables and 26,000 memory maps, and at 10 drawn cases 52,000 maps (the kernel's
    limit is 65,530: the default budget of the full matrix crashed past it); with the
    release the maps, the live executables and the memory stay flat."""
    report = tmp_path / "jax.json"
    run = _xpops("conformance", "--backend", "jax:cpu", "--max-examples", "0", "--jobs", "1",
                 "-q", "--report", str(report), timeout=1500)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    data = json.loads(report.read_text())
    assert {r["status"] for r in data["results"]} == {"pass"}
    assert len(data["results"]) == 2 * len(SPECS)
    res = data["resources"]
    assert res["workers_started"] == 1 and res["recycled"] == 0  # one process ran it all
    samples = res["samples"]
    assert len(samples) == 2 * len(SPECS)
    # the measurement is real: cells compiled programs, and none outlived its cell
    assert sum(s["cell_executables"] for s in samples) > 1000
    assert max(s["live_executables"] for s in samples) == 0
    start, middle, end = (res["milestones"]["1"][k] for k in ("start", "middle", "end"))
    assert max(s["maps"] for s in samples) < start["maps"] + 300
    # the second half of the run does not need what the first half took again
    assert end["maps"] < middle["maps"] + 100
    assert end["rss_mib"] < 1.25 * middle["rss_mib"] + 100
    assert "resources per worker process" in run.stdout


def test_a_crash_or_a_hang_costs_one_cell(tmp_path):
    """A segfault, an abort and a hang each give their cell an error naming what
    happened and where; the correct op beside them still runs and passes."""
    report = tmp_path / "crash.json"
    ops = ["softmax", "sigmoid", "log_sigmoid", "logsumexp"]
    run = _xpops("conformance", "--impl", "crashing_impls", *[a for o in ops for a in ("--op", o)],
                 "--backend", "numpy", "--max-examples", "2", "--cell-timeout", "8", "-q",
                 "--report", str(report), "--report", str(tmp_path / "crash.html"), timeout=300)
    assert run.returncode == 3, run.stdout + run.stderr  # cells could not finish, none failed
    by_op = {r["op"]: r for r in json.loads(report.read_text())["results"]}
    assert [by_op[o]["status"] for o in ops] == ["error", "error", "pass", "error"]
    assert "SIGSEGV" in by_op["softmax"]["reason"]
    assert "SIGABRT" in by_op["sigmoid"]["reason"]
    assert "cell time limit (8 s)" in by_op["logsumexp"]["reason"]
    for op in ("softmax", "sigmoid", "logsumexp"):  # faulthandler's stack of the worker
        assert "crashing_impls.py" in by_op[op]["reason"] and f"in {op}" in by_op[op]["reason"]
    assert "ERROR softmax @ numpy" in run.stdout
    html = (tmp_path / "crash.html").read_text()
    assert 'class="bad"' in html and "SIGSEGV" in html


def test_memory_guard_replaces_a_grown_worker():
    cells = [Cell(op, "numpy") for op in ("sigmoid", "log_sigmoid", "softmax")]
    results, log = run_cells(cells, CellOptions(max_examples=1), jobs=1, memory_limit_mib=1)
    assert [(r.op, r.status) for r in results] == [(c.op, "pass") for c in cells]
    assert log.recycled == 3 and log.workers_started == 3  # none started after the last cell
    assert len({s.worker for s in log.samples}) == 3


def test_interrupt_reports_the_unfinished_cells_as_not_run():
    cells = [Cell(op, "numpy") for op in ("sigmoid", "log_sigmoid", "softmax")]

    def progress(done: int, total: int, label: str) -> None:
        if done == 1:
            raise KeyboardInterrupt

    results, _ = run_cells(cells, CellOptions(max_examples=1), jobs=1, progress=progress)
    assert [r.status for r in results] == ["pass", "not run", "not run"]


def test_a_backend_that_fails_to_load_is_reported_not_fatal(monkeypatch, capsys):
    def broken():
        raise RuntimeError("libcuda exploded")
        yield  # a generator, as every probe is

    probes = tuple((broken, names) if "cupy" in names else (p, names)
                   for p, names in backend_mod._PROBES)
    monkeypatch.setattr(backend_mod, "_PROBES", probes)
    (cupy,) = backend_mod.select(["cupy"])
    assert not cupy.available
    assert cupy.reason == "failed to load: RuntimeError: libcuda exploded"
    assert main(["conformance", "--op", "sigmoid", "--backend", "numpy", "--backend", "cupy",
                 "--max-examples", "1", "-q", "--in-process"]) == 0
    assert "cupy (failed to load: RuntimeError: libcuda exploded)" in capsys.readouterr().out


def test_selecting_numpy_imports_no_other_library():
    code = ("import sys; from xpops.conformance.backends import select; select(['numpy']); "
            "print(sorted(m for m in ('torch', 'jax', 'dask', 'cupy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_jobs_must_be_positive(capsys):
    assert main(["conformance", "--op", "sigmoid", "--jobs", "0", "-q"]) == 2
    assert "--jobs must be at least 1, got 0" in capsys.readouterr().err
