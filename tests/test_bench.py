"""The benchmark harness on a tiny workload: rows, fields and rendering, never timings."""

from __future__ import annotations

import importlib.util
import json

import pytest

import xpops
from xpops.bench import (
    BENCH_OPS,
    BenchResult,
    format_results,
    results_to_json,
    run_benchmarks,
)

TINY = (8, 16)
TARGETED = {
    "numpy": {"softmax": 1.0, "log_softmax": 1.0, "cross_entropy": 1.0},
    "torch:cpu": {"softmax": 2.0, "log_softmax": 2.0, "cross_entropy": 2.0},
    "jax:cpu": {"softmax": 1.5, "log_softmax": 1.5, "cross_entropy": 1.5},
}
# ops with a workload of their own: (backend, op, peer) -> target
METRIC_PEERS = {
    ("numpy", "confusion_matrix", "sklearn.metrics.confusion_matrix"): 0.2,
    ("numpy", "confusion_matrix", "np.bincount(t * K + p)"): 1.5,
    ("torch:cpu", "confusion_matrix", "torch.bincount(t * K + p)"): 1.5,
    ("numpy", "best_fbeta_threshold", "sklearn precision_recall_curve + F1 + argmax"): 1.5,
    ("torch:cpu", "dice_loss", "monai.losses.DiceLoss(softmax=True)"): 1.5,
    ("numpy", "voc_evaluate", "py-faster-rcnn voc_eval (port)"): 0.1,
    ("torch:cpu", "softmax_loss", "F.cross_entropy + torch.autograd"): 1.5,
    ("jax:cpu", "softmax_loss", "jax.value_and_grad"): 1.5,
    ("torch:cpu", "svm_loss", "C * F.multi_margin_loss + torch.autograd"): 1.5,
    ("jax:cpu", "svm_loss", "jax.value_and_grad"): 1.5,
    ("numpy", "box_iou", "numpy broadcast IoU"): 1.5,
    ("torch:cpu", "box_iou", "torchvision.ops.box_iou"): 1.5,
    ("torch:cpu", "scaled_dot_product_attention", "F.scaled_dot_product_attention"): 2.0,
    ("jax:cpu", "scaled_dot_product_attention", "jax.nn.dot_product_attention"): 1.3,
    ("numpy", "conv2d", "one GEMM of the im2col shape (ratio - 1 = patch overhead)"): 1.5,
    ("torch:cpu", "conv2d", "torch.nn.functional.conv2d"): 2.0,
    ("jax:cpu", "conv2d", "jax.lax.conv_general_dilated"): 2.0,
    ("torch:cpu", "max_pool2d", "torch.nn.functional.max_pool2d"): 3.0,
    ("torch:cpu", "avg_pool2d", "torch.nn.functional.avg_pool2d"): 3.0,
    ("numpy", "knn_predict", "sklearn KNeighborsClassifier(algorithm='brute')"): 1.0,
    ("torch:cpu", "knn_predict", "torch.cdist + torch.topk + vote"): 1.5,
    ("numpy", "pairwise_distances", "float32 a @ b.T"): 1.3,
    ("numpy", "pairwise_distances", "sklearn euclidean_distances"): None,
    ("torch:cpu", "pairwise_distances", "float32 a @ b.T"): 1.3,
    ("torch:cpu", "pairwise_distances", "torch.cdist"): None,
    ("numpy", "coco_evaluate", "faster_coco_eval COCOeval_faster"): 1.0,
    ("numpy", "coco_evaluate", "pycocotools COCOeval"): 0.125,
    ("numpy", "nms", "classic NumPy greedy loop"): 0.5,
    ("torch:cpu", "nms", "torchvision.ops.nms"): None,  # per workload: NMS_TV_TARGETS
    ("torch:cpu", "batched_nms", "torchvision.ops.batched_nms"): 1.5,
}
ROWS_PER_PEER = {"confusion_matrix": 2, "nms": 6}  # workloads of the op with that peer
NMS_TV_TARGETS = [1.0, 2.0, None, None, None, None]  # clustered 20000, uniform 5000
METRIC_NEEDS = {  # peer -> the modules it needs, besides the backend's library
    "sklearn.metrics.confusion_matrix": ("sklearn",),
    "sklearn precision_recall_curve + F1 + argmax": ("sklearn",),
    "monai.losses.DiceLoss(softmax=True)": ("monai",),
    "jax.value_and_grad": ("optax",),
    "torchvision.ops.box_iou": ("torchvision",),
    "sklearn KNeighborsClassifier(algorithm='brute')": ("sklearn",),
    "sklearn euclidean_distances": ("sklearn",),
    "faster_coco_eval COCOeval_faster": ("faster_coco_eval",),
    "pycocotools COCOeval": ("pycocotools",),
    "torchvision.ops.nms": ("torchvision",),
    "torchvision.ops.batched_nms": ("torchvision",),
}
LOGITS_OPS = ("softmax", "log_softmax", "logsumexp", "sigmoid", "log_sigmoid", "cross_entropy",
              "binary_cross_entropy", "binary_cross_entropy_with_logits")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="module")
