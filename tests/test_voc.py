"""voc_evaluate against the devkit loop and py-faster-rcnn, the VOC loaders and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import xpops
from xpops.cli import main
from xpops.io import load_voc, read_names
from xpops.spec.voc import py_faster_rcnn_voc_eval, voc_evaluate_oracle


def _data_dir() -> Path:
    """``../shared/data/voc2007_100`` from the project root (or from a parent of it)."""
    root = Path(__file__).resolve().parents[1]
    for parent in root.parents:
        candidate = parent / "shared" / "data" / "voc2007_100"
        if candidate.is_dir():
            return candidate
    return root.parent / "shared" / "data" / "voc2007_100"


VOC = _data_dir()
needs_data = pytest.mark.skipif(not VOC.is_dir(), reason="../shared/data/voc2007_100 absent")
METHODS = ("all_points", "voc11")


@pytest.fixture(scope="module")
def voc_data():
    if not VOC.is_dir():
        pytest.skip("../shared/data/voc2007_100 absent")
    return load_voc(VOC / "annotations", VOC / "detections", names=VOC / "voc.names")


def _run(backend, args, dtype=None, **kwargs):
    converted = [backend.asarray(a, dtype if a.dtype.kind == "f" else None) for a in args]
    for key in ("gt_difficult",):
        if key in kwargs and kwargs[key] is not None:
            kwargs[key] = backend.asarray(kwargs[key])
    return xpops.voc_evaluate(*converted, **kwargs)


# ------------------------------------------------------------------- real data


@needs_data
def test_loader_reads_the_real_files(voc_data):
    assert voc_data.gt_boxes.shape == (273, 4) and voc_data.det_boxes.shape == (452, 4)
    assert int(voc_data.gt_difficult.sum()) == 38
    assert len(voc_data.image_names) == 100 and voc_data.image_names[0] == "2007_000027"
    assert voc_data.class_names == read_names(VOC / "voc.names")
    assert voc_data.gt_boxes[0].tolist() == [174.0, 101.0, 349.0, 351.0]
    assert voc_data.gt_labels[0] == voc_data.class_names.index("person")


@needs_data
@pytest.mark.parametrize("method", METHODS)
def test_real_data_equals_devkit_and_py_faster_rcnn(backend, voc_data, method):
    """On real detections (no exact ties or IoU equalities that matter) all three agree."""
    dtype = backend.float_dtypes[-1]
    result = _run(backend, voc_data.arrays(), dtype, gt_difficult=voc_data.gt_difficult,
                  ap_method=method)
    ap = backend.to_numpy(result.per_class_ap)
    assert backend.dtype_name(result.per_class_ap) == dtype
    assert ap.shape == (20,) and backend.to_numpy(result.map).shape == ()
    tol = 1e-12 if dtype == "float64" else 2e-6
    want, want_map, class_ids, npos = voc_evaluate_oracle(
        *voc_data.arrays(), gt_difficult=voc_data.gt_difficult, ap_method=method)
    np.testing.assert_allclose(ap, want, rtol=0, atol=tol)
    assert float(backend.to_numpy(result.map)) == pytest.approx(want_map, abs=tol)
    np.testing.assert_array_equal(backend.to_numpy(result.class_ids), class_ids)
    np.testing.assert_array_equal(backend.to_numpy(result.num_positives), npos)
    classic, classic_ids = py_faster_rcnn_voc_eval(
        *voc_data.arrays(), gt_difficult=voc_data.gt_difficult, ap_method=method)
    np.testing.assert_array_equal(classic_ids, class_ids)
    np.testing.assert_allclose(ap, classic, rtol=0, atol=tol)


@needs_data
def test_cli_prints_per_class_ap_and_map(capsys, voc_data):
    code = main(["voc-eval", str(VOC / "annotations"), str(VOC / "detections"),
                 "--names", str(VOC / "voc.names"), "--ap-method", "voc11"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    result = xpops.voc_evaluate(*voc_data.arrays(), gt_difficult=voc_data.gt_difficult,
                                ap_method="voc11")
    assert out[0].split() == ["class", "AP", "objects"]
    assert len(out) == 22
    person = voc_data.class_names.index("person")
    assert out[1 + person].split() == [
        "person", f"{float(result.per_class_ap[person]):.4f}",
        str(int(result.num_positives[person]))]
    assert out[-1].split() == ["mAP", f"{float(result.map):.4f}"]


# ------------------------------------------------------ where py-faster-rcnn differs


def _one_class(det, scores, gt, **kwargs):
    n, g = len(scores), len(gt)
    return (np.array(det, float).reshape(-1, 4), np.array(scores, float),
            np.zeros(n, np.int64), np.zeros(n, np.int64), np.array(gt, float).reshape(-1, 4),
            np.zeros(g, np.int64), np.zeros(g, np.int64))


def test_iou_exactly_at_threshold_matches(backend):
    args = _one_class([[0, 0, 9, 4]], [0.5], [[0, 0, 9, 9]])  # IoU 50/100
    ap = backend.to_numpy(_run(backend, args).per_class_ap)
    assert ap.tolist() == [1.0]
    classic, _ = py_faster_rcnn_voc_eval(*args)
    assert classic.tolist() == [0.0]  # strict ovmax > ovthresh


def test_tied_scores_keep_input_order_where_quicksort_does_not(backend):
    """Two score levels over 40 detections: np.argsort(-scores) (quicksort, as
    py-faster-rcnn) reorders the ties, the stable ranking keeps input order, and which
    tied detection comes first changes TP/FP order and the AP."""
    n = 40
    scores = np.array([0.5, 0.9] * (n // 2))
    # within each score level, detections alternate: a hit on a new object, a miss
    hit = (np.arange(n) // 2) % 2 == 0
    objects = [[30 * i, 0, 30 * i + 9, 9] for i in range(int(hit.sum()))]
    det = np.array([[0, 500, 9, 509]] * n, dtype=float)
    det[hit] = objects
    args = _one_class(det, scores, objects)
    assert not np.array_equal(np.argsort(-scores), np.argsort(-scores, kind="stable"))
    got = float(backend.to_numpy(_run(backend, args).per_class_ap)[0])
    want = voc_evaluate_oracle(*args)[0][0]
    assert got == pytest.approx(want, abs=1e-6)
    classic, _ = py_faster_rcnn_voc_eval(*args)
    assert abs(classic[0] - want) > 1e-3


def test_large_random_case_equals_both_references(rng):
    """Continuous coordinates and scores (no ties): the devkit loop, py-faster-rcnn and
    xpops agree on hundreds of detections over many images and classes."""
    n_gt, n_det, n_images, n_classes = 300, 1500, 40, 6
    xy = rng.random((n_gt, 2)) * 200
    gt = np.concatenate((xy, xy + 10 + rng.random((n_gt, 2)) * 60), axis=1)
    gt_labels = rng.integers(0, n_classes, n_gt)
    gt_images = rng.integers(0, n_images, n_gt)
    src = rng.integers(0, n_gt, n_det)
    det = gt[src] + rng.normal(scale=6.0, size=(n_det, 4))
    det = np.concatenate((np.minimum(det[:, :2], det[:, 2:]),
                          np.maximum(det[:, :2], det[:, 2:])), axis=1)
    det_labels = np.where(rng.random(n_det) < 0.9, gt_labels[src],
                          rng.integers(0, n_classes, n_det))
    args = (det, rng.random(n_det), det_labels, gt_images[src], gt, gt_labels, gt_images)
    difficult = rng.random(n_gt) < 0.1
    for method in METHODS:
        got = xpops.voc_evaluate(*args, gt_difficult=difficult, ap_method=method)
        want = voc_evaluate_oracle(*args, gt_difficult=difficult, ap_method=method)
        np.testing.assert_allclose(got.per_class_ap, want[0], rtol=0, atol=1e-12)
        classic, _ = py_faster_rcnn_voc_eval(*args, gt_difficult=difficult, ap_method=method)
        np.testing.assert_allclose(got.per_class_ap, classic, rtol=0, atol=1e-12)


def test_result_is_on_the_input_device(device1):
    args = _one_class([[0, 0, 9, 9]], [0.5], [[0, 0, 9, 9]])
    result = xpops.voc_evaluate(*(device1.asarray(a) for a in args))
    for a in (result.per_class_ap, result.map, result.class_ids, result.num_positives):
        assert device1.same_device(a)


# --------------------------------------------------------------------- loaders

_XML = """<annotation><filename>{name}.jpg</filename>{objects}</annotation>"""
_OBJECT = ("<object><name>{cls}</name><difficult>{difficult}</difficult><bndbox>"
           "<xmin>{x1}</xmin><ymin>1</ymin><xmax>20</xmax><ymax>30</ymax></bndbox></object>")


def _write_set(tmp_path, objects=None, detections=None, names="cat\ndog\n"):
    ann, dets = tmp_path / "ann", tmp_path / "det"
    ann.mkdir()
    dets.mkdir()
    objects = objects if objects is not None else {
        "img1": _OBJECT.format(cls="dog", difficult=0, x1=2)}
    for name, body in objects.items():
        (ann / f"{name}.xml").write_text(_XML.format(name=name, objects=body))
    for name, body in (detections or {"img1": "1 0.9 2 1 20 30\n"}).items():
        (dets / f"{name}.txt").write_text(body)
    names_file = tmp_path / "names.txt"
    names_file.write_text(names)
    return ann, dets, names_file


def test_loader_small_set_and_namespace(tmp_path, backend):
    objects = {"b": _OBJECT.format(cls="cat", difficult=1, x1=3),
               "a": _OBJECT.format(cls="dog", difficult=0, x1=2) * 2}
    ann, dets, names = _write_set(tmp_path, objects, {"a": "1 0.9 2 1 20 30\n\n",
                                                      "b": "0 0.25 3 1 20 30\n"})
    data = load_voc(ann, dets, names=names, xp=backend.xp)
    assert data.image_names == ("a", "b") and data.class_names == ("cat", "dog")
    assert backend.to_numpy(data.gt_labels).tolist() == [1, 1, 0]
    assert backend.to_numpy(data.gt_image_ids).tolist() == [0, 0, 1]
    assert backend.to_numpy(data.gt_difficult).tolist() == [False, False, True]
    assert backend.to_numpy(data.det_scores).tolist() == pytest.approx([0.9, 0.25])
    result = xpops.voc_evaluate(*data.arrays(), gt_difficult=data.gt_difficult)
    assert backend.to_numpy(result.per_class_ap)[1] == pytest.approx(0.5)
    assert np.isnan(backend.to_numpy(result.per_class_ap)[0])


@pytest.mark.parametrize(
    ("objects", "detections", "names", "file", "field"),
    [
        ({"img1": "<object><name>dog</name>"}, None, None, "img1.xml", "not valid XML"),
        ({"img1": "<object><difficult>0</difficult></object>"}, None, None, "img1.xml",
         "<name>"),
        ({"img1": "<object><name>dog</name></object>"}, None, None, "img1.xml", "<bndbox>"),
        ({"img1": _OBJECT.format(cls="dog", difficult=0, x1="abc")}, None, None, "img1.xml",
         "<xmin>"),
        ({"img1": _OBJECT.format(cls="dog", difficult=0, x1=2).replace("<ymax>30</ymax>",
                                                                        "")},
         None, None, "img1.xml", "<ymax>"),
        ({"img1": _OBJECT.format(cls="cow", difficult=0, x1=2)}, None, None, "img1.xml",
         "<name> 'cow'"),
        ({"img1": _OBJECT.format(cls="dog", difficult=2, x1=2)}, None, None, "img1.xml",
         "<difficult>"),
        ({"img1": _OBJECT.format(cls="dog", difficult=0, x1=50)}, None, None, "img1.xml",
         "inverted"),
        (None, {"img1": "1 0.9 2 1 20\n"}, None, "img1.txt, line 1", "6 fields"),
        (None, {"img1": "1 0.9 2 1 20 30\n1.5 0.9 2 1 20 30\n"}, None, "img1.txt, line 2",
         "class_index"),
        (None, {"img1": "7 0.9 2 1 20 30\n"}, None, "img1.txt, line 1", "outside [0, 2)"),
        (None, {"img1": "1 high 2 1 20 30\n"}, None, "img1.txt, line 1", "score"),
        (None, {"img1": "1 0.9 2 1 nan 30\n"}, None, "img1.txt, line 1", "x2"),
        (None, {"img1": "1 0.9 30 1 20 30\n"}, None, "img1.txt, line 1", "inverted"),
        (None, {"img9": "1 0.9 2 1 20 30\n"}, None, "img9.txt", "no annotation"),
        (None, None, "cat\ndog\ncat\n", "names.txt", "'cat' appears twice"),
        (None, None, "\n\n", "names.txt", "no class names"),
    ],
)
def test_malformed_files_name_the_file_and_field(tmp_path, objects, detections, names, file,
                                                 field):
    ann, dets, names_file = _write_set(tmp_path, objects, detections,
                                       names if names is not None else "cat\ndog\n")
    with pytest.raises(ValueError) as info:
        load_voc(ann, dets, names=names_file)
    assert file in str(info.value) and field in str(info.value)


def test_loader_directory_errors_and_cli_exit_code(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no \\*.xml"):
        load_voc(empty, empty)
    with pytest.raises(ValueError, match="not a directory"):
        load_voc(tmp_path / "missing", empty)
    assert main(["voc-eval", str(tmp_path / "missing"), str(empty)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_default_names_are_the_voc_classes(tmp_path):
    ann, dets, _ = _write_set(tmp_path, {"x": _OBJECT.format(cls="tvmonitor", difficult=0,
                                                              x1=2)},
                              {"x": "19 0.5 2 1 20 30\n"})
    data = load_voc(ann, dets)
    assert data.gt_labels.tolist() == [19] and data.det_labels.tolist() == [19]


def test_array_api_path_on_jax(backend):
    """Eager JAX inputs are evaluated on host NumPy copies; the array-API code itself
    runs on JAX with delegation off, and both give the devkit's answer."""
    if backend.name != "jax:cpu":  # eager JAX compiles each of ~150 calls: once is enough
        pytest.skip("the host delegation is JAX's; checked once, on jax:cpu")
    from xpops._lib.native import natives_disabled

    args = _one_class([[0, 0, 9, 9], [0, 0, 9, 8], [21, 20, 29, 29], [50, 50, 60, 60]],
                      [0.9, 0.8, 0.7, 0.8], [[0, 0, 9, 9], [20, 20, 29, 29]])
    want = voc_evaluate_oracle(*args, ap_method="voc11")
    with natives_disabled():
        pure = _run(backend, args, ap_method="voc11")
    delegated = _run(backend, args, ap_method="voc11")
    for result in (pure, delegated):
        assert backend.same_device(result.per_class_ap)
        assert backend.dtype_name(result.class_ids) == backend.int_dtype
        np.testing.assert_allclose(backend.to_numpy(result.per_class_ap), want[0], atol=1e-6)
