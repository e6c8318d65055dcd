"""Scale-out on Dask: ops stay lazy on chunked inputs and match the in-memory result.

Every op with ``capabilities.lazy`` builds its task graph without reading a value (the
graph is built under a scheduler that raises), returns Dask arrays, and, computed on a
``dask.distributed`` LocalCluster with the samples split into 8 chunks, gives the NumPy
result exactly. Where chunking changes a floating-point summation order (a float sum,
mean or log-sum-exp *across* chunks, or BLAS products of a different shape) the result is
compared to a few ulps instead; each such case says so. Ops that sort or have
value-dependent output (``lazy=False``) raise NotImplementedError naming the op.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
import dask  # noqa: E402

import xpops  # noqa: E402
from xpops.cli import main  # noqa: E402
from xpops.spec import SPECS  # noqa: E402

N = 96  # samples, in CHUNKS chunks along axis 0
CHUNKS = 8
ULPS = 4  # where chunking reorders a floating-point sum


@pytest.fixture(scope="module")
def client():
    # threads, not processes: starts in well under a second and runs the same graphs
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as c:
        yield c


class ComputedWhileBuilding(AssertionError):
    pass


def _refuse(*args, **kwargs):
    raise ComputedWhileBuilding("the op computed (or converted to NumPy) while building")


def test_the_refusing_scheduler_catches_every_way_to_read_values(client):
    """With the cluster's client active, what an op could do to read values raises."""
    x = da.from_array(np.arange(16.0), chunks=2)
    reads = (lambda: x.sum().compute(), lambda: x.persist(), lambda: np.asarray(x),
             lambda: bool(x[0] == 0), lambda: int(x[0]), lambda: float(x.max()))
    for read in reads:
        with dask.config.set(scheduler=_refuse), pytest.raises(ComputedWhileBuilding):
            read()


def chunked(a: np.ndarray):
    """``a`` as a Dask array in CHUNKS chunks along axis 0 (other axes whole) where axis 0
    is the N samples; in 2 chunks otherwise (queries, confusion matrices)."""
    step = -(-a.shape[0] // (CHUNKS if a.shape[0] == N else 2))
    return da.from_array(a, chunks=(step, *a.shape[1:]))


def _to_dask(v):
    return chunked(v) if isinstance(v, np.ndarray) and v.ndim else v


def run_both(client, op, *args, **kwargs):
    """(Dask results computed on the cluster, NumPy results) of ``op``."""
    spec = SPECS[op]
    lazy_args = [_to_dask(a) for a in args]
    lazy_kwargs = {k: _to_dask(v) for k, v in kwargs.items()}
    with dask.config.set(scheduler=_refuse):
        lazy = spec.output_arrays(spec.impl(*lazy_args, **lazy_kwargs))
    assert all(isinstance(x, da.Array) for x in lazy), [type(x) for x in lazy]
    got = client.compute(list(lazy), sync=True)
    want = spec.output_arrays(spec.impl(*args, **kwargs))
    return [np.asarray(g) for g in got], [np.asarray(w) for w in want]


def assert_exact(got, want):
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
        np.testing.assert_array_equal(g, w, strict=True)


def assert_ulps(got, want, scale=1.0, ulps=ULPS):
    """Equal up to ``ulps`` units of ``max(|want|, scale)``."""
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape
        tol = ulps * np.spacing(np.maximum(np.abs(w), scale))
        bad = ~((np.abs(g - w) <= tol) | (np.isnan(g) & np.isnan(w)))
        assert not bad.any(), (g[bad], w[bad])


rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(N, 5)) * 3
LABELS = rng.integers(0, 5, size=N)
PROBS = rng.uniform(0.01, 0.99, size=(N, 3))
BINARY = rng.integers(0, 2, size=(N, 3))
BINARY_F = BINARY.astype(np.float64)
PRED_LABELS = np.where(rng.random(N) < 0.6, LABELS, rng.integers(0, 5, size=N))
MASKS_P = rng.integers(0, 4, size=(N, 6, 5))
MASKS_T = np.where(rng.random((N, 6, 5)) < 0.7, MASKS_P, rng.integers(0, 4, size=(N, 6, 5)))
SOFT = rng.uniform(size=(N, 3, 4, 4))
SOFT_T = rng.integers(0, 3, size=(N, 4, 4))
CM = np.asarray(xpops.confusion_matrix(PRED_LABELS, LABELS, num_classes=5))
STATS = np.asarray(xpops.stat_scores(LOGITS, LABELS, task="multiclass"))

