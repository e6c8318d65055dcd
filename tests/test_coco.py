"""COCO evaluation: equal to pycocotools (and faster-coco-eval) on real and generated data,
the published table, the loop oracle, the JSON readers and ``xpops coco-eval``."""

from __future__ import annotations

import contextlib
import io
import json
import os

import numpy as np
import pytest

import xpops
from xpops._lib.native import natives_disabled
from xpops._lib.scans import reverse_cumulative_max
from xpops._lib.segments import segment_max
from xpops.cli import main
from xpops.impl.detection.coco import coco_evaluate
from xpops.impl.detection.inputs import DEFAULT_IOU_THRESHOLDS, DEFAULT_RECALL_THRESHOLDS
from xpops.io import CocoFormatError, evaluate_coco_files, read_coco_ground_truth
from xpops.io.coco import read_coco_detections
from xpops.spec.coco import _ARGS, coco_arrays, coco_evaluate_oracle, run_cocoeval

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "coco_val2014_100")
if not os.path.isdir(DATA):  # worktrees sit one level deeper than the main checkout
    DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data",
                        "coco_val2014_100")
GT = os.path.join(DATA, "instances_val2014_100.json")
DT = os.path.join(DATA, "instances_val2014_fakebbox100_results.json")
PUBLISHED = (0.505, 0.697, 0.573, 0.586, 0.519, 0.501, 0.387, 0.594, 0.595, 0.640, 0.566, 0.564)
needs_data = pytest.mark.skipif(not os.path.exists(GT), reason="../shared/data is absent")


def _arrays(result):
    return tuple(np.asarray(a) for a in (result.stats, result.precision, result.recall,
                                         result.scores))


def _assert_same(got, want, tol=1e-12):
    for name, g, w in zip(("stats", "precision", "recall", "scores"), got, want, strict=True):
        assert g.shape == w.shape, (name, g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=0, atol=tol, err_msg=name)


