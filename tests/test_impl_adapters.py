"""Native counterparts under ``xpops conformance --impl``: the libraries the docs name.

Each native runs through the CLI on a few cases and must give a result for its op:
a pass, or a failure whose known difference is asserted. Adapters are also compared
with the spec's NumPy oracle on inputs where the native agrees with it, so an adapter
that maps an argument wrongly fails here rather than passing for the native's fault; the
xpops op runs on the same inputs against the same oracle, on its pure array-API path and
through its native shortcut (on torch tensors xpops hands some ops to torch itself, so
comparing the two would compare torch with torch).
"""

from __future__ import annotations

import numpy as np
import pytest

import xpops
from xpops._lib.native import natives_disabled
from xpops.cli import main
from xpops.conformance.natives import find_natives
from xpops.spec import SPECS, Case


def _cli(capsys, target, op, n=3):
    code = main(["conformance", "--impl", target, "--op", op, "--backend", "numpy",
                 "--backend", "torch:cpu", "--max-examples", str(n), "-q"])
    return code, capsys.readouterr().out


def _native(target, op):
    return find_natives(target, [SPECS[op]])[op].load()


# ------------------------------------------------------------- natives found by name


@pytest.mark.parametrize(("target", "op", "name"), [
    ("torch.nn.functional:softmax", "softmax", "torch.nn.functional.softmax"),
    ("torch.special.softmax", "softmax", "torch.softmax"),
    ("torch.nn.functional:log_softmax", "log_softmax", "torch.nn.functional.log_softmax"),
    ("torchvision.ops:box_iou", "box_iou", "torchvision.ops.box_iou"),
    ("torchvision.ops:nms", "nms", "torchvision.ops.nms"),
    ("sklearn.metrics:fbeta_score", "fbeta_score", "sklearn.metrics.fbeta_score"),
    ("sklearn.metrics:confusion_matrix", "confusion_matrix", "sklearn.metrics.confusion_matrix"),
    ("pycocotools.cocoeval:COCOeval", "coco_evaluate", "pycocotools.cocoeval.COCOeval"),
    ("optax.losses.softmax_cross_entropy_with_integer_labels", "cross_entropy",
     "optax.softmax_cross_entropy_with_integer_labels"),
    ("jax.nn:dot_product_attention", "scaled_dot_product_attention",
     "jax.nn.dot_product_attention"),
    ("torchmetrics.functional:fbeta_score", "fbeta_score",
     "torchmetrics.functional.fbeta_score"),
])
def test_natives_are_found_by_their_names(target, op, name):
    assert find_natives(target, [SPECS[op]])[op].name == name


def test_a_bare_module_takes_its_natives():
    specs = [SPECS[op] for op in ("softmax", "log_softmax", "cross_entropy", "conv2d",
                                  "scaled_dot_product_attention", "nms")]
    found = {op: n.name for op, n in find_natives("torch.nn.functional", specs).items()}
    assert found == {op: f"torch.nn.functional.{op}" for op in
                     ("softmax", "log_softmax", "cross_entropy", "conv2d",
                      "scaled_dot_product_attention")}


# ------------------------------------------------------------ the Done-when commands


def test_torch_softmax_differs_only_in_the_integer_error(capsys):
    pytest.importorskip("torch")
    code, out = _cli(capsys, "torch.nn.functional:softmax", "softmax")
    assert code == 1 and "FAIL softmax @ torch:cpu" in out
    assert "raised NotImplementedError" in out and "expected TypeError" in out
    assert "values" not in out.split("FAIL softmax")[1]  # every value within tolerance


def test_torch_cross_entropy_raises_index_error_for_out_of_range_targets(capsys):
    pytest.importorskip("torch")
    result = _check("torch.nn.functional:cross_entropy", "cross_entropy")
    messages = [f.message for f in result.failures]
    assert any("target out of range" in m and "raised IndexError" in m
               and "expected ValueError" in m for m in messages), messages
    assert not [f for f in result.failures if f.check == "values"]


