"""The conformance engine: xpops passes on every backend, and wrong code is caught."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import xpops
from xpops.cli import main
from xpops.conformance.backends import select
from xpops.conformance.engine import OpResult, Status, check_op, compare
from xpops.conformance.targets import TargetError, load_impls
from xpops.spec import SPECS

# JAX compiles every new shape eagerly, so it gets fewer drawn cases in the default run.
MAX_EXAMPLES = int(os.environ.get("XPOPS_MAX_EXAMPLES", "20"))
JAX_EXAMPLES = int(os.environ.get("XPOPS_JAX_MAX_EXAMPLES", "3"))
LONG = os.environ.get("XPOPS_HYPOTHESIS_PROFILE") == "long"


def _budget(backend) -> dict:
    """Drawn cases and checks per (op, backend) in the default run.

    JAX compiles every new shape, so it draws fewer cases, runs one of them under
    ``jax.jit`` and one through ``jax.grad``, and in x64 mode checks float64 only: float32
    is the ``jax:cpu`` backend's job. ``xpops conformance`` and ``nox -s long`` run all.
    """
    if backend.library != "jax":
        return {"max_examples": MAX_EXAMPLES}
    budget = {"max_examples": JAX_EXAMPLES, "jit_cases": 1, "grad_cases": 1}
    if "float64" in backend.float_dtypes and not LONG:
        budget["dtypes"] = ("float64",)
    return budget


@pytest.mark.parametrize("op", list(SPECS))
def test_xpops_conforms(op, backend):
    result = check_op(SPECS[op], backend, seed=1, **_budget(backend))
    if result.status == "not supported":
        pytest.skip(result.reason)
    details = "\n".join(f"[{f.dtype}] {f.check}: {f.message}\n  {f.reproducer}"
                        for f in result.failures)
    assert result.status == "pass", details
    assert result.cases > 0
    assert "values" in result.checks and "invalid inputs raise" in result.checks
    if backend.library == "jax" and SPECS[op].capabilities.jit:
        assert "jax.jit" in result.checks
    native = SPECS[op].native(backend.library)
    differentiable = SPECS[op].capabilities.differentiable
    # a native may lack float64 (jax.nn.dot_product_attention): x64 needn't reach one
    float64_only = _budget(backend).get("dtypes") == ("float64",)
    if backend.library in ("torch", "jax") and differentiable and native and _loadable(native):
        if not float64_only:
            assert any(c.startswith("grad vs") for c in result.checks), result.checks


def _loadable(native) -> bool:
    try:
        native.load()
    except ImportError:
        return False
    return True


# jax:cpu (float32) only: x64 mode runs the same pure code
PURE_BACKENDS = [b for b in select(["torch", "jax:cpu"]) if b.name != "jax:cpu:x64"]
# eager JAX compiles every primitive of these anew (a minute or more): start them first
SLOW_ON_JAX = ("coco_evaluate", "voc_evaluate")


def _pure_cells() -> list:
    return [
        pytest.param(op, b, id=f"{op}-{b.name}",
                     marks=pytest.mark.slow if b.library == "jax" and op in SLOW_ON_JAX else ())
        for b in PURE_BACKENDS for op in SPECS
    ]


@pytest.mark.parametrize(("op", "backend"), _pure_cells())
def test_pure_array_api_path_conforms_where_natives_exist(op, backend):
    """Ops that delegate to torch's or JAX's kernels (or move JAX arrays to host NumPy)
    are checked without the delegation too. On JAX the fixed cases dominate the time
    (each compiles its primitives eagerly), so one drawn case is enough."""
    if not backend.available:
        pytest.skip(f"{backend.name}: {backend.reason}")
    budget = ({"max_examples": MAX_EXAMPLES} if backend.library != "jax"
              else {"max_examples": JAX_EXAMPLES if LONG else min(JAX_EXAMPLES, 1),
                    "jit_cases": 1, "grad_cases": 1})
    result = check_op(SPECS[op], backend, seed=2, natives=False, **budget)
    assert result.status == "pass", [(f.check, f.message, f.reproducer) for f in result.failures]


def _numpy():
    (b,) = select(["numpy"])
    return b


def _failures(op, impl, backend=None, n=15):
    result = check_op(SPECS[op], backend or _numpy(), impl, max_examples=n, seed=0)
    return result, {f.check for f in result.failures}


def test_naive_softmax_is_caught_with_a_reproducer():
    import wrong_impls

    result, checks = _failures("softmax", wrong_impls.softmax)
    assert result.status == "fail"
    assert "values" in checks
    huge = [f for f in result.failures if "1000" in f.reproducer]
    assert huge, "the huge-logits edge case should be reported with its input"


def test_wrong_namespace_dtype_mutation_and_missing_check_are_caught():
    import wrong_impls

    torch_backends = [b for b in select(["torch:cpu"]) if b.available]
    if torch_backends:
        assert "namespace" in _failures("sigmoid", wrong_impls.sigmoid, torch_backends[0])[1]
    assert "dtype" in _failures("log_sigmoid", wrong_impls.log_sigmoid)[1]
    assert "mutation" in _failures("logsumexp", wrong_impls.logsumexp)[1]
    assert "invalid" in _failures("cross_entropy", wrong_impls.cross_entropy)[1]


def test_cli_impl_module_reports_failure(capsys, tmp_path):
    report = tmp_path / "report.json"
    code = main(["conformance", "--op", "softmax", "--op", "log_sigmoid", "--backend", "numpy",
                 "--impl", "wrong_impls", "--max-examples", "5", "-q", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL softmax @ numpy" in out and "input:" in out
    data = json.loads(report.read_text())
    assert {(r["op"], r["status"]) for r in data["results"]} == {
        ("softmax", "fail"), ("log_sigmoid", "fail")
    }


def test_cli_impl_callable_passes_for_xpops_itself(capsys):
    code = main(["conformance", "--op", "sigmoid", "--backend", "numpy",
                 "--impl", "xpops:sigmoid", "--max-examples", "5", "-q"])
    assert code == 0
    assert "pass" in capsys.readouterr().out


def test_cli_matrix_lists_missing_backends(capsys, tmp_path):
    md = tmp_path / "r.md"
    code = main(["conformance", "--op", "sigmoid", "--max-examples", "2", "-q",
                 "--backend", "numpy", "--backend", "cupy", "--report", str(md)])
    out = capsys.readouterr().out
    assert code == 0
    assert "sigmoid" in out and "numpy" in out
    assert md.read_text().startswith("| op | numpy")


def test_load_impls_errors():
    with pytest.raises(TargetError, match="xpops:softmax names one callable: give exactly one"):
        load_impls("xpops:softmax", ["softmax", "sigmoid"])
    with pytest.raises(ValueError, match="cannot import 'no_such_module_xyz'"):
        load_impls("no_such_module_xyz", ["softmax"])
    with pytest.raises(TargetError, match="'xpops' has no attribute 'nope'"):
        load_impls("xpops:nope", ["softmax"])
    with pytest.raises(TargetError, match="'json' defines none of the ops"):
        load_impls("json", ["softmax"])
    assert load_impls("xpops", ["softmax", "sigmoid"]) == {
        "softmax": xpops.softmax, "sigmoid": xpops.sigmoid}


@pytest.mark.parametrize(("impl", "ops", "message"), [
    ("no_such_module_xyz", ["softmax"], "--impl: cannot import 'no_such_module_xyz'"),
    ("xpops:nope", ["softmax"], "--impl: 'xpops' has no attribute 'nope'"),
    ("xpops:softmax", ["softmax", "sigmoid"],
     "--impl xpops:softmax names one callable: give exactly one --op"),
])
def test_cli_impl_that_names_nothing_exits_1_with_why(capsys, impl, ops, message):
    args = [a for op in ops for a in ("--op", op)]
    assert main(["conformance", "--impl", impl, *args, "--backend", "numpy", "-q"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(message) and not captured.out


def test_status_values_are_the_report_words():
    """Two states stay apart: an op that cannot run on a backend by design ("not
    supported"), and an implementation that offers none of the options the cases use
    ("unsupported"). A status given as its word is converted; a misspelt one raises."""
    assert Status.NOT_ON_BACKEND == "not supported"
    assert Status.OPTIONS_UNSUPPORTED == "unsupported"
    assert OpResult("softmax", "numpy", "not provided").status is Status.NOT_PROVIDED
    assert json.loads(json.dumps({"status": Status.FAIL})) == {"status": "fail"}
    with pytest.raises(ValueError, match="'passed'"):
        OpResult("softmax", "numpy", "passed")


def test_unknown_op_and_backend_exit_2(capsys):
    assert main(["conformance", "--op", "nope", "-q"]) == 2
    assert main(["conformance", "--backend", "nope", "-q"]) == 2
    assert "unknown" in capsys.readouterr().err


def test_list_shows_every_op(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for op in SPECS:
        assert op in out


@pytest.mark.parametrize(
    ("got", "want", "problem"),
    [
        ([1.0, np.nan], [1.0, np.nan], ""),
        ([1.0, 2.0], [1.0, np.nan], "NaN mismatch"),
        ([np.inf], [-np.inf], "infinity mismatch"),
        ([1e30], [np.inf], "infinity mismatch"),
        ([1.0 + 1e-6], [1.0], "value mismatch"),
        ([1.0 + 1e-13], [1.0], ""),
        ([1.0, 2.0], [1.0], "shape"),
    ],
)
def test_compare(got, want, problem):
    _, _, found = compare(np.array(got), np.array(want), 1e-12, 0.0)
    assert (problem in found) if problem else found == ""


def test_every_spec_is_complete():
    for spec in SPECS.values():
        assert spec.impl is getattr(xpops, spec.name)
        assert spec.edge_cases and spec.invalid_cases and spec.properties and spec.natives
        assert spec.doc and spec.signature.startswith(spec.name + "(")


# ---------------------------------------------------------------- native counterparts


def test_find_natives_by_function_and_by_module():
    from xpops.conformance.natives import find_natives

    specs = [SPECS["cross_entropy"], SPECS["conv2d"], SPECS["nms"]]
    assert {op: n.name for op, n in find_natives("torchvision.ops:nms", specs).items()} == {
        "nms": "torchvision.ops.nms"
    }
    by_module = find_natives("torch.nn.functional", specs)
    assert set(by_module) == {"cross_entropy", "conv2d"}
    assert all(n.name.startswith("torch.nn.functional.") for n in by_module.values())
    assert find_natives("torch.nn", specs) == find_natives("torch.nn", specs)  # prefix only
    assert find_natives("nosuchlib.fn", specs) == {}


def test_native_unsupported_options_are_skipped_not_failed():
    """An adapter that raises Unsupported counts cases as unsupported, never as failures."""
    from xpops.conformance.natives import check_native
    from xpops.spec import Native, Unsupported

    def only_last_axis(x, axis=-1, where=None):
        if where is not None or axis not in (-1, x.ndim - 1):
            raise Unsupported("only axis=-1, no where")
        return xpops.softmax(x, axis=axis)

    native = Native("numpy", "mylib.softmax", lambda: only_last_axis)
    (result,) = check_native(SPECS["softmax"], native, [_numpy()], max_examples=10)
    assert result.impl == "mylib.softmax" and result.backend == "numpy"
    assert result.status == "pass", result.failures
    assert result.unsupported.get("only axis=-1, no where", 0) > 0

    def nothing(*args, **kwargs):
        raise Unsupported("never")

    (result,) = check_native(SPECS["softmax"], Native("numpy", "x.f", lambda: nothing),
                             [_numpy()], max_examples=3)
    assert result.status == "unsupported" and result.cases == 0


def test_native_of_an_absent_library_is_not_installed():
    from xpops.conformance.natives import check_native
    from xpops.spec import Native

    def load():
        raise ImportError("No module named 'nosuchlib'")

    (result,) = check_native(SPECS["softmax"], Native("nosuchlib", "nosuchlib.softmax", load),
                             [_numpy()], max_examples=3)
    assert result.status == "not installed" and "nosuchlib" in result.reason


def test_cli_impl_runs_a_native_through_its_adapter(capsys):
    pytest.importorskip("scipy")
    code = main(["conformance", "--impl", "scipy.special:softmax", "--op", "softmax",
                 "--backend", "numpy", "--max-examples", "5", "-q"])
    out = capsys.readouterr().out
    # scipy has no `where` (those cases are skipped as unsupported); the rest run, and
    # scipy raises on an empty axis where the spec returns an empty result
    assert code == 1, out
    assert "FAIL softmax @ numpy" in out and "# empty axis" in out
    assert "zero-size array" in out


def test_cli_impl_catches_each_deliberately_wrong_implementation(tmp_path, capsys):
    """Through ``--impl``: naive softmax, wrong namespace, float64 upcast, input mutation
    and a missing range check each fail with the check that catches them."""
    report = tmp_path / "r.json"
    backends = ["--backend", "numpy"] + (["--backend", "torch:cpu"]
                                         if any(b.available for b in select(["torch:cpu"]))
                                         else [])
    ops = ["softmax", "sigmoid", "log_sigmoid", "logsumexp", "cross_entropy"]
    code = main(["conformance", "--impl", "wrong_impls", *[a for op in ops for a in ("--op", op)],
                 *backends, "--max-examples", "3", "-q", "--report", str(report)])
    capsys.readouterr()
    assert code == 1
    checks: dict[tuple[str, str], set[str]] = {}
    for r in json.loads(report.read_text())["results"]:
        checks[r["op"], r["backend"]] = {f["check"] for f in r["failures"]}
    assert "values" in checks["softmax", "numpy"]
    if ("sigmoid", "torch:cpu") in checks:
        assert "namespace" in checks["sigmoid", "torch:cpu"]
    assert "dtype" in checks["log_sigmoid", "numpy"]
    assert "mutation" in checks["logsumexp", "numpy"]
    assert "invalid" in checks["cross_entropy", "numpy"]
