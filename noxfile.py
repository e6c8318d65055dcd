"""The test matrix. `nox -l` lists the sessions; README.md names the two that matter most."""

from __future__ import annotations

import shutil

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "minimal", "lint"]

# One torch version for the whole matrix. The CPU sessions pin it without a local tag, so
# pip prefers its `+cpu` build wherever a wheel folder or index offers one (PyTorch's CPU
# index); tests-torch-cuda pins the CUDA build of the same version.
TORCH_VERSION = "2.13.0"
TORCH_CPU = f"torch=={TORCH_VERSION}"
# torchmetrics' cross-checks (tests/test_impl_adapters.py) skip where it is absent; it is
# pure Python and needs only torch and lightning-utilities
TORCHMETRICS = "torchmetrics==1.9.0"
FULL = [".[tests,peers,jax]", TORCH_CPU, TORCHMETRICS]
# MONAI's own requirements are numpy and torch, installed above; --no-deps keeps pip
# from resolving torch again.
MONAI = ["--no-deps", "monai==1.6.1"]


@nox.session
def tests(session: nox.Session) -> None:
    """Full backend set: numpy, array-api-strict (all devices), torch CPU, jax CPU.

    The native peers come too (scipy, scikit-learn, optax, pycocotools, torchmetrics,
    MONAI), so their cross-checks run rather than skip.
    """
    session.install(*FULL)
    session.install(*MONAI)
    # one worker per core: JAX compiles every new shape, and the matrix is wide
    session.run("pytest", "-n", "auto", *session.posargs)


@nox.session
def minimal(session: nox.Session) -> None:
    """Required dependencies only (NumPy, array-api-strict, safetensors): no torch, no jax."""
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


def _require_gpu(session: nox.Session) -> None:
    if shutil.which("nvidia-smi") is None:
        session.skip("no NVIDIA GPU here (nvidia-smi not found): GPU backends not tested")


# PyTorch's CUDA 13.0 index, the CUDA the PyPI builds of this torch series use; the exact
# `+cu130` pin leaves pip no CPU wheel of the same version to fall back on
TORCH_CUDA_INDEX = "https://download.pytorch.org/whl/cu130"
TORCH_CUDA = f"torch=={TORCH_VERSION}+cu130"


@nox.session(name="tests-torch-cuda")
def tests_torch_cuda(session: nox.Session) -> None:
    """torch on CUDA, the CPU sessions' version; skips with a message without a GPU."""
    _require_gpu(session)
    session.install("--index-url", TORCH_CUDA_INDEX, TORCH_CUDA)
    session.install(".[tests,peers]", TORCHMETRICS)  # the installed torch satisfies it
    session.run("pytest", *session.posargs, env={"XPOPS_BACKENDS": "numpy,torch"})


@nox.session(name="tests-jax-gpu")
def tests_jax_gpu(session: nox.Session) -> None:
    """jax on GPU; skips with a message on machines without a GPU."""
    _require_gpu(session)
    session.install(".[tests,peers]", "jax[cuda12]")
    session.run("pytest", *session.posargs, env={"XPOPS_BACKENDS": "numpy,jax"})


# torchvision pins its own torch, newer than TORCH_VERSION, as a multi-GB CUDA build: too
# large for CI, so .ci/run leaves the peers session out.
TORCHVISION = ["torch==2.14.1", "torchvision==0.29.1"]
TORCHVISION_FILES = ["tests/test_boxes.py", "tests/test_nms.py"]


@nox.session
def peers(session: nox.Session) -> None:
    """Cross-checks against torchvision.ops; optional, not in .ci/run.

    The box and NMS test files whole, every other test named for torchvision (adapters,
    oracle constants), and the conformance of the box and NMS ops, with gradients
    against torchvision's autograd.
    """
    session.install(".[tests]", *TORCHVISION)
    env = {"XPOPS_BACKENDS": "numpy,torch"}
    session.run("pytest", *TORCHVISION_FILES, *session.posargs, env=env)
    skip_files = [f"--ignore={f}" for f in TORCHVISION_FILES]
    session.run("pytest", "-k", "torchvision", *skip_files, *session.posargs, env=env)
    session.run("pytest", "tests/test_conformance.py", "-k", "box or nms", *session.posargs,
                env=env)