def _pycocotools_files():
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        gt = COCO(GT)
        ev = COCOeval(gt, gt.loadRes(DT), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev, out.getvalue()


# ------------------------------------------------------------------ real data


@needs_data
def test_published_table():
    result = evaluate_coco_files(GT, DT)
    assert tuple(round(float(v), 3) for v in result.stats) == PUBLISHED


@needs_data
def test_real_data_equals_pycocotools():
    ev, _ = _pycocotools_files()
    result = evaluate_coco_files(GT, DT)
    _assert_same(_arrays(result), (ev.stats, ev.eval["precision"], ev.eval["recall"],
                                   ev.eval["scores"]))
    assert np.asarray(result.category_ids).tolist() == ev.params.catIds
    # per-class AP: the mean of precision > -1 over T and R, area all, maxDets 100
    p = ev.eval["precision"][:, :, :, 0, -1]
    want = [p[:, :, k][p[:, :, k] > -1].mean() if (p[:, :, k] > -1).any() else -1
            for k in range(p.shape[2])]
    np.testing.assert_allclose(np.asarray(result.per_class_ap), want, atol=1e-12)


@needs_data
def test_cli_prints_pycocotools_summary(tmp_path, capsys):
    _, printed = _pycocotools_files()
    want = [line for line in printed.splitlines() if line.startswith(" Average")]
    out_json = tmp_path / "out.json"
    assert main(["coco-eval", GT, DT, "--json", str(out_json)]) == 0
    got = capsys.readouterr().out.splitlines()
    assert got == want
    saved = json.loads(out_json.read_text())
    assert [round(v, 3) for v in saved["stats"]] == list(PUBLISHED)
    assert len(saved["per_class_ap"]) == 80


@needs_data
@pytest.mark.parametrize("backend", ["torch", "jax", "array_api_strict"])
def test_cli_backends(backend, capsys):
    pytest.importorskip(backend)
    assert main(["coco-eval", GT, DT, "--backend", backend]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [float(line.rsplit("=", 1)[1]) for line in lines] == list(PUBLISHED)


def test_cli_reports_malformed_file(tmp_path, capsys):
    bad = tmp_path / "gt.json"
    bad.write_text(json.dumps({"images": [], "annotations": [], "categories": {}}))
    assert main(["coco-eval", str(bad), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "gt.json" in err and "categories" in err


# -------------------------------------------------------------- generated data

CONFIGS = [
    {},
    {"use_categories": False},
    {"max_detections": (1, 3, 8)},
    {"iou_thresholds": (0.1, 0.5, 0.75, 0.95), "recall_thresholds": (0.0, 0.3, 0.6, 1.0)},
    {"area_ranges": {"all": (0.0, 1e10), "mid": (1024.0, 9216.0), "small": (0.0, 1024.0)}},
    {"image_ids": "subset"},
    {"box_format": "xyxy"},
]


def _generated(seed, **kw):
    rng = np.random.default_rng(seed)
    data = coco_arrays(rng, n_images=7, n_categories=3, max_gt=8, max_det=35, crowd=0.2, **kw)
    return data, [data[k] for k in _ARGS]


def _options(data, config):
    opts = {"gt_iscrowd": data["gt_iscrowd"], "gt_area": data["gt_area"],
            "box_format": "xywh", **config}
    if opts.get("image_ids") == "subset":
        opts["image_ids"] = data["image_ids"][1:-1]
    return opts


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(c) or "default")
def test_generated_equals_pycocotools(seed, config):
    pytest.importorskip("pycocotools")
    data, args = _generated(seed)
    opts = _options(data, config)
    if opts["box_format"] == "xyxy":  # pycocotools gets xywh = (x1, y1, x2 - x1, y2 - y1)
        for i in (0, 4):
            b = args[i]
            args[i] = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    want = run_cocoeval("pycocotools", *args, **opts)
    _assert_same(_arrays(coco_evaluate(*args, **opts)), want)
    _assert_same(coco_evaluate_oracle(*args, **opts)[:4], want)


def test_more_than_100_detections_per_image():
    pytest.importorskip("pycocotools")
    data, args = _generated(11)
    n = 150
    rng = np.random.default_rng(0)
    img, cat = data["gt_image_ids"][0], data["gt_labels"][0]
    extra = data["gt_boxes"][0] + rng.normal(scale=3, size=(n, 4)) * [1, 1, 0.1, 0.1]
    args[0] = np.concatenate([args[0], np.abs(extra)])
    args[1] = np.concatenate([args[1], np.round(rng.random(n), 1)])
    args[2] = np.concatenate([args[2], np.full(n, cat)])
    args[3] = np.concatenate([args[3], np.full(n, img)])
    for config in ({}, {"use_categories": False}):
        opts = _options(data, config)
        _assert_same(_arrays(coco_evaluate(*args, **opts)),
                     run_cocoeval("pycocotools", *args, **opts))


@pytest.mark.parametrize("seed", range(3))
def test_generated_equals_faster_coco_eval(seed):
    pytest.importorskip("faster_coco_eval")
    data, args = _generated(100 + seed)
    opts = _options(data, {})
    _assert_same(_arrays(coco_evaluate(*args, **opts)),
                 run_cocoeval("faster_coco_eval", *args, **opts))


def test_no_detections():
    data, args = _generated(5)
    for i in range(4):
        args[i] = args[i][:0]
    r = coco_evaluate(*args, gt_iscrowd=data["gt_iscrowd"], box_format="xywh")
    stats = np.asarray(r.stats)
    assert stats.shape == (12,)
    assert set(stats.tolist()) <= {0.0, -1.0} and 0.0 in stats.tolist()
    # -1 exactly where no ground truth counts: area ranges without any
    precision = np.asarray(r.precision)
    assert set(np.unique(precision).tolist()) <= {0.0, -1.0}


def test_nothing_at_all():
    empty = [np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)]
    r = coco_evaluate(*empty, *(empty[0], empty[2], empty[3]))
    assert np.asarray(r.stats).tolist() == [-1.0] * 12
    assert np.asarray(r.precision).shape == (10, 101, 0, 4, 3)


def test_ties_keep_image_order():
    """Equal scores across images rank by image id, within an image by input order."""
    pytest.importorskip("pycocotools")
    data, args = _generated(21, tie_decimals=0)  # scores 0.0 or 1.0: ties everywhere
    opts = _options(data, {})
    _assert_same(_arrays(coco_evaluate(*args, **opts)), run_cocoeval("pycocotools", *args,
                                                                      **opts))


def test_default_thresholds_are_numpy_linspace():
    assert DEFAULT_IOU_THRESHOLDS == tuple(np.linspace(0.5, 0.95, 10).tolist())
    assert DEFAULT_RECALL_THRESHOLDS == tuple(np.linspace(0.0, 1.0, 101).tolist())


def test_result_fields_and_summary():
    data, args = _generated(3)
    r = xpops.coco_evaluate(*args, box_format="xywh")
    k = np.asarray(r.category_ids).shape[0]
    assert np.asarray(r.precision).shape == (10, 101, k, 4, 3)
    assert np.asarray(r.recall).shape == (10, k, 4, 3)
    assert np.asarray(r.per_class_ap).shape == (k,)
    lines = r.summary().splitlines()
    assert len(lines) == 12 and lines[0].startswith(" Average Precision  (AP) @[ IoU=0.50:0.95")


# ---------------------------------------------------------------- primitives


@pytest.mark.parametrize("native", [True, False])
def test_segment_max(xp, backend, native):
    rng = np.random.default_rng(0)
    ids = np.sort(rng.integers(0, 9, size=40))
    values = rng.random(40).astype(np.float32)  # float32 on every backend
    want = np.array([values[ids == s].max() if (ids == s).any() else -5.0 for s in range(11)],
                    dtype=np.float32)
    with contextlib.nullcontext() if native else natives_disabled():
        got = segment_max(xp, xp.asarray(values), xp.asarray(ids), num_segments=11, fill=-5.0)
        empty = segment_max(xp, xp.asarray(values[:0]), xp.asarray(ids[:0]), num_segments=3,
                            fill=0.0)
    np.testing.assert_array_equal(np.asarray(got), want)
    np.testing.assert_array_equal(np.asarray(empty), np.zeros(3, np.float32))


def test_reverse_cumulative_max_as_coco_uses_it(xp, backend):
    if backend.library == "jax":
        pytest.skip("coco_evaluate runs JAX arrays on the host: numpy and strict cover it")
    x = np.random.default_rng(1).random((3, 13)).astype(np.float32)
    want = np.flip(np.maximum.accumulate(np.flip(x, -1), axis=-1), -1)
    np.testing.assert_array_equal(np.asarray(reverse_cumulative_max(xp, xp.asarray(x))), want)


# ------------------------------------------------------------------ readers


def _write(tmp_path, name, obj):
    path = tmp_path / name
    path.write_text(json.dumps(obj))
    return str(path)


_GT = {
    "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 4}],
    "categories": [{"id": 3, "name": "cat"}],
    "annotations": [{"id": 1, "image_id": 4, "category_id": 3, "bbox": [1, 2, 3, 4],
                     "area": 10.0, "iscrowd": 0}],
}


def test_readers_give_flat_arrays(tmp_path, xp):
    gt = read_coco_ground_truth(_write(tmp_path, "gt.json", _GT), xp=xp)
    assert np.asarray(gt.boxes).tolist() == [[1.0, 2.0, 3.0, 4.0]]
    assert np.asarray(gt.all_image_ids).tolist() == [1, 4]
    assert gt.category_names == {3: "cat"} and gt.image_files[1] == "a.jpg"
    dt = read_coco_detections(_write(tmp_path, "dt.json", [
        {"image_id": 4, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.5}]), xp=xp)
    assert np.asarray(dt.scores).tolist() == [0.5]


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d.pop("annotations"), "annotations is missing"),
    (lambda d: d["annotations"][0].pop("bbox"), "annotations[0].bbox is missing"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), "annotations[0].bbox"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, -3, 4]), "annotations[0].bbox"),
    (lambda d: d["annotations"][0].update(category_id="x"), "annotations[0].category_id"),
    (lambda d: d["annotations"][0].update(iscrowd=2), "annotations[0].iscrowd"),
    (lambda d: d["annotations"][0].update(image_id=9), "annotations[0].image_id"),
    (lambda d: d["images"].append("x"), "images[2]"),
])
def test_malformed_ground_truth_names_file_and_field(tmp_path, mutate, field):
    data = json.loads(json.dumps(_GT))
    mutate(data)
    path = _write(tmp_path, "broken_gt.json", data)
    with pytest.raises(CocoFormatError, match="broken_gt.json") as info:
        read_coco_ground_truth(path)
    assert field in str(info.value)


