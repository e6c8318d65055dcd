"""The inputs users hold: narrow integer labels, half precision, NumPy next to another
library, odd memory layouts. Each result is compared with the canonical call (int64
labels, one library, contiguous memory), and each bad mix must name its parameters."""

from __future__ import annotations

import numpy as np
import pytest

import xpops
from xpops._lib.inputs import inputs_of
from xpops.conformance.variants import round_through
from xpops.spec import SPECS

RNG = np.random.default_rng(7)
NARROW = ("uint8", "int8")


def _labels(n: int, k: int) -> np.ndarray:
    return RNG.integers(0, k, n)


def _boxes(n: int) -> np.ndarray:
    xy = RNG.uniform(0, 50, (n, 2))
    return np.concatenate([xy, xy + RNG.uniform(1, 30, (n, 2))], axis=1)


def _cast(backend, labels: np.ndarray, dtype: str):
    if dtype not in backend.integer_dtypes:
        pytest.skip(f"{backend.name} has no {dtype}")
    return backend.asarray(labels.astype(dtype))


def _same(backend, got, want) -> None:
    got, want = backend.to_numpy(got), backend.to_numpy(want)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


# one call per family, labels in the dtype given; the result must equal the int64 one
FAMILY_CALLS = {
    "classification": lambda b, lab: xpops.confusion_matrix(
        lab(_P21), lab(_T21), num_classes=21),
    "classification scores": lambda b, lab: xpops.f1_score(
        b.asarray(_SCORES, "float32"), lab(_T2), task="binary"),
    "segmentation": lambda b, lab: xpops.mean_iou(
        lab(_P21), lab(_T21), num_classes=21).per_class_iou,
    "dice": lambda b, lab: xpops.dice_score(lab(_P21), lab(_T21), num_classes=21),
    "cross entropy": lambda b, lab: xpops.cross_entropy(
        b.asarray(_LOGITS, "float32"), lab(_T21[:50]), ignore_index=3),
    "curves": lambda b, lab: xpops.average_precision_score(
        b.asarray(_SCORES, "float32"), lab(_T2)),
    "nms": lambda b, lab: xpops.batched_nms(
        b.asarray(_BOXES, "float32"), b.asarray(_SCORES[:40], "float32"), lab(_T21[:40]),
        0.5),
    "voc": lambda b, lab: xpops.voc_evaluate(
        b.asarray(_BOXES, "float32"), b.asarray(_SCORES[:40], "float32"), lab(_T2[:40] + 1),
        lab(_T2[40:80]), b.asarray(_BOXES[:20], "float32"), lab(_T2[80:100] + 1),
        lab(_T2[100:120])).per_class_ap,
    "neighbors": lambda b, lab: xpops.knn_predict(
        b.asarray(_X[:30], "float32"), lab(_T21[:30]), b.asarray(_X[30:], "float32"), k=3,
        num_classes=21),
    "linear": lambda b, lab: xpops.svm_loss(
        b.asarray(_W, "float32"), b.asarray(_X, "float32"), lab(_T2[:40] * 4))[1],
}
# families whose op sorts or matches and so refuses Dask arrays (capabilities.lazy=False)
EAGER_ONLY = ("curves", "nms", "voc")
_P21, _T21 = _labels(1000, 21), _labels(1000, 21)
_T2 = _labels(1000, 2)
_SCORES = RNG.random(1000)
_LOGITS = RNG.normal(size=(50, 21))
_BOXES = _boxes(40)
_X = RNG.normal(size=(40, 5))
_W = RNG.normal(size=(5, 8))


@pytest.mark.parametrize("dtype", NARROW)
@pytest.mark.parametrize("family", list(FAMILY_CALLS))
def test_narrow_integer_labels_equal_the_int64_result(backend, family, dtype):
    if backend.library == "dask" and family in EAGER_ONLY:
        pytest.skip(f"{family} does not stay lazy on Dask")
    call = FAMILY_CALLS[family]
    want = call(backend, backend.asarray)
    got = call(backend, lambda labels: _cast(backend, labels, dtype))
    _same(backend, got, want)


def test_uint8_masks_with_21_classes_match_scikit_learn():
    """The reported case: uint8 label images, 21 classes, target * K + preds past 255."""
    sklearn = pytest.importorskip("sklearn.metrics")
    t, p = _T21.astype(np.uint8), _P21.astype(np.uint8)
    want = sklearn.confusion_matrix(t, p, labels=range(21))
    np.testing.assert_array_equal(np.asarray(xpops.confusion_matrix(p, t, num_classes=21)), want)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32"])
