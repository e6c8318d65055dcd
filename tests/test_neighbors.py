"""Distances and k-nearest neighbours against scikit-learn, SciPy and exact float64 values.

- accuracy: float32 points offset by +1000 (where the plain matrix-product expansion, as
  torch.cdist's, cancels) stay within 20x scikit-learn's error, duplicates give exactly 0,
  nothing is negative, on every backend; under ``jax.jit`` within the documented bound;
- real data: on digits (first 1000 rows train, the rest test) ``knn_predict`` equals
  ``KNeighborsClassifier(algorithm="brute")`` for k in {1, 3, 5}, uniform and distance
  weights, on every backend, wherever the k-th and (k+1)-th distances are not tied;
- ``knn_cross_validate`` equals ``cross_val_score`` with ``KFold`` (folds of
  ``numpy.array_split``), and ``chunk_size`` bounds the memory of the search.
"""

from __future__ import annotations

import contextlib
import gzip
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import xpops
from xpops._lib.native import natives_disabled
from xpops._lib.primitives import (
    argmax_last,
    argsort_last,
    clamped_root,
    nonzero_padded,
    set_masked,
    set_pairs,
)


def _data_dir() -> Path | None:
    """``shared/data`` beside the project or one of its parent folders."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


def _digits() -> tuple[np.ndarray, np.ndarray]:
    root = _data_dir()
    path = None if root is None else root / "classic" / "digits.csv.gz"
    if path is None or not path.exists():
        pytest.skip("shared/data/classic/digits.csv.gz is absent")
    with gzip.open(path, "rt") as f:
        data = np.loadtxt(f, delimiter=",")
    return data[:, :-1], data[:, -1].astype(np.int64)


def _skip_repeats(backend) -> None:
    """Float32 real-data checks: jax:cpu:x64 would repeat jax:cpu's computation."""
    if backend.name.endswith(":x64"):
        pytest.skip("the same float32 computation as on jax:cpu")


def _exact(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))


# ------------------------------------------------------------------------ accuracy


@pytest.fixture(scope="module")
def offset_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a = (rng.random((300, 32)) + 1000).astype(np.float32)
    b = (rng.random((200, 32)) + 1000).astype(np.float32)
    b[:40] = a[:40]  # duplicates: exact 0 expected
    return a, b


@pytest.fixture(scope="module")
def sklearn_errors(offset_points) -> tuple[float, float]:
    """scikit-learn's max error on (a, b) and on (a, a), against float64."""
    pytest.importorskip("sklearn")
    from sklearn.metrics.pairwise import euclidean_distances

    a, b = offset_points
    return (np.abs(euclidean_distances(a, b).astype(np.float64) - _exact(a, b)).max(),
            np.abs(euclidean_distances(a, a).astype(np.float64) - _exact(a, a)).max())


def test_offset_float32_within_20x_sklearn(backend, offset_points, sklearn_errors):
    _skip_repeats(backend)
    if "float32" not in backend.float_dtypes:
        pytest.skip("no float32")
    a, b = offset_points
    sklearn_err, sklearn_self = sklearn_errors
    exact = _exact(a, b)
    xa, xb = backend.asarray(a, "float32"), backend.asarray(b, "float32")
    out = xpops.pairwise_distances(xa, xb)
    assert backend.dtype_name(out) == "float32"
    got = backend.to_numpy(out).astype(np.float64)
    assert np.abs(got - exact).max() <= 20 * sklearn_err
    assert (got >= 0).all()
    assert (got[np.arange(40), np.arange(40)] == 0).all()  # duplicates
    self_d = backend.to_numpy(xpops.pairwise_distances(xa, xa)).astype(np.float64)
    assert np.abs(self_d - _exact(a, a)).max() <= 20 * sklearn_self
    assert (np.diag(self_d) == 0).all()
    sq = backend.to_numpy(xpops.pairwise_distances(xa, xb, metric="sqeuclidean"))
    assert (sq >= 0).all() and (sq[np.arange(40), np.arange(40)] == 0).all()