def test_torch_conv2d_and_attention_values_agree(capsys):
    pytest.importorskip("torch")
    for op in ("conv2d", "scaled_dot_product_attention"):
        result = _check(f"torch.nn.functional:{op}", op)
        assert result.cases > 0
        assert {f.check for f in result.failures} <= {"invalid"}, result.failures[:2]


def _check(target, op, n=3):
    from xpops.conformance.backends import select
    from xpops.conformance.natives import check_native

    spec = SPECS[op]
    native = find_natives(target, [spec])[op]
    (result,) = [r for r in check_native(spec, native, select(["numpy", "torch:cpu"]),
                                         max_examples=n) if r.status != "not installed"]
    return result


def test_torchvision_nms_refuses_integer_boxes(capsys):
    pytest.importorskip("torchvision")
    code, out = _cli(capsys, "torchvision.ops:nms", "nms")
    assert code == 1 and "FAIL nms @ torch:cpu" in out
    assert "not implemented for 'Long'" in out


def test_torchvision_box_iou_is_nan_where_the_union_is_zero():
    pytest.importorskip("torchvision")
    result = _check("torchvision.ops:box_iou", "box_iou")
    values = [f.message for f in result.failures if f.check == "values"]
    assert values and all("NaN mismatch" in m and "expected np.float64(0.0)" in m
                          for m in values), values


def test_sklearn_fbeta_score_refuses_empty_input(capsys):
    pytest.importorskip("sklearn")
    code, out = _cli(capsys, "sklearn.metrics:fbeta_score", "fbeta_score")
    assert code == 1 and "FAIL fbeta_score @ numpy" in out
    assert "Found empty input array" in out


def test_sklearn_confusion_matrix_values_agree_and_empty_input_differs():
    pytest.importorskip("sklearn")
    result = _check("sklearn.metrics:confusion_matrix", "confusion_matrix")
    assert result.cases > 0 and not [f for f in result.failures if f.check == "values"]
    assert any("empty input" in f.message for f in result.failures)


def test_pycocotools_cocoeval_runs_and_differs_in_dtype(capsys):
    pytest.importorskip("pycocotools")
    result = _check("pycocotools.cocoeval:COCOeval", "coco_evaluate", n=2)
    assert result.cases > 0
    # pycocotools computes in float64 whatever the input: float32 cases differ in dtype
    assert {f.check for f in result.failures} <= {"dtype", "invalid"}, result.failures[:2]
    assert result.unsupported  # an empty result list pycocotools cannot load


def test_an_absent_library_is_a_not_installed_cell(capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torchvision", None)  # import fails
    code, out = _cli(capsys, "torchvision.ops:nms", "nms")
    assert code == 0
    assert "nms" in out and "torchvision" in out and "not installed" in out


# -------------------------------------------------- adapters map arguments correctly


def _agree(op, target, case, convert=np.asarray):
    """The native through its adapter, and the xpops op with and without its native
    shortcut, each equal the spec's oracle on the NumPy case."""
    spec = SPECS[op]
    oracle = spec.oracle(*case.args, **case.kwargs)
    want = oracle if isinstance(oracle, (tuple, list)) else (oracle,)
    args = [convert(a) if isinstance(a, np.ndarray) else a for a in case.args]
    kwargs = {k: convert(v) if isinstance(v, np.ndarray) else v for k, v in case.kwargs.items()}
    ours = getattr(xpops, op)
    with natives_disabled():
        pure = ours(*args, **kwargs)
    results = {target: _native(target, op)(*args, **kwargs), f"xpops.{op}": ours(*args, **kwargs),
               f"xpops.{op} (pure array API)": pure}
    for who, got in results.items():
        outputs = spec.output_arrays(got)
        assert len(outputs) == len(want), who
        for g, w in zip(outputs, want, strict=True):
            np.testing.assert_allclose(_host(g), np.asarray(w), rtol=1e-6, atol=1e-9,
                                       err_msg=who)


def _host(x):
    """A NumPy copy of a result of any library (torch tensors may need grad detached)."""
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


_X = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
_T = np.array([2, 0])


def test_torch_adapters_map_arguments():
    torch = pytest.importorskip("torch")
    for op in ("softmax", "log_softmax"):
        _agree(op, f"torch.nn.functional:{op}", Case((_X,), {"axis": 0}), torch.asarray)
    _agree("cross_entropy", "torch.nn.functional:cross_entropy",
           Case((_X, _T), {"label_smoothing": 0.1, "reduction": "sum", "ignore_index": 0}),
           torch.asarray)
    rng = np.random.default_rng(0)
    _agree("conv2d", "torch.nn.functional:conv2d",
           Case((rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(4, 1, 3, 3))),
                {"stride": 2, "padding": 1, "groups": 2}), torch.asarray)
    q, k, v = (rng.normal(size=(2, 3, 4)) for _ in range(3))
    _agree("scaled_dot_product_attention", "torch.nn.functional:scaled_dot_product_attention",
           Case((q, k, v), {"is_causal": True}), torch.asarray)