def test_malformed_results_name_file_and_field(tmp_path):
    gt = _write(tmp_path, "gt.json", _GT)
    cases = [
        ({"a": 1}, "top level"),
        ([{"image_id": 4, "category_id": 3, "bbox": [1, 2, 3, 4]}], "results[0].score"),
        ([{"image_id": 4, "category_id": 3, "bbox": [1, 2, 3, 4], "score": "x"}],
         "results[0].score"),
        ([{"image_id": 7, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.1}],
         "results[0].image_id"),
    ]
    for obj, field in cases:
        path = _write(tmp_path, "dt.json", obj)
        with pytest.raises(CocoFormatError, match="dt.json") as info:
            evaluate_coco_files(gt, path)
        assert field in str(info.value)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CocoFormatError, match="bad.json"):
        read_coco_detections(str(tmp_path / "bad.json"))


def test_matching_in_small_chunks(monkeypatch):
    """Steps split into slot chunks (bounded temporaries) give the same result."""
    import xpops.impl.detection.matching as impl

    data, args = _generated(8)
    opts = _options(data, {})
    whole = _arrays(coco_evaluate(*args, **opts))
    monkeypatch.setattr(impl, "_STEP_ELEMENTS", 64)
    _assert_same(_arrays(coco_evaluate(*args, **opts)), whole, tol=0)


