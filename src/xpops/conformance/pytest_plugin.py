"""pytest plugin: xpops conformance checks of another project's functions as test items.

Registered as the ``pytest11`` entry point ``xpops``, so any project with xpops installed
can run::

    pytest --xpops-impl=mypkg.ops                 # functions named like xpops ops
    pytest --xpops-impl=mypkg.ops:my_softmax --xpops-op=softmax
    pytest --xpops-impl=torchvision.ops:nms       # a native a spec knows, via its adapter

and gets one item per (op, backend), named ``xpops::softmax[numpy]``, failing with the
engine's failures and their minimal reproducing inputs. Inside its own tests a project
can use the ``xpops_conformance`` fixture instead::

    def test_my_softmax(xpops_conformance):
        xpops_conformance(mypkg.softmax, op="softmax", backend="numpy")

Without ``--xpops-impl`` the plugin adds nothing and imports nothing heavy: the spec,
the engine and the array libraries load only when an item or the fixture runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .results import OpResult, Status

__all__ = ["XpopsItem", "conformance_failure_report"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xpops", "xpops conformance checks")
    group.addoption(
        "--xpops-impl", action="append", default=[], metavar="MODULE[:ATTR]",
        help="check MODULE's functions named like xpops ops, or MODULE:ATTR with one "
        "--xpops-op, or a native counterpart a spec lists (e.g. torchvision.ops:nms); "
        "repeatable",
    )
    group.addoption("--xpops-op", action="append", default=[], metavar="OP",
                    help="restrict to these ops (repeatable)")
    group.addoption("--xpops-backend", action="append", default=[], metavar="BACKEND",
                    help="backend name or prefix, e.g. numpy, torch:cpu (repeatable)")
    group.addoption("--xpops-max-examples", type=int, default=25, metavar="N",
                    help="hypothesis cases per op, backend and dtype (default 25)")


def conformance_failure_report(result: OpResult, limit: int = 5) -> str:
    """The engine's failures of one result, with their reproducing inputs."""
    from .report import format_failures

    return format_failures([result], limit=limit)


# cells whose checks did not run: their items are skipped, not passed
_SKIPPED = (
    Status.NOT_INSTALLED, Status.NOT_PROVIDED, Status.OPTIONS_UNSUPPORTED, Status.NOT_ON_BACKEND,
)


def _outcome(result: OpResult) -> None:
    """Fail, skip or pass a test for one :class:`~xpops.conformance.results.OpResult`."""
    if result.status == Status.FAIL:
        pytest.fail(conformance_failure_report(result), pytrace=False)
    if result.status in _SKIPPED:
        pytest.skip(f"{result.op} @ {result.backend}: {result.status} {result.reason}".rstrip())


class XpopsItem(pytest.Item):
    """One op on one backend, checked against its spec."""

    def __init__(self, *, target: str, op: str, backend: str, max_examples: int,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target, self.op, self.backend_name = target, op, backend
        self.max_examples = max_examples

    def runtest(self) -> None:
        from .. import spec as specs
        from .backends import select
        from .engine import check_op
        from .natives import check_native, find_natives

        spec = specs.get(self.op)
        (backend,) = [b for b in select([]) if b.name == self.backend_name]
        options = {"max_examples": self.max_examples, "seed": 0}
        native = find_natives(self.target, [spec]).get(self.op)
        if native is not None:
            results = check_native(spec, native, [backend], **options)
            if not results:
                pytest.skip(f"{native.name} takes no {backend.name} arrays")
            _outcome(results[0])
            return
        from .targets import TargetError, load_impls

        try:
            fn = load_impls(self.target, [self.op])[self.op]
        except TargetError as exc:
            pytest.fail(f"--xpops-impl: {exc}", pytrace=False)
        if not backend.available:
            pytest.skip(f"{backend.name}: {backend.reason}")
        _outcome(check_op(spec, backend, fn, impl_name=self.target, max_examples=self.max_examples,
                          seed=0))

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, pytest.fail.Exception):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, None, str]:
        return self.path, None, f"xpops::{self.name}"


def _pairs(config: pytest.Config, target: str) -> list[tuple[str, str]]:
    """(op, backend) for each item of ``target``: natives on the backends they take."""
    from .. import spec as specs
    from .backends import select
    from .natives import find_natives, native_backends

    try:
        chosen = ([specs.get(op) for op in config.getoption("xpops_op")]
                  or list(specs.SPECS.values()))
        backends = select(config.getoption("xpops_backend"))
    except ValueError as exc:
        raise pytest.UsageError(f"--xpops-*: {exc}") from exc
    natives = find_natives(target, chosen)
    if natives:
        return [(s.name, b.name) for s in chosen if s.name in natives
                for b in native_backends(natives[s.name], backends)]
    from .targets import TargetError, load_impls

    if ":" in target and len(chosen) != 1:
        msg = f"--xpops-impl {target} names one callable: give exactly one --xpops-op"
        raise pytest.UsageError(msg)
    try:
        ops = list(load_impls(target, [s.name for s in chosen]))
    except TargetError as exc:
        raise pytest.UsageError(f"--xpops-impl: {exc}") from exc
    return [(op, b.name) for op in ops for b in backends]


class XpopsRoot(pytest.Collector):
    """``xpops``: the parent of the items of every ``--xpops-impl`` target."""

    def collect(self) -> Iterator[pytest.Item]:
        targets = self.config.getoption("xpops_impl")
        for target in targets:
            for op, backend in _pairs(self.config, target):
                # several targets: each item names its own
                suffix = f"-{target}" if len(targets) > 1 else ""
                yield XpopsItem.from_parent(
                    self, name=f"{op}[{backend}{suffix}]", target=target, op=op,
                    backend=backend, max_examples=self.config.getoption("xpops_max_examples"),
                )


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    if config.getoption("xpops_impl"):
        items.extend(XpopsRoot.from_parent(session, name="xpops", nodeid="xpops").collect())


@pytest.fixture
def xpops_conformance() -> Callable[..., Any]:
    """``check(fn, op=..., backend="numpy", max_examples=25)``: fail with the report.

    Runs the spec of ``op`` on ``fn`` on each backend whose name starts with ``backend``
    (skipping the test when none is installed) and returns the results.
    """

    def check(fn: Callable[..., Any], *, op: str, backend: str = "numpy",
              max_examples: int = 25, seed: int = 0) -> list[OpResult]:
        from .. import spec as specs
        from .backends import select
        from .engine import check_op

        available = [b for b in select([backend]) if b.available]
        if not available:
            pytest.skip(f"no installed backend matches {backend!r}")
        results = [check_op(specs.get(op), b, fn, max_examples=max_examples, seed=seed)
                   for b in available]
        failed = [r for r in results if r.status == Status.FAIL]
        if failed:
            pytest.fail("\n".join(conformance_failure_report(r) for r in failed),
                        pytrace=False)
        return results

    return check