def test_sklearn_adapters_map_arguments():
    pytest.importorskip("sklearn")
    preds, target = np.array([0, 2, 1, 2, 0, 1]), np.array([0, 1, 1, 2, 2, 1])
    _agree("confusion_matrix", "sklearn.metrics:confusion_matrix",
           Case((preds, target), {"num_classes": 4}))
    for average in ("macro", "weighted", None):
        _agree("fbeta_score", "sklearn.metrics:fbeta_score",
               Case((preds, target), {"beta": 0.5, "task": "multiclass", "num_classes": 3,
                                      "average": average}))
    scores = np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]])  # no num_classes: 3 columns
    _agree("f1_score", "sklearn.metrics:f1_score",
           Case((scores, np.array([1, 2])), {"task": "multiclass", "average": None}))
    _agree("stat_scores", "sklearn.metrics.multilabel_confusion_matrix",
           Case((np.array([0.5, 0.2, 0.9]), np.array([1, 0, 0])), {"task": "binary"}))


def test_pycocotools_adapter_gives_every_result():
    pytest.importorskip("pycocotools")
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    case = Case((boxes, np.array([0.9, 0.8]), np.array([1, 2]), np.array([7, 7]),
                 boxes[:1], np.array([1]), np.array([7])), {})
    _agree("coco_evaluate", "pycocotools.cocoeval:COCOeval", case)


def test_torchmetrics_adapters_map_arguments():
    pytest.importorskip("torchmetrics")
    torch = pytest.importorskip("torch")
    preds, target = np.array([0, 2, 1, 2, 0, 1]), np.array([0, 1, 1, 2, 2, 1])
    _agree("confusion_matrix", "torchmetrics.functional:confusion_matrix",
           Case((preds, target), {"num_classes": 3, "ignore_index": 0}), torch.asarray)
    _agree("fbeta_score", "torchmetrics.functional:fbeta_score",
           Case((preds, target), {"beta": 2.0, "task": "multiclass", "num_classes": 3,
                                  "average": None}), torch.asarray)
    _agree("stat_scores", "torchmetrics.functional.stat_scores",
           Case((preds, target), {"task": "multiclass", "num_classes": 3}), torch.asarray)


def test_torchvision_adapters_map_arguments():
    pytest.importorskip("torchvision")
    torch = pytest.importorskip("torch")
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0]])
    _agree("nms", "torchvision.ops:nms",
           Case((boxes, np.array([0.9, 0.8, 0.7])), {"iou_threshold": 0.5}), torch.asarray)
    cxcywh = np.array([[5.0, 5.0, 10.0, 10.0], [6.0, 6.0, 4.0, 2.0]])
    _agree("box_iou", "torchvision.ops:box_iou",
           Case((cxcywh, cxcywh[::-1].copy()), {"fmt": "cxcywh"}), torch.asarray)
