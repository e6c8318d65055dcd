"""Average precision: the envelope rules against the classic code and pycocotools, the
step-wise score against scikit-learn, and the cumulative maximum on both paths."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xpops
from xpops._lib.native import natives_disabled
from xpops._lib.scans import cumulative_max, reverse_cumulative_max
from xpops.spec.average_precision import curve_ap_oracle, voc_ap


def _float64(backend):
    if "float64" not in backend.float_dtypes:
        pytest.skip(f"{backend.name} has no float64")


# ---------------------------------------------------------------- cumulative max


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("shape", [(0,), (1,), (17,), (3, 33)])
def test_cumulative_max_both_paths(backend, native, shape, rng):
    x = rng.integers(-5, 6, size=shape).astype(np.float32)
    with contextlib.nullcontext() if native else natives_disabled():
        got = cumulative_max(backend.xp, backend.asarray(x))
        rev = reverse_cumulative_max(backend.xp, backend.asarray(x))
    np.testing.assert_array_equal(backend.to_numpy(got), np.maximum.accumulate(x, axis=-1))
    want = np.flip(np.maximum.accumulate(np.flip(x, -1), axis=-1), -1)
    np.testing.assert_array_equal(backend.to_numpy(rev), want)


def test_cumulative_max_integers_and_natives_disabled(backend):
    x = backend.asarray(np.array([3, 1, 4, 1, 5, 9, 2, 6]))
    with natives_disabled():
        got = cumulative_max(backend.xp, x)
    np.testing.assert_array_equal(backend.to_numpy(got), [3, 3, 4, 4, 5, 9, 9, 9])


# ------------------------------------------------------------- interpolated AP


def test_voc11_samples_exactly_k_over_10(backend):
    """Recall exactly 0.3, 0.6 and 0.7: the devkit reads the point there; the classic
    np.arange thresholds (0.30000000000000004, ...) read the next one."""
    _float64(backend)
    recall = np.array([0.1, 0.3, 0.4, 0.6, 0.7, 0.8])
    precision = np.array([0.2, 0.9, 0.1, 0.8, 0.7, 0.05])
    got = float(backend.to_numpy(xpops.interpolated_average_precision(
        backend.asarray(recall), backend.asarray(precision), method="voc11")))
    want = curve_ap_oracle(recall, precision, "voc11")
    assert got == pytest.approx(want, abs=1e-15)
    # points 0..3 read 0.9, 0.3 too; 0.4..0.6 read 0.8; 0.7 reads 0.7, 0.8 reads 0.05
    assert want == pytest.approx((4 * 0.9 + 3 * 0.8 + 0.7 + 0.05) / 11, abs=1e-15)
    classic = voc_ap(recall, precision, use_07_metric=True)
    assert classic == pytest.approx((3 * 0.9 + 0.8 + 2 * 0.8 + 0.7 + 0.05 + 0.05) / 11)
    assert abs(classic - want) > 0.01


def test_all_points_equals_the_classic_code(rng):
    for _ in range(50):
        n = int(rng.integers(1, 30))
        hits = rng.random(n) < 0.5
        tp = np.cumsum(hits)
        recall, precision = tp / max(int(tp[-1]), 1) * 0.9, tp / np.arange(1, n + 1)
        got = float(xpops.interpolated_average_precision(recall, precision))
        assert got == pytest.approx(voc_ap(recall, precision), abs=1e-14)


def test_batched_curves(backend, rng):
    recall = np.sort(rng.random((2, 3, 9)), axis=-1)
    precision = rng.random((2, 3, 9))
    for method in ("all_points", "voc11", "coco101"):
        got = backend.to_numpy(xpops.interpolated_average_precision(
            backend.asarray(recall), backend.asarray(precision), method=method))
        assert got.shape == (2, 3)
        want = [[curve_ap_oracle(recall[i, j], precision[i, j], method) for j in range(3)]
                for i in range(2)]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _coco_ap50(hits: np.ndarray, num_gt: int) -> float:
    """pycocotools' AP at IoU 0.5 (area all, maxDets 100) of ranked detections that hit
    distinct objects exactly (IoU 1) or miss everything (IoU 0)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = COCO()
    gt.dataset = {
        "images": [{"id": 1, "width": 1000, "height": 1000}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                         "bbox": [20.0 * i, 0.0, 10.0, 10.0], "area": 100.0}
                        for i in range(num_gt)],
    }
    gt.createIndex()
    detections, target = [], 0
    for rank, hit in enumerate(hits):
        box = [20.0 * target, 0.0, 10.0, 10.0] if hit else [0.0, 500.0, 10.0, 10.0]
        target += int(hit)
        detections.append({"image_id": 1, "category_id": 1, "bbox": box,
                           "score": 1.0 - rank / 1000})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            dt = gt.loadRes(detections)
            ev = COCOeval(gt, dt, "bbox")
            ev.evaluate()
            ev.accumulate()
    return float(np.mean(ev.eval["precision"][0, :, 0, 0, 2]))


@pytest.mark.parametrize("seed", range(6))
def test_coco101_equals_pycocotools(seed):
    pytest.importorskip("pycocotools")
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    hits = rng.random(n) < 0.6
    num_gt = int(hits.sum()) + int(rng.integers(0, 4))
    if num_gt == 0:
        num_gt = 1
    tp = np.cumsum(hits)
    recall, precision = tp / num_gt, tp / np.arange(1, n + 1)
    got = float(xpops.interpolated_average_precision(recall, precision, method="coco101"))
    assert got == pytest.approx(_coco_ap50(hits, num_gt), abs=1e-12)


