"""Shared fixtures: one ``backend`` per installed array library, and strict ``device1``.

``XPOPS_BACKENDS`` (comma-separated names or prefixes, e.g. ``numpy,torch``) narrows the
set; by default every available backend runs.
"""

from __future__ import annotations

import os

# XLA's optimisation passes dominate the suite's time (JAX compiles every new shape) and
# do not change results on CPU, where fast-math is off; `xpops conformance` keeps them.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from xpops._lib.native import natives_disabled
from xpops.conformance.backends import Backend, select

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("XPOPS_MAX_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture
    ],
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=500,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture
    ],
    print_blob=True,
)
settings.load_profile(os.environ.get("XPOPS_HYPOTHESIS_PROFILE", "ci"))


def _selected() -> list[Backend]:
    env = os.environ.get("XPOPS_BACKENDS")
    patterns = [p.strip() for p in env.split(",") if p.strip()] if env else None
    return select(patterns)


BACKENDS = _selected()


@pytest.fixture(params=BACKENDS, ids=[b.name for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each known backend; unavailable ones skip with the reason."""
    b: Backend = request.param
    if not b.available:
        pytest.skip(f"{b.name}: {b.reason}")
    with b.activate():
        yield b


@pytest.fixture
def xp(backend: Backend):
    """The array-API namespace of ``backend``."""
    return backend.xp


@pytest.fixture
def device1() -> Backend:
    """array-api-strict's non-default device: proves outputs stay where inputs live."""
    (b,) = select(["array_api_strict:device1"])
    return b


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(params=["native", "pure"])
def both_paths(request: pytest.FixtureRequest):
    """Run a test with delegation to native kernels on, then on the pure array-API path.

    Comparisons with torch are trivial where xpops hands torch tensors to torch's own
    kernel; the pure run is the one that checks xpops' code.
    """
    if request.param == "pure":
        with natives_disabled():
            yield
    else:
        yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked slow first: under ``-n auto`` one worker starts on them while the
    others share the rest, instead of one of them ending the run alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