def test_torch_cdist_cancels_where_we_do_not(offset_points):
    """The porting note: torch.cdist's mm path errs by O(1e-1) here."""
    torch = pytest.importorskip("torch")
    a, b = offset_points
    exact = _exact(a, b)
    cdist = torch.cdist(torch.asarray(a), torch.asarray(b)).numpy()
    ours = xpops.pairwise_distances(torch.asarray(a), torch.asarray(b)).numpy()
    assert np.abs(cdist - exact).max() > 1e-2
    assert np.abs(ours - exact).max() < 1e-5


def test_jit_keeps_the_documented_bound(offset_points):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    a, b = offset_points
    got = np.asarray(jax.jit(xpops.pairwise_distances)(jnp.asarray(a), jnp.asarray(b)))
    exact = _exact(a, b)
    centred = a.astype(np.float64) - a.mean(0)
    bound = np.sqrt(8 * np.finfo(np.float32).eps * 2 * (centred**2).sum(1).max())
    assert (got >= 0).all()
    assert np.abs(got - exact).max() <= bound
    # a budget of cancelling entries is redone even when traced
    assert (got[np.arange(40), np.arange(40)] == 0).all()


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "manhattan", "cosine"])
def test_matches_scipy_and_sklearn(metric):
    pytest.importorskip("scipy")
    pytest.importorskip("sklearn")
    from scipy.spatial.distance import cdist
    from sklearn.metrics import pairwise_distances

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(30, 5)), rng.normal(size=(20, 5)) * 3
    got = xpops.pairwise_distances(a, b, metric=metric)
    scipy_name = "cityblock" if metric == "manhattan" else metric
    np.testing.assert_allclose(got, cdist(a, b, metric=scipy_name), rtol=1e-12, atol=1e-13)
    if metric != "sqeuclidean":
        np.testing.assert_allclose(got, pairwise_distances(a, b, metric=metric), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("chunk_size", [None, 1, 7, 64])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_chunk_size_changes_nothing(chunk_size, metric):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(33, 4))
    want = xpops.pairwise_distances(a, b, metric=metric)
    got = xpops.pairwise_distances(a, b, metric=metric, chunk_size=chunk_size)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)  # GEMM blocking rounds
    d, i = xpops.kneighbors(b, a, k=5, metric=metric, chunk_size=chunk_size)
    np.testing.assert_array_equal(i, np.argsort(want, axis=1, kind="stable")[:, :5])


def test_chunk_size_bounds_the_search_memory():
    rng = np.random.default_rng(3)
    train, query = rng.normal(size=(4000, 8)), rng.normal(size=(1000, 8))

    def peak(chunk_size):
        tracemalloc.start()
        xpops.kneighbors(train, query, k=5, chunk_size=chunk_size)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    full_matrix = 1000 * 4000 * 8
    assert peak(1000) > full_matrix / 2
    assert peak(25) < full_matrix / 8


# ------------------------------------------------------------------ neighbours


def test_pure_and_native_paths_agree(backend):
    _skip_repeats(backend)
    rng = np.random.default_rng(4)
    train = rng.integers(-2, 3, size=(700, 3)).astype(np.float64)  # many exact ties
    query = rng.integers(-2, 3, size=(9, 3)).astype(np.float64)
    dtype = backend.float_dtypes[-1]
    t, q = backend.asarray(train, dtype), backend.asarray(query, dtype)
    d1, i1 = xpops.kneighbors(t, q, k=40)
    with natives_disabled():
        d2, i2 = xpops.kneighbors(t, q, k=40)
    d = _exact(query, train)
    want = np.argsort(d, axis=1, kind="stable")[:, :40]
    np.testing.assert_array_equal(backend.to_numpy(i1), want)
    np.testing.assert_array_equal(backend.to_numpy(i2), want)
    np.testing.assert_array_equal(backend.to_numpy(d1), backend.to_numpy(d2))


