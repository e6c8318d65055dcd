"""The test matrix. `nox -l` lists the sessions; README.md names the two that matter most."""

from __future__ import annotations

import shutil

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "minimal", "lint"]

# A CPU build: an unpinned `torch` pulls a multi-GB CUDA build.
TORCH_CPU = "torch==2.13.0"
FULL = [".[tests,peers,jax]", TORCH_CPU]
# MONAI's own requirements are numpy and torch, installed above; --no-deps keeps pip
# from resolving torch again.
MONAI = ["--no-deps", "monai==1.6.1"]


@nox.session
def tests(session: nox.Session) -> None:
    """Full backend set: numpy, array-api-strict (all devices), torch CPU, jax CPU."""
    session.install(*FULL)
    session.install(*MONAI)
    # one worker per core: JAX compiles every new shape, and the matrix is wide
    session.run("pytest", "-n", "auto", *session.posargs)


@nox.session
def minimal(session: nox.Session) -> None:
    """Required dependencies only (NumPy + array-api-strict): torch and jax stay optional."""
    session.install(".[tests]")
    session.run("pytest", "-n", "auto", "-p", "no:cacheprovider", *session.posargs)


@nox.session
def dask(session: nox.Session) -> None:
    """The lazy ops on chunked dask.array inputs, on a dask.distributed LocalCluster.

    Only tests/test_dask.py: the conformance matrix on the Dask backend takes minutes
    per neighbour op (XPOPS_BACKENDS=dask pytest tests/test_conformance.py runs it;
    ops that cannot stay lazy are skipped there as not supported).
    """
    session.install(".[tests,dask]")
    session.run("pytest", "-p", "no:cacheprovider", "tests/test_dask.py", *session.posargs)


@nox.session
def long(session: nox.Session) -> None:
    """Many more hypothesis examples; for nightly runs, not CI."""
    session.install(*FULL)
    session.install(*MONAI)
    session.run(
        "pytest", *session.posargs,
        env={"XPOPS_HYPOTHESIS_PROFILE": "long", "XPOPS_MAX_EXAMPLES": "300",
             "XPOPS_JAX_MAX_EXAMPLES": "100"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on everything, mypy on src/."""
    session.install("ruff", "mypy", ".")
    session.run("ruff", "check", "src", "tests", "noxfile.py")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """The porting reference in docs/ is current (`xpops porting --write` regenerates it)."""
    session.install(".")
    session.run("xpops", "porting", "--check", "docs")


@nox.session
def conformance(session: nox.Session) -> None:
    """The conformance matrix over every backend installed in the full set, one worker
    process per core; the report goes to reports/conformance.{json,html} unless other
    arguments are given."""
    session.install(*FULL)
    session.install(*MONAI)
    reports = ["--report", "reports/conformance.json", "--report", "reports/conformance.html"]
    session.run("xpops", "conformance", *(session.posargs or reports))


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: xpops next to the native peers, as ratios."""
    session.install(".[peers,jax,benchmarks]", TORCH_CPU)
    session.install(*MONAI)
    session.run("xpops", "bench", *session.posargs)


# torchvision pins its own torch, different from TORCH_CPU above, and is too large for CI.
TORCHVISION = ["torch==2.14.1", "torchvision==0.29.1"]


@nox.session
def peers(session: nox.Session) -> None:
    """Cross-checks against torchvision.ops (optional, not in .ci/run): the torchvision
    tests of the box and NMS families, and their conformance with gradients vs
    torchvision's autograd."""
    session.install(".[tests]", *TORCHVISION)
    env = {"XPOPS_BACKENDS": "numpy,torch"}
    session.run("pytest", "tests/test_boxes.py", "tests/test_nms.py", *session.posargs, env=env)
    session.run("pytest", "tests/test_conformance.py", "-k", "box or nms", *session.posargs,
                env=env)


def _require_gpu(session: nox.Session) -> None:
    if shutil.which("nvidia-smi") is None:
        session.skip("no NVIDIA GPU here (nvidia-smi not found): GPU backends not tested")


@nox.session(name="tests-torch-cuda")
def tests_torch_cuda(session: nox.Session) -> None:
    """torch on CUDA; skips with a message on machines without a GPU."""
    _require_gpu(session)
    session.install(".[tests,peers]", "torch")
    session.run("pytest", *session.posargs, env={"XPOPS_BACKENDS": "numpy,torch"})


@nox.session(name="tests-jax-gpu")
def tests_jax_gpu(session: nox.Session) -> None:
    """jax on GPU; skips with a message on machines without a GPU."""
    _require_gpu(session)
    session.install(".[tests,peers]", "jax[cuda12]")
    session.run("pytest", *session.posargs, env={"XPOPS_BACKENDS": "numpy,jax"})


# torchvision pins its own torch, different from TORCH_CPU above, and is too large for CI.
TORCHVISION = ["torch==2.14.1", "torchvision==0.29.1"]


@nox.session
def torchvision(session: nox.Session) -> None:
    """Cross-checks against torchvision.ops (optional, not in CI): the `-k torchvision`
    tests, and the conformance of the box ops with gradients vs torchvision's autograd."""
    session.install(".[tests]", *TORCHVISION)
    env = {"XPOPS_BACKENDS": "numpy,torch"}
    session.run("pytest", "-k", "torchvision", *session.posargs, env=env)
    session.run("pytest", "tests/test_conformance.py", "-k", "box", *session.posargs, env=env)