# (op, args, kwargs): elementwise, or reductions within one chunk (no reordered sums)
EXACT = [
    ("softmax", (LOGITS,), {}),
    ("log_softmax", (LOGITS,), {}),
    ("logsumexp", (LOGITS,), {"axis": -1}),
    ("sigmoid", (LOGITS,), {}),
    ("log_sigmoid", (LOGITS,), {}),
    ("cross_entropy", (LOGITS, LABELS), {"reduction": "none"}),
    ("binary_cross_entropy", (PROBS, BINARY_F), {"reduction": "none"}),
    ("binary_cross_entropy_with_logits", (LOGITS[:, :3], BINARY_F), {"reduction": "none"}),
    # integer counts summed over chunks: additive, exact
    ("confusion_matrix", (PRED_LABELS, LABELS), {"num_classes": 5}),
    ("confusion_matrix", (PRED_LABELS, LABELS), {"num_classes": 5, "ignore_index": 2}),
    ("stat_scores", (PROBS[:, 0], BINARY[:, 0]), {"task": "binary"}),
    ("stat_scores", (LOGITS, LABELS), {"task": "multiclass"}),
    ("stat_scores", (PROBS, BINARY), {"task": "multilabel"}),
    ("precision_recall_fbeta", (LOGITS, LABELS),
     {"task": "multiclass", "average": "macro", "beta": 2.0}),
    ("fbeta_score", (PRED_LABELS, LABELS),
     {"task": "multiclass", "num_classes": 5, "average": "weighted", "beta": 0.5}),
    ("f1_score", (PROBS, BINARY), {"task": "multilabel", "average": "micro"}),
    ("f1_score", (PROBS[:, 0], BINARY[:, 0]), {}),
    ("intersection_and_union", (MASKS_P, MASKS_T), {"num_classes": 4}),
    ("mean_iou", (MASKS_P, MASKS_T), {"num_classes": 4, "ignore_index": 3}),
    ("dice_score", (MASKS_P, MASKS_T), {"num_classes": 4}),
    ("dice_score", (MASKS_P, MASKS_T),
     {"num_classes": 4, "aggregation": "samplewise", "average": None}),
    ("dice_loss", (SOFT, SOFT_T), {"reduction": "none"}),  # sums over one sample each
    ("mean_iou_from_confusion", (CM,), {}),
    ("dice_from_confusion", (CM,), {}),
    ("fbeta_from_stats", (STATS,), {"average": "macro"}),
]


@pytest.mark.parametrize(("op", "args", "kwargs"), EXACT,
                         ids=[f"{op}-{i}" for i, (op, _, _) in enumerate(EXACT)])
def test_lazy_and_exact(client, op, args, kwargs):
    got, want = run_both(client, op, *args, **kwargs)
    assert_exact(got, want)


# float sums, means or log-sum-exps across the 8 chunks: dask adds the chunks' partial
# sums, NumPy sums pairwise over the whole axis, so the last bits may differ
REORDERED = [
    ("logsumexp", (LOGITS,), {"axis": 0}),
    ("softmax", (LOGITS,), {"axis": 0}),
    ("log_softmax", (LOGITS,), {"axis": 0}),
    ("cross_entropy", (LOGITS, LABELS), {"label_smoothing": 0.1}),
    ("binary_cross_entropy", (PROBS, BINARY_F), {"reduction": "sum"}),
    ("binary_cross_entropy_with_logits", (LOGITS[:, :3], BINARY_F), {}),
    ("dice_loss", (SOFT, SOFT_T), {"batch": True, "activation": "softmax"}),
]


@pytest.mark.parametrize(("op", "args", "kwargs"), REORDERED,
                         ids=[f"{op}-{i}" for i, (op, _, _) in enumerate(REORDERED)])
def test_lazy_within_ulps_where_chunks_reorder_a_sum(client, op, args, kwargs):
    got, want = run_both(client, op, *args, **kwargs)
    assert_ulps(got, want)


# --------------------------------------------------------------- neighbours

# integer-valued points: every product is exact (so the BLAS call's shape cannot
# matter) and many distances tie, which checks ties in training-index order
GRID_TRAIN = rng.integers(-3, 4, size=(N, 3)).astype(np.float64)
GRID_QUERY = rng.integers(-3, 4, size=(20, 3)).astype(np.float64)
FLOAT_TRAIN = rng.normal(size=(N, 4))
FLOAT_QUERY = rng.normal(size=(20, 4))
Y_TRAIN = rng.integers(0, 3, size=N)