def test_sklearn_kneighbors_distances():
    pytest.importorskip("sklearn")
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(5)
    train, query = rng.normal(size=(200, 6)), rng.normal(size=(40, 6))
    for metric in ("euclidean", "manhattan", "cosine"):
        want_d, want_i = NearestNeighbors(n_neighbors=7, algorithm="brute", metric=metric).fit(
            train).kneighbors(query)
        d, i = xpops.kneighbors(train, query, k=7, metric=metric)
        np.testing.assert_allclose(d, want_d, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(i, want_i)


@pytest.fixture(scope="module")
def digits_split():
    x, y = _digits()
    return x[:1000], y[:1000], x[1000:], y[1000:]


@pytest.fixture(scope="module")
def sklearn_digits(digits_split):
    pytest.importorskip("sklearn")
    from sklearn.neighbors import KNeighborsClassifier

    x_train, y_train, x_test, _ = digits_split
    exact = np.sort(_exact(x_test, x_train), axis=1)
    out = {}
    for k in (1, 3, 5):
        untied = exact[:, k - 1] != exact[:, k]
        for weights in ("uniform", "distance"):
            clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute", weights=weights)
            out[k, weights] = clf.fit(x_train, y_train).predict(x_test), untied
    return out


def test_digits_equals_sklearn_on_every_backend(backend, digits_split, sklearn_digits):
    _skip_repeats(backend)
    x_train, y_train, x_test, y_test = digits_split
    xt, yt = backend.asarray(x_train, "float32"), backend.asarray(y_train)
    xq = backend.asarray(x_test, "float32")
    for (k, weights), (want, untied) in sklearn_digits.items():
        got = backend.to_numpy(xpops.knn_predict(xt, yt, xq, k=k, weights=weights))
        assert untied.sum() > 700
        np.testing.assert_array_equal(got[untied], want[untied], err_msg=f"k={k} {weights}")
    accuracy = np.mean(got == y_test)
    assert accuracy > 0.95


def test_digits_proba_equals_sklearn(digits_split):
    pytest.importorskip("sklearn")
    from sklearn.neighbors import KNeighborsClassifier

    x_train, y_train, x_test, _ = digits_split
    exact = np.sort(_exact(x_test, x_train), axis=1)
    untied = exact[:, 4] != exact[:, 5]
    for weights in ("uniform", "distance"):
        clf = KNeighborsClassifier(n_neighbors=5, algorithm="brute", weights=weights)
        want = clf.fit(x_train, y_train).predict_proba(x_test)
        got = xpops.knn_predict_proba(x_train, y_train, x_test, k=5, weights=weights)
        np.testing.assert_allclose(got[untied], want[untied], rtol=1e-12, atol=1e-15)


def test_exact_match_takes_all_the_weight():
    train = np.array([[0.0], [1.0], [1.0], [2.0]])
    y = np.array([0, 1, 2, 0])
    # the query equals points 1 and 2: they share the vote, point 0 and 3 get nothing
    proba = xpops.knn_predict_proba(train, y, np.array([[1.0]]), k=4, weights="distance")
    np.testing.assert_array_equal(proba, [[0.0, 0.5, 0.5]])
    assert xpops.knn_predict(train, y, np.array([[1.0]]), k=4, weights="distance")[0] == 1


def test_num_classes_is_required_under_jit():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    train, y = jnp.zeros((3, 2)), jnp.asarray([0, 1, 1])
    with pytest.raises(ValueError, match="num_classes"):
        jax.jit(lambda t, yy: xpops.knn_predict(t, yy, t))(train, y)
    got = jax.jit(lambda t, yy: xpops.knn_predict(t, yy, t, k=3, num_classes=2))(train, y)
    np.testing.assert_array_equal(np.asarray(got), [1, 1, 1])


def test_checks_name_the_parameter_and_the_bad_value():
    train, query = np.zeros((4, 2)), np.ones((2, 2))
    with pytest.raises(ValueError, match=r"`y_train` holds labels outside \[0, 3\): first "
                       r"bad value 7 at index 2"):
        xpops.knn_predict(train, np.array([0, 1, 7, -2]), query, num_classes=3)
    with pytest.raises(ValueError, match=r"`y_train` holds labels outside \[0, inf\): first "
                       r"bad value -2 at index 0"):
        xpops.knn_predict(train, np.array([-2, -1, -1, -3]), query)
    with pytest.raises(ValueError, match=r"`k` must be in \[1, 4\], got 5"):
        xpops.kneighbors(train, query, k=5)
    with pytest.raises(ValueError, match=r"`chunk_size` must be >= 1, got 0"):
        xpops.pairwise_distances(train, query, chunk_size=0)
    with pytest.raises(TypeError, match=r"`chunk_size` must be an int or None, got 2.0"):
        xpops.kneighbors(train, query, k=1, chunk_size=2.0)
    with pytest.raises(ValueError, match=r"`num_folds` must be in \[2, 4\], got 5"):
        xpops.knn_cross_validate(train, np.array([0, 1, 0, 1]), k_choices=(1,), num_folds=5)
    with pytest.raises(TypeError, match=r"`k_choices\[1\]` must be an int, got 2.5"):
        xpops.best_k((1, 2.5), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"`k_choices\[0\]` must be >= 1, got 0"):
        xpops.best_k((0, 2), np.ones((2, 2)))


def test_numpy_integers_are_counts():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(12, 3)), rng.integers(0, 2, 12)
    want = xpops.kneighbors(x, x[:3], k=2)
    got = xpops.kneighbors(x, x[:3], k=np.int64(2), chunk_size=np.int32(1))
    np.testing.assert_array_equal(got[1], want[1])
    proba = xpops.knn_predict_proba(x, y, x[:3], k=np.int8(3), num_classes=np.int64(2))
    assert proba.shape == (3, 2)
    acc = xpops.knn_cross_validate(x, y, k_choices=(np.int64(1), 3), num_folds=np.int16(3))
    np.testing.assert_array_equal(
        acc, xpops.knn_cross_validate(x, y, k_choices=(1, 3), num_folds=3))
    assert int(xpops.best_k((np.int64(3), 1), acc[::-1])) in (1, 3)