def test_coco101_reads_linspace_thresholds():
    """pycocotools' 0.35 threshold is 0.35000000000000003: recall exactly 0.35 misses it."""
    recall = np.array([0.35, 1.0])
    precision = np.array([1.0, 0.5])
    got = float(xpops.interpolated_average_precision(recall, precision, method="coco101"))
    # thresholds 0..0.34 (35 of them) read 1.0, 0.35..1.0 (66) read 0.5
    assert got == pytest.approx((35 * 1.0 + 66 * 0.5) / 101, abs=1e-15)


# ------------------------------------------------------------------ step-wise AP


@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.sampled_from([2, 5, 1000]))
def test_average_precision_score_equals_sklearn(seed, n, levels):
    average_precision_score = pytest.importorskip("sklearn.metrics").average_precision_score

    rng = np.random.default_rng(seed)
    scores = rng.integers(0, levels, n) / levels
    target = rng.random(n) < 0.4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no positives: sklearn warns
        want = average_precision_score(target, scores)
    got = xpops.average_precision_score(scores, target)
    assert got.shape == () and got.dtype == np.float64
    assert float(got) == pytest.approx(want, abs=1e-12)


def test_average_precision_score_on_every_backend(backend, rng):
    average_precision_score = pytest.importorskip("sklearn.metrics").average_precision_score

    scores = rng.integers(0, 7, 200) / 7
    target = (rng.random(200) < 0.3).astype(np.int64)
    got = xpops.average_precision_score(backend.asarray(scores, backend.float_dtypes[-1]),
                                        backend.asarray(target))
    assert backend.dtype_name(got) == backend.float_dtypes[-1]
    want = average_precision_score(target, scores.astype(backend.float_dtypes[-1]))
    assert float(backend.to_numpy(got)) == pytest.approx(want, rel=1e-5)


def test_average_precision_score_edges():
    assert float(xpops.average_precision_score(np.array([0.3, 0.1]), np.array([0, 0]))) == 0
    assert float(xpops.average_precision_score(np.array([0.3, 0.1]), np.array([1, 1]))) == 1
    with pytest.raises(ValueError, match="scores"):
        xpops.average_precision_score(np.zeros(0), np.zeros(0))


def test_jit(backend):
    if backend.library != "jax":
        pytest.skip("jax.jit only")
    import jax

    r = backend.asarray(np.array([0.25, 0.25, 0.5, 0.75]), "float32")
    p = backend.asarray(np.array([1.0, 0.5, 2 / 3, 0.6]), "float32")
    for method in ("all_points", "voc11", "coco101"):
        eager = xpops.interpolated_average_precision(r, p, method=method)
        jitted = jax.jit(lambda a, b, m=method: xpops.interpolated_average_precision(
            a, b, method=m))(r, p)
        assert float(jitted) == pytest.approx(float(eager), rel=1e-6)
    s = backend.asarray(np.array([0.1, 0.4, 0.35, 0.8]), "float32")
    t = backend.asarray(np.array([0, 0, 1, 1]))
    assert float(jax.jit(xpops.average_precision_score)(s, t)) == pytest.approx(5 / 6)


def test_jax_eager_helpers(backend):
    """Compiled and host paths are taken for eager JAX arrays only, and never with
    delegation off; other namespaces call the code directly."""
    from xpops._lib import jax_eager

    x = backend.asarray(np.array([0.5, 0.25, 1.0]), backend.float_dtypes[0])
    xp = backend.xp
    is_jax = backend.library == "jax"
    assert (jax_eager.host_arrays(x, None) is not None) == is_jax
    before = jax_eager._jitted.cache_info().currsize
    out = jax_eager.run_compiled(lambda a, xp_: xp_.sum(a), (x,), xp)
    assert float(backend.to_numpy(out)) == pytest.approx(1.75)
    assert jax_eager._jitted.cache_info().currsize == before + int(is_jax)
    with natives_disabled():
        assert jax_eager.host_arrays(x) is None
        out = jax_eager.run_compiled(lambda a, xp_: xp_.max(a), (x,), xp)
        assert float(backend.to_numpy(out)) == 1


def test_compute_elsewhere_brings_results_home(backend):
    """The one helper behind every host or default-device round trip: results come back
    in the caller's library and device, integers in its default integer dtype, the
    structure (tuples, dataclasses, None, plain values) kept."""
    from dataclasses import dataclass

    from xpops._lib.elsewhere import compute_elsewhere
    from xpops._lib.namespace import device

    @dataclass(frozen=True)
    class Pair:
        values: object
        label: str

    x = backend.asarray(np.array([0.5, 0.25, 1.0]), backend.float_dtypes[0])
    moved = []  # per call: whether the work ran in another library or on another device

    def work(xq, a, nothing, pair):
        moved.append(xq is not backend.xp or device(a) != device(x))
        assert nothing is None and pair.label == "kept"
        order = xq.argsort(a, stable=True)  # int64 where the work runs
        return Pair((xq.take(a, order), order), "kept"), None

    pair, nothing = compute_elsewhere(backend.xp, work, x, None, Pair(x, "kept"))
    assert nothing is None and pair.label == "kept"
    values, order = pair.values
    for out in (values, order):
        assert backend.same_device(out)
        assert type(out) is type(x)
    assert backend.dtype_name(values) == backend.dtype_name(x)
    assert backend.dtype_name(order) == backend.int_dtype
    np.testing.assert_array_equal(backend.to_numpy(order), [1, 0, 2])
    is_jax = backend.library == "jax"
    no_x64 = backend.name.endswith("no_x64")
    assert moved[-1] == (is_jax or no_x64)
    with natives_disabled():  # the host copies are a native shortcut; the device move is not
        compute_elsewhere(backend.xp, work, x, None, Pair(x, "kept"))
    assert moved[-1] == no_x64
    compute_elsewhere(backend.xp, work, x, None, Pair(x, "kept"), jax_on_host=False)
    assert moved[-1] == no_x64