@pytest.mark.parametrize(("metric", "k"), [
    ("euclidean", 1), ("euclidean", 7), ("euclidean", 20), ("sqeuclidean", 7),
    ("manhattan", 7), ("cosine", 7)])
def test_kneighbors_on_a_chunked_training_set_keeps_ties_in_index_order(client, metric, k):
    got, want = run_both(client, "kneighbors", GRID_TRAIN, GRID_QUERY, k=k, metric=metric)
    assert_exact(got, want)
    d = want[0]
    assert k == 1 or (d[:, 1:] == d[:, :-1]).any()  # the data has ties to order


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_kneighbors_float_data_exact(client, metric):
    # distances of the kept neighbours are re-measured from differences: exact
    got, want = run_both(client, "kneighbors", FLOAT_TRAIN, FLOAT_QUERY, k=5,
                         metric=metric, chunk_size=7)
    assert_exact(got, want)


@pytest.mark.parametrize(("op", "weights"), [
    ("knn_predict", "uniform"), ("knn_predict_proba", "distance")])
def test_knn_predict_and_proba(client, op, weights):
    got, want = run_both(client, op, GRID_TRAIN, Y_TRAIN, GRID_QUERY, k=5, weights=weights,
                         num_classes=3)
    assert_exact(got, want)


def test_knn_needs_num_classes_on_dask():
    with pytest.raises(ValueError, match="num_classes"):
        xpops.knn_predict(chunked(GRID_TRAIN), chunked(Y_TRAIN), chunked(GRID_QUERY), k=3)


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "manhattan", "cosine"])
def test_pairwise_distances(client, metric):
    got, want = run_both(client, "pairwise_distances", GRID_QUERY, GRID_TRAIN,
                         metric=metric, chunk_size=7)
    assert_exact(got, want)
    # float data: the matrix-product expansion runs as one GEMM per pair of chunks, and
    # BLAS may round a product of another shape differently in the last bit (NumPy's
    # own result moves alike with chunk_size); manhattan has no product: exact
    got, want = run_both(client, "pairwise_distances", FLOAT_QUERY, FLOAT_TRAIN,
                         metric=metric)
    if metric == "manhattan":
        assert_exact(got, want)
    else:
        assert_ulps(got, want, scale=1.0)


# ------------------------------------------------------------ not lazy: raise

NOT_LAZY = sorted(name for name, spec in SPECS.items() if not spec.capabilities.lazy)


def _first_case(spec):
    return next(c for c in spec.edge_cases
                if any(isinstance(a, np.ndarray) and a.ndim for a in c.args))


@pytest.mark.parametrize("op", NOT_LAZY)
def test_ops_that_cannot_stay_lazy_raise_naming_the_op(op):
    spec = SPECS[op]
    case = _first_case(spec)
    args = [_to_dask(a) if isinstance(a, np.ndarray) else a for a in case.args]
    with dask.config.set(scheduler=_refuse), \
            pytest.raises(NotImplementedError, match=f"^{op} does not support Dask arrays"):
        spec.impl(*args, **case.kwargs)


COMPARED = {op for op, _, _ in EXACT + REORDERED} | {
    "kneighbors", "knn_predict", "knn_predict_proba", "pairwise_distances"}


def test_the_ops_compared_on_the_cluster_are_the_issue_scope():
    issue_scope = {n for n, s in SPECS.items()
                   if s.family in ("activations", "cross_entropy", "classification",
                                   "segmentation")} | {
        "pairwise_distances", "kneighbors", "knn_predict", "knn_predict_proba"}
    assert issue_scope == COMPARED
    assert all(SPECS[n].capabilities.lazy for n in COMPARED)
    assert {"fbeta_curve", "best_fbeta_threshold", "average_precision_score",
            "interpolated_average_precision", "nms", "batched_nms", "nms_padded",
            "soft_nms", "coco_evaluate", "voc_evaluate"} <= set(NOT_LAZY)