# ------------------------------------------------------------- cross-validation


def _numpy_cross_validate(x, y, k_choices, folds):
    """Brute-force k-NN cross-validation over the given folds (index arrays): float64
    distances, a stable sort (ties in training order), votes by ``bincount``, tied votes
    to the smallest label."""
    n, classes = len(x), int(y.max()) + 1
    out = np.zeros((len(k_choices), len(folds)))
    for j, fold in enumerate(folds):
        train = np.setdiff1d(np.arange(n), fold)  # ascending: training order
        d = np.sqrt(((x[fold, None, :] - x[None, train, :]) ** 2).sum(-1))
        nearest = y[train][np.argsort(d, axis=1, kind="stable")]
        for i, k in enumerate(k_choices):
            votes = np.stack([np.bincount(row[:k], minlength=classes) for row in nearest])
            out[i, j] = np.mean(votes.argmax(axis=1) == y[fold])
    return out


@pytest.mark.parametrize("n", [10, 11])
def test_folds_are_array_split_not_torch_chunk(n):
    """Against a NumPy brute force on ``numpy.array_split`` folds: 10 samples in 4 folds
    make folds of 3, 3, 2, 2 (``torch.chunk`` would make 3, 3, 3, 1), 11 make 3, 3, 3, 2;
    integer points, so that exact ties in distance and in votes are exercised."""
    rng = np.random.default_rng(n)
    x, y = rng.integers(0, 4, size=(n, 3)).astype(np.float64), rng.integers(0, 3, n)
    ks = (1, 2, 3, 5)
    got = xpops.knn_cross_validate(x, y, k_choices=ks, num_folds=4)
    want = _numpy_cross_validate(x, y, ks, np.array_split(np.arange(n), 4))
    np.testing.assert_array_equal(got, want)
    if n == 10:  # the data tell torch.chunk's folds apart
        chunks = [np.arange(s, min(s + 3, n)) for s in range(0, n, 3)]
        assert not np.array_equal(want, _numpy_cross_validate(x, y, ks, chunks))


def test_cross_validate_equals_sklearn_on_digits(digits_split):
    pytest.importorskip("sklearn")
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    x, y = digits_split[0][:500], digits_split[1][:500]
    ks = (1, 3, 5, 8)
    got = xpops.knn_cross_validate(x, y, k_choices=ks, num_folds=5)
    assert got.shape == (4, 5)
    for row, k in zip(got, ks, strict=True):
        want = cross_val_score(KNeighborsClassifier(n_neighbors=k, algorithm="brute"), x, y,
                               cv=KFold(5))
        # a fold may differ by a query whose k-th neighbour is tied
        np.testing.assert_allclose(row, want, atol=1.5 / 100)
    assert int(xpops.best_k(ks, got)) in ks