def test_an_iou_kind_is_one_module_and_one_registration():
    """The matcher, accumulation and summary never know what is compared: a kind of
    intervals on a line, ``(start, length)`` rows registered next to ``"bbox"``, gives
    exactly the answer of boxes one unit high, ``(start, 0, length, 1)``."""
    import array_api_compat.numpy as xp

    from xpops.impl.detection import coco as impl_coco
    from xpops.impl.detection import iou as impl_iou
    from xpops.impl.detection.inputs import coco_params

    def prepare(xq, det, gt, *, with_dtypes):
        def side(rows):
            rows = xq.astype(rows, xq.result_type(det.dtype, gt.dtype, *with_dtypes))
            start, length = rows[:, 0], rows[:, 1]
            return impl_iou.Geometry(rows=(start, start + length, length), area=length)

        return side(det), side(gt)

    def iou(xq, det_rows, gt_rows, crowd):
        (d_start, d_end, d_len), (g_start, g_end, g_len) = det_rows, gt_rows
        inter = xq.clip(xq.minimum(d_end[:, None], g_end)
                        - xq.maximum(d_start[:, None], g_start), min=0)
        union = xq.where(crowd, d_len[:, None], d_len[:, None] + g_len - inter)
        return inter / xq.where(union > 0, union, xq.ones_like(union))

    data, args = _generated(31)
    det_boxes, gt_boxes = (np.stack([b[:, 0], 0 * b[:, 0], b[:, 2], 0 * b[:, 0] + 1], axis=1)
                           for b in (args[0], args[4]))
    args[0], args[4] = det_boxes, gt_boxes
    opts = _options(data, {})
    want = _arrays(coco_evaluate(*args, **opts))

    kind = impl_iou.register_iou_kind(impl_iou.IouKind("interval", prepare=prepare, iou=iou))
    try:
        assert impl_iou.iou_kind("interval") is kind
        with pytest.raises(ValueError, match="interval"):
            impl_iou.register_iou_kind(kind)
        det, gt = kind.prepare(xp, det_boxes[:, [0, 2]], gt_boxes[:, [0, 2]],
                               with_dtypes=(xp.float64,))
        got = impl_coco._evaluate(
            xp, det, gt, args[1], (args[2], args[3], args[5], args[6]), data["gt_iscrowd"],
            data["gt_area"], None, None, kind=kind,
            params=coco_params(None, None, (1, 10, 100), None, True),
        )
    finally:
        impl_iou._KINDS.pop("interval")
    _assert_same(_arrays(got), want, tol=0)
    with pytest.raises(ValueError, match="iou_type"):
        impl_iou.iou_kind("interval")