def test_list_shows_the_dask_column(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    col = lines[0].index(" dask ") + 1
    cells = {line.split()[0]: line[col:col + 4].strip() for line in lines[2:]}
    assert cells == {n: "yes" if s.capabilities.lazy else "no" for n, s in SPECS.items()}


@pytest.mark.parametrize("native", [True, False])
def test_smallest_k_on_dask_keeps_ties_in_index_order(native):
    """The per-chunk top-k and merge (native) and the stable-argsort fallback."""
    import array_api_compat.dask.array as xd

    from xpops._lib.native import natives_disabled
    from xpops._lib.topk import smallest_k

    gen = np.random.default_rng(1)
    for _ in range(30):
        q, m = gen.integers(1, 6), gen.integers(1, 40)
        x = gen.integers(0, 4, size=(q, m)).astype(np.float64)
        k, width = int(gen.integers(1, m + 1)), int(gen.integers(1, m + 1))
        lazy = da.from_array(x, chunks=(max(1, q // 2), width))
        path = contextlib.nullcontext() if native else natives_disabled()
        with dask.config.set(scheduler=_refuse), path:
            values, index = smallest_k(xd, lazy, k)
        values, index = dask.compute(values, index, scheduler="sync")
        want = np.argsort(x, axis=-1, kind="stable")[:, :k]
        np.testing.assert_array_equal(index, want, strict=True)
        np.testing.assert_array_equal(values, np.take_along_axis(x, want, -1), strict=True)


def _arrays_of(case):
    values = [*case.args, *case.kwargs.values()]
    values += [x for v in values if isinstance(v, dict) for x in v.values()]
    return [a for a in values if isinstance(a, np.ndarray)]


def _smallest_nonempty_case(spec):
    """The smallest edge case whose arrays all hold values (dask's reshape of empty
    chunks has its own bugs, not what is tested here)."""
    cases = [c for c in spec.edge_cases
             if all(a.size for a in _arrays_of(c)) and any(a.ndim for a in _arrays_of(c))]
    return min(cases, key=lambda c: sum(a.size for a in _arrays_of(c)))


OTHER_LAZY = sorted(n for n, s in SPECS.items() if s.capabilities.lazy and n not in COMPARED)


def _deep_dask(v):
    if isinstance(v, dict):
        return {k: _deep_dask(x) for k, x in v.items()}
    return da.from_array(v, chunks=max(1, -(-v.shape[0] // 4)) if v.ndim else ()) \
        if isinstance(v, np.ndarray) else v


@pytest.mark.parametrize("op", OTHER_LAZY)
def test_every_other_op_marked_lazy_builds_its_graph_without_computing(op):
    """The capability, for the ops marked lazy beyond the ones compared on the cluster
    above (boxes, attention, convolution, pooling, linear losses, best_k): graph built
    under the refusing scheduler, Dask arrays out, values within the spec's float64
    tolerance of NumPy's (one edge case, chunked in 4 along axis 0)."""
    spec = SPECS[op]
    case = _smallest_nonempty_case(spec)
    args = [_deep_dask(a) for a in case.args]
    kwargs = {k: _deep_dask(v) for k, v in case.kwargs.items()}
    with dask.config.set(scheduler=_refuse):
        lazy = spec.output_arrays(spec.impl(*args, **kwargs))
    assert all(isinstance(x, da.Array) for x in lazy), [type(x) for x in lazy]
    with np.errstate(all="ignore"):  # edge cases divide by zero on purpose
        got = dask.compute(*lazy, scheduler="sync")
        want = spec.output_arrays(spec.impl(*case.args, **case.kwargs))
    rtol, atol = spec.rtol_atol("float64")
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol)


def test_conformance_reports_ops_that_cannot_stay_lazy_as_not_supported():
    from xpops.conformance.backends import select
    from xpops.conformance.engine import check_op
    from xpops.conformance.report import format_matrix

    (backend,) = select(["dask"])
    result = check_op(SPECS["nms"], backend, max_examples=1)
    assert result.status == "not supported" and "lazy" in result.reason
    assert "no" in format_matrix([result]).splitlines()[2].split()


def test_whole_axis_joins_the_chunks_of_a_contraction_axis_on_dask_only():
    from xpops._lib.primitives import whole_axis

    x = np.arange(12.0).reshape(3, 4)
    assert whole_axis(x, 1) is x
    lazy = whole_axis(da.from_array(x, chunks=(1, 2)), 1)
    assert lazy.chunks == ((1, 1, 1), (4,))
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), x)


def test_conv2d_of_an_empty_batch_on_dask():
    x, w = np.zeros((0, 4, 6, 5)), np.ones((6, 4, 3, 3))
    with dask.config.set(scheduler=_refuse):
        lazy = xpops.conv2d(da.from_array(x), da.from_array(w), padding=1)
    want = xpops.conv2d(x, w, padding=1)
    assert_exact([np.asarray(lazy.compute(scheduler="sync"))], [np.asarray(want)])