def test_best_k_ties_go_to_the_smallest_k():
    acc = np.array([[0.5, 1.0], [0.75, 0.75], [1.0, 0.5]])
    assert int(xpops.best_k((10, 3, 5), acc)) == 3
    assert int(xpops.best_k((1, 3, 5), acc)) == 1


def test_cycle_runs_on_every_backend(backend):
    _skip_repeats(backend)
    x, y = _digits()
    x, y = x[:200], y[:200]
    xb, yb = backend.asarray(x, backend.float_dtypes[0]), backend.asarray(y)
    acc = xpops.knn_cross_validate(xb, yb, k_choices=(1, 3, 5), num_folds=4)
    assert backend.same_device(acc)
    assert backend.dtype_name(acc) == backend.float_dtypes[0]
    want = xpops.knn_cross_validate(x.astype(backend.float_dtypes[0]), y, k_choices=(1, 3, 5),
                                    num_folds=4)
    np.testing.assert_allclose(backend.to_numpy(acc), want)
    k = xpops.best_k((1, 3, 5), acc)
    assert backend.same_device(k) and int(k) in (1, 3, 5)


# ------------------------------------------------------------------ _lib helpers


@pytest.mark.parametrize("native", [True, False], ids=["native", "fallback"])
def test_lib_helpers(backend, native):
    xp = backend.xp
    dtype = backend.float_dtypes[0]
    x = np.array([[4.0, 0.0, 9.0], [16.0, 1.0, 0.25]])
    path = contextlib.nullcontext if native else natives_disabled
    with path():
        root, minima = clamped_root(xp, backend.asarray(x, dtype), root=True)
    np.testing.assert_allclose(backend.to_numpy(root), np.sqrt(x), rtol=1e-6)
    np.testing.assert_array_equal(backend.to_numpy(minima), [0.0, 0.5])
    with path():
        squared, minima = clamped_root(xp, backend.asarray(-x, dtype), root=False)
    assert (backend.to_numpy(squared) == 0).all() and (backend.to_numpy(minima) == 0).all()
    # a negative residue under the root: 0, or NaN (row minimum too) on the in-place paths
    with path():
        root, minima = clamped_root(xp, backend.asarray(-x, dtype), root=True)
    got = backend.to_numpy(root)
    assert ((got == 0) | np.isnan(got)).all() and ((got == 0) | np.isnan(got))[x > 0].all()
    assert np.isnan(backend.to_numpy(minima)).all() == np.isnan(got).any()
    if not native:  # the pure path clamps first: never NaN
        assert not np.isnan(got).any()
    mask = np.array([[True, False, True], [False, False, True]])
    with path():
        rows, cols = nonzero_padded(xp, backend.asarray(mask), 5)
    np.testing.assert_array_equal(backend.to_numpy(rows), [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(backend.to_numpy(cols), [0, 2, 2, 0, 0])
    values = backend.asarray(np.array([7.0, 8.0, 9.0]), dtype)
    target = np.zeros((2, 3))
    target[mask] = [7.0, 8.0, 9.0]
    got = set_masked(xp, backend.asarray(np.zeros((2, 3)), dtype), backend.asarray(mask), values)
    np.testing.assert_array_equal(backend.to_numpy(got), target)
    r, c = backend.asarray(np.array([0, 0, 1])), backend.asarray(np.array([0, 2, 2]))
    got = set_pairs(xp, backend.asarray(np.zeros((2, 3)), dtype), r, c, values)
    np.testing.assert_array_equal(backend.to_numpy(got), target)
    ties = backend.asarray(np.array([[1.0, 0.0, 1.0, 0.0]]), dtype)
    np.testing.assert_array_equal(backend.to_numpy(argsort_last(xp, ties)), [[1, 3, 0, 2]])
    np.testing.assert_array_equal(backend.to_numpy(argmax_last(xp, ties)), [0])