def test_negative_labels_in_a_signed_dtype_name_the_parameter(dtype):
    target = np.array([0, 1, -1, 2], dtype=dtype)
    with pytest.raises(ValueError, match="target.*-1"):
        xpops.confusion_matrix(np.array([0, 1, 1, 2], dtype=dtype), target, num_classes=3)
    # the same value as ignore_index is dropped, not an error
    got = xpops.confusion_matrix(np.array([0, 1, 1, 2], dtype=dtype), target, num_classes=3,
                                 ignore_index=-1)
    assert int(np.asarray(got).sum()) == 3


def test_uint8_target_never_equals_a_negative_ignore_index():
    """torch compares uint8 with -100 as with 156: labels are compared as default ints."""
    torch = pytest.importorskip("torch")
    target = torch.tensor([156, 1, 0], dtype=torch.uint8)
    with pytest.raises(ValueError, match="target"):
        xpops.confusion_matrix(torch.tensor([0, 1, 0]), target, num_classes=3, ignore_index=-100)


# ------------------------------------------------------------------- mixed libraries


def test_numpy_side_inputs_follow_torch_predictions():
    torch = pytest.importorskip("torch")
    logits = torch.asarray(_LOGITS, dtype=torch.float32)
    target = _T21[:50].astype(np.uint8)
    got = xpops.cross_entropy(logits, target, weight=np.linspace(0.5, 2, 21))
    want = xpops.cross_entropy(logits, torch.asarray(target).long(),
                               weight=torch.linspace(0.5, 2, 21, dtype=torch.float64))
    assert isinstance(got, torch.Tensor) and got.dtype == want.dtype
    torch.testing.assert_close(got, want)
    kept = xpops.nms(torch.asarray(_BOXES), _SCORES[:40], 0.5)
    assert isinstance(kept, torch.Tensor)
    np.testing.assert_array_equal(kept.numpy(), np.asarray(xpops.nms(_BOXES, _SCORES[:40], 0.5)))


def test_numpy_side_inputs_follow_jax_arrays_without_x64():
    jnp = pytest.importorskip("jax.numpy")
    preds = jnp.asarray(_P21.astype(np.int32))
    got = xpops.confusion_matrix(preds, _T21, num_classes=21)  # NumPy int64 target
    assert got.dtype == jnp.int32
    np.testing.assert_array_equal(
        np.asarray(got), np.asarray(xpops.confusion_matrix(_P21, _T21, num_classes=21)))


def test_python_sequences_as_side_inputs_are_converted():
    torch = pytest.importorskip("torch")
    got = xpops.confusion_matrix(torch.tensor([0, 1, 2]), [0, 2, 2], num_classes=3)
    assert isinstance(got, torch.Tensor)
    assert got.tolist() == [[1, 0, 0], [0, 0, 0], [0, 1, 1]]


def test_two_array_libraries_raise_naming_both_parameters():
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    with pytest.raises(TypeError, match=r"`target` is a jax array but `logits` is a torch"):
        xpops.cross_entropy(torch.zeros(2, 3), jnp.asarray([0, 1]))
    with pytest.raises(TypeError, match=r"`target` is a torch array but `preds` is a numpy"):
        xpops.confusion_matrix(np.array([0, 1]), torch.tensor([0, 1]), num_classes=2)


def test_two_devices_raise_naming_both_parameters():
    xps = pytest.importorskip("array_api_strict")
    a = xps.asarray([0, 1], device=xps.Device("device1"))
    b = xps.asarray([0, 1])
    with pytest.raises(TypeError, match=r"`target` is on device .*device.*`preds` is on"):
        xpops.confusion_matrix(b, a, num_classes=2)


def test_every_public_op_declares_its_inputs():
    for name, spec in SPECS.items():
        rule = inputs_of(spec.impl)
        assert rule is not None, f"{name} has no @array_op declaration"
        assert set(rule.labels) <= set(rule.arrays), name
        assert set(rule.binary) <= set(rule.labels), name