def results() -> list[BenchResult]:
    lines: list[str] = []
    out = run_benchmarks(
        backends=["numpy", "torch:cpu", "jax:cpu"], repeats=2, size=TINY, progress=lines.append
    )
    assert lines, "progress is called"
    return out


def _expected_rows() -> list[tuple[str, str, str]]:
    """(backend, op, peer) of every row, once per workload (two for confusion_matrix)."""
    rows: list[tuple[str, str, str]] = []
    scipy_ops = {"softmax", "log_softmax", "logsumexp", "sigmoid", "cross_entropy"}
    for op in LOGITS_OPS:
        if op not in scipy_ops or _installed("scipy"):
            rows.append(("numpy", op, ""))
        if _installed("torch"):
            rows.append(("torch:cpu", op, ""))
        optax_ops = {"cross_entropy", "binary_cross_entropy_with_logits"}
        if _installed("jax") and (op not in optax_ops or _installed("optax")):
            rows.append(("jax:cpu", op, ""))
    backend_module = {"numpy": "numpy", "torch:cpu": "torch", "jax:cpu": "jax"}
    for backend, op, peer in METRIC_PEERS:
        needs = (backend_module[backend], *METRIC_NEEDS.get(peer, ()))
        if hasattr(xpops, op) and all(_installed(m) for m in needs):
            rows += [(backend, op, peer)] * ROWS_PER_PEER.get(op, 1)
    return sorted(rows)


def test_rows_cover_installed_backends_and_peers(results: list[BenchResult]) -> None:
    assert set(BENCH_OPS) == {*LOGITS_OPS, *(op for _, op, _ in METRIC_PEERS)}
    got = sorted((r.backend, r.op, r.peer if r.op not in LOGITS_OPS else "") for r in results)
    assert got == _expected_rows()


def test_nms_targets(results: list[BenchResult]) -> None:
    targets = [r.target for r in results if r.peer == "torchvision.ops.nms"]
    if targets:
        assert sorted(targets, key=str) == sorted(NMS_TV_TARGETS, key=str)


def test_fields(results: list[BenchResult]) -> None:
    for r in results:
        assert r.xpops_median_s > 0 and r.peer_median_s > 0
        assert r.ratio == pytest.approx(r.xpops_median_s / r.peer_median_s)
        assert r.peer and r.workload
        assert r.repeats == 2
        if r.op in LOGITS_OPS:
            assert str(TINY) in r.workload
            assert r.target == TARGETED.get(r.backend, {}).get(r.op)
        elif r.peer == "torchvision.ops.nms":
            assert r.target in NMS_TV_TARGETS
        else:
            assert r.target == METRIC_PEERS[(r.backend, r.op, r.peer)]
        if r.target is None:
            assert r.met is None
        else:
            assert r.met == (r.ratio <= r.target)


def test_format_results(results: list[BenchResult]) -> None:
    text = format_results(results)
    for op in {r.op for r in results}:
        assert op in text
    for backend in {r.backend for r in results}:
        assert backend in text
    assert "ratio" in text
    assert len(text.splitlines()) >= len(results) + 2
    assert "no benchmarks" in format_results([])


def test_results_to_json(results: list[BenchResult]) -> None:
    data = results_to_json(results)
    assert len(data) == len(results)
    json.dumps(data)  # plain, serialisable values
    assert data[0]["ratio"] == results[0].ratio
    assert set(data[0]) >= {
        "op", "backend", "workload", "peer", "xpops_median_s", "peer_median_s",
        "ratio", "target", "met",
    }


def test_selection_and_order() -> None:
    out = run_benchmarks(["log_softmax", "softmax"], ["numpy"], repeats=1, size=TINY)
    ops = [r.op for r in out]
    if _installed("scipy"):
        assert ops == ["softmax", "log_softmax"]  # report order, not request order
    assert {r.backend for r in out} <= {"numpy"}


def test_unknown_op_is_named() -> None:
    with pytest.raises(ValueError, match="no_such_op"):
        run_benchmarks(["softmax", "no_such_op"], ["numpy"], size=TINY)


def test_backend_without_peer_or_device_is_skipped() -> None:
    skipped: list[str] = []
    out = run_benchmarks(
        ["sigmoid"], ["array_api_strict", "torch:cuda", "jax:gpu"], repeats=1, size=TINY,
        progress=skipped.append,
    )
    assert all(r.backend in ("torch:cuda", "jax:gpu") for r in out)
    assert any("array_api_strict" in line for line in skipped)


def test_pure_path_is_timed_without_native_delegation(monkeypatch) -> None:
    pytest.importorskip("torch")
    import torch

    calls = []
    real_softmax = torch.softmax
    monkeypatch.setattr(torch, "softmax", lambda *a, **k: calls.append(1) or real_softmax(*a, **k))
    out = run_benchmarks(["softmax"], ["torch:cpu"], repeats=1, size=TINY, natives=False)
    assert [r.workload.endswith("pure array-API path") for r in out] == [True]
    pure_calls = len(calls)  # only the peer called torch.softmax
    run_benchmarks(["softmax"], ["torch:cpu"], repeats=1, size=TINY)
    assert len(calls) > 2 * pure_calls  # now xpops delegates too