# ------------------------------------------------------------------- half precision


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_half_precision_is_the_float32_result_rounded_once(half):
    torch = pytest.importorskip("torch")
    dtype = getattr(torch, half)
    x = torch.asarray(_LOGITS).to(dtype)
    got = xpops.log_softmax(x)
    assert got.dtype == dtype
    want = torch.log_softmax(x.float(), dim=-1).to(dtype)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    boxes = torch.asarray(_BOXES).to(dtype)
    iou = xpops.box_iou(boxes, boxes)
    assert iou.dtype == dtype
    torch.testing.assert_close(iou, xpops.box_iou(boxes.float(), boxes.float()).to(dtype),
                               rtol=0, atol=0)


def test_half_beside_float32_keeps_the_float32_result():
    torch = pytest.importorskip("torch")
    probs = torch.asarray(_SCORES[:10], dtype=torch.float16)
    target = torch.asarray(_T2[:10], dtype=torch.float32)
    got = xpops.binary_cross_entropy(probs, target, reduction="none")
    assert got.dtype == torch.float32
    torch.testing.assert_close(
        got, xpops.binary_cross_entropy(probs.float(), target, reduction="none"))


def test_numpy_float16_computes_in_float32():
    x = _LOGITS.astype(np.float16)
    got = xpops.softmax(x)
    assert got.dtype == np.float16
    want = np.asarray(xpops.softmax(x.astype(np.float32))).astype(np.float16)
    np.testing.assert_array_equal(got, want)


def test_bfloat16_rounding_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.concatenate([RNG.normal(size=1000) * 10.0 ** RNG.integers(-30, 30, 1000),
                             [0.0, -0.0, np.inf, -np.inf, 1 + 2**-8, 1 + 3 * 2**-8]])
    want = torch.asarray(values, dtype=torch.float32).to(torch.bfloat16).double().numpy()
    np.testing.assert_array_equal(round_through(values, "bfloat16"), want)


# -------------------------------------------------------------------- memory layouts


def _layouts(a: np.ndarray):
    readonly = a.copy()
    readonly.flags.writeable = False
    strided = np.zeros((2 * a.shape[0], *a.shape[1:]), a.dtype)
    strided[::2] = a
    return {"fortran": np.asfortranarray(a), "reversed": np.flip(np.flip(a).copy()),
            "strided": strided[::2], "readonly": readonly}


@pytest.mark.parametrize("layout", ["fortran", "reversed", "strided", "readonly"])
def test_numpy_layouts_equal_the_contiguous_call(layout):
    boxes = _layouts(_BOXES)[layout]
    scores = _layouts(_SCORES[:40])[layout]
    kept = np.asarray(xpops.nms(boxes, scores, 0.5))
    np.testing.assert_array_equal(kept, np.asarray(xpops.nms(_BOXES, _SCORES[:40], 0.5)))
    logits = _layouts(_LOGITS)[layout]
    np.testing.assert_allclose(
        np.asarray(xpops.cross_entropy(logits, _T21[:50], reduction="none")),
        np.asarray(xpops.cross_entropy(_LOGITS, _T21[:50], reduction="none")), rtol=1e-15)
    np.testing.assert_array_equal(logits, _LOGITS)  # unchanged


@pytest.mark.parametrize("layout", ["reversed", "readonly"])
def test_numpy_side_layouts_reach_torch(layout):
    torch = pytest.importorskip("torch")
    target = _layouts(_T21[:50])[layout]
    got = xpops.cross_entropy(torch.asarray(_LOGITS), target, reduction="none")
    want = xpops.cross_entropy(torch.asarray(_LOGITS), torch.asarray(_T21[:50]),
                               reduction="none")
    torch.testing.assert_close(got, want)


def test_non_contiguous_torch_tensors_equal_the_contiguous_call():
    torch = pytest.importorskip("torch")
    x = torch.asarray(_LOGITS).mT.contiguous().mT
    assert not x.is_contiguous()
    torch.testing.assert_close(xpops.softmax(x), xpops.softmax(x.contiguous()))
    w = torch.asarray(RNG.normal(size=(4, 3, 3, 3)))
    img = torch.asarray(RNG.normal(size=(2, 3, 8, 8))).permute(0, 2, 3, 1).contiguous()
    img = img.permute(0, 3, 1, 2)  # channels-last memory, NCHW view
    torch.testing.assert_close(xpops.conv2d(img, w), xpops.conv2d(img.contiguous(), w))
