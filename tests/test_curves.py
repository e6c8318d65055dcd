"""fbeta_curve and best_fbeta_threshold.

scikit-learn's ``precision_recall_curve`` is the reference for the curve (hypothesis,
heavy ties included), a brute-force loop over thresholds for the best threshold.

Documented differences from scikit-learn, tested as ours:
- no end point: sklearn appends precision 1, recall 0 (without a threshold), so its
  precision and recall are one longer than its thresholds; ours are all one length;
- ties in F-beta: ``thresholds[np.argmax(f)]`` over sklearn's ascending curve gives the
  lowest tied threshold, ``best_fbeta_threshold`` the highest;
- no positives: sklearn warns and sets recall 1 (F 0); we do the same without a warning.
"""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xpops
from xpops.impl import curves

SCORES = np.array([0.6, 0.5, 0.7, 0.2, 0.1, 0.3, 0.4, 0.12, 0.64, 0.8, 0.9])
TARGET = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])


@st.composite
def scored_labels(draw, min_size=1):
    """Scores with few distinct levels (heavy ties) or continuous ones, and 0/1 labels."""
    n = draw(st.one_of(st.integers(min_size, 8), st.integers(17, 300)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    levels = draw(st.sampled_from([1, 2, 3, 5, 10, 0]))  # 0: continuous
    scores = rng.random(n) if levels == 0 else rng.integers(0, levels, size=n) / levels
    target = (rng.random(n) < draw(st.sampled_from([0.0, 0.05, 0.5, 0.95, 1.0]))).astype(int)
    return scores, target


def _sklearn_curve(scores, target, beta=1.0):
    from sklearn.metrics import precision_recall_curve

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No positive class found in y_true"
        precision, recall, thresholds = precision_recall_curve(target, scores)
    assert precision[-1] == 1 and recall[-1] == 0  # the end point we leave out
    precision, recall = precision[:-1], recall[:-1]
    b2 = beta**2
    with np.errstate(invalid="ignore"):
        f = np.nan_to_num((1 + b2) * precision * recall / (b2 * precision + recall))
    return thresholds, precision, recall, f


def _brute_force_best(scores, target, beta=1.0):
    """Every distinct threshold, F from the confusion counts; ties to the highest."""
    best = (-1.0, np.nan)
    for threshold in np.unique(scores):
        predicted = scores >= threshold
        tp = np.sum(predicted & (target == 1))
        fp = np.sum(predicted & (target == 0))
        fn = np.sum(~predicted & (target == 1))
        f = (1 + beta**2) * tp / ((1 + beta**2) * tp + beta**2 * fn + fp)
        if f >= best[0]:
            best = (f, threshold)
    return best[1], best[0]


# ------------------------------------------------------------------- scikit-learn


@given(scored_labels(), st.sampled_from([1.0, 0.5, 2.0, 0.7]))
def test_curve_equals_sklearn(data, beta):
    pytest.importorskip("sklearn")
    scores, target = data
    got = xpops.fbeta_curve(scores, target, beta=beta)
    want = _sklearn_curve(scores, target, beta)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15)


@given(scored_labels())
def test_best_equals_sklearn_argmax_up_to_ties(data):
    pytest.importorskip("sklearn")
    scores, target = data
    threshold, f = xpops.best_fbeta_threshold(scores, target)
    thresholds, _, _, sk_f = _sklearn_curve(scores, target)
    assert f == pytest.approx(sk_f.max(), rel=1e-12, abs=1e-15)
    tied = thresholds[np.isclose(sk_f, sk_f.max(), rtol=1e-12, atol=1e-15)]
    assert threshold == tied.max()  # ours: the highest of the tied thresholds
    assert thresholds[np.argmax(sk_f)] == tied.min()  # sklearn's argmax: the lowest


def test_no_positives_matches_sklearn_curve():
    pytest.importorskip("sklearn")
    scores, target = np.array([0.3, 0.8, 0.8, 0.1]), np.zeros(4, dtype=int)
    for g, w in zip(xpops.fbeta_curve(scores, target), _sklearn_curve(scores, target),
                    strict=True):
        np.testing.assert_array_equal(g, w)
    assert tuple(map(float, xpops.best_fbeta_threshold(scores, target))) == (0.8, 0.0)


# --------------------------------------------------------------------- brute force


@given(scored_labels(), st.sampled_from([1.0, 0.5, 2.0, 0.25]))
def test_best_equals_brute_force_loop(data, beta):
    scores, target = data
    threshold, f = xpops.best_fbeta_threshold(scores, target, beta=beta)
    want_threshold, want_f = _brute_force_best(scores, target, beta)
    assert float(threshold) == want_threshold
    assert float(f) == pytest.approx(want_f, rel=1e-12)


def test_best_is_the_maximum_of_the_curve(backend, rng):
    scores = rng.integers(0, 7, size=200) / 7
    target = (rng.random(200) < 0.3).astype(np.int64)
    thresholds, _, _, f = map(backend.to_numpy, xpops.fbeta_curve(
        backend.asarray(scores, "float32"), backend.asarray(target)))
    best_t, best_f = map(backend.to_numpy, xpops.best_fbeta_threshold(
        backend.asarray(scores, "float32"), backend.asarray(target)))
    assert best_f == f.max()
    assert best_t == thresholds[np.flatnonzero(f == f.max())[-1]]


# -------------------------------------------------------------- named cases, every backend


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_eleven_scores_example(backend, dtype):
    if dtype not in backend.float_dtypes:
        pytest.skip(f"{backend.name} has no {dtype}")
    s, t = backend.asarray(SCORES, dtype), backend.asarray(TARGET)
    threshold, f = xpops.best_fbeta_threshold(s, t)
    assert tuple(threshold.shape) == () and tuple(f.shape) == ()
    assert backend.same_device(threshold) and backend.same_device(f)
    assert float(backend.to_numpy(threshold)) == pytest.approx(0.2)
    assert float(backend.to_numpy(f)) == pytest.approx(8 / 13, rel=1e-6)
    thresholds, precision, recall, fbeta = map(backend.to_numpy, xpops.fbeta_curve(s, t))
    np.testing.assert_allclose(thresholds, np.sort(SCORES), rtol=1e-7)
    i = int(np.argmin(np.abs(thresholds - 0.2)))
    assert (precision[i], recall[i]) == (pytest.approx(4 / 9), 1.0)
    assert fbeta.max() == pytest.approx(8 / 13, rel=1e-6)


def test_tie_in_f_goes_to_the_highest_threshold(backend):
    # F1 = 2/3 at 0.9 (tp 1 of 1) and at 0.1 (tp 2 of 4)
    s, t = backend.asarray(np.array([0.9, 0.7, 0.6, 0.1]), "float32"), backend.asarray(
        np.array([1, 0, 0, 1]))
    threshold, f = map(backend.to_numpy, xpops.best_fbeta_threshold(s, t))
    assert float(threshold) == pytest.approx(0.9)
    assert float(f) == pytest.approx(2 / 3)


def test_all_scores_tied_give_one_point(backend):
    s = backend.asarray(np.full(20, 0.5), "float32")
    t = backend.asarray((np.arange(20) % 4 == 0).astype(np.int64))
    out = [backend.to_numpy(o) for o in xpops.fbeta_curve(s, t)]
    assert [o.shape for o in out] == [(1,)] * 4
    np.testing.assert_allclose([o[0] for o in out], [0.5, 0.25, 1.0, 0.4], rtol=1e-6)


# ------------------------------------------------------------------------ bad input


def _concrete(backend) -> bool:
    return backend.library != "dask"


@pytest.mark.parametrize("op", [xpops.fbeta_curve, xpops.best_fbeta_threshold])
def test_bad_input_raises_naming_the_parameter(backend, op):
    s = backend.asarray(SCORES, "float32")
    t = backend.asarray(TARGET)
    with pytest.raises(ValueError, match="target"):
        op(s, backend.asarray(TARGET[:5]))
    for beta in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="beta"):
            op(s, t, beta=beta)
    with pytest.raises(TypeError, match="scores"):
        op(backend.asarray(TARGET), t)
    if not _concrete(backend):
        return  # values are checked when concrete: never on Dask
    nan_scores = SCORES.copy()
    nan_scores[3] = np.nan
    with pytest.raises(ValueError, match="scores"):
        op(backend.asarray(nan_scores, "float32"), t)
    with pytest.raises(ValueError, match="target"):
        op(s, backend.asarray(TARGET * 2))


def test_empty_input():
    out = xpops.fbeta_curve(np.zeros(0), np.zeros(0, dtype=int))
    assert [o.shape for o in out] == [(0,)] * 4
    with pytest.raises(ValueError, match="scores"):
        xpops.best_fbeta_threshold(np.zeros(0), np.zeros(0, dtype=int))


# --------------------------------------------------------------------- jit, devices


def test_best_runs_under_jit_and_eager_jax_checks_values():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    s, t = jnp.asarray(SCORES, dtype=jnp.float32), jnp.asarray(TARGET)
    threshold, f = jax.jit(xpops.best_fbeta_threshold)(s, t)
    assert float(threshold) == pytest.approx(0.2) and float(f) == pytest.approx(8 / 13)
    with pytest.raises(ValueError, match="target"):
        xpops.best_fbeta_threshold(s, t * 3)


def test_results_stay_on_the_input_device(device1):
    s, t = device1.asarray(SCORES, "float64"), device1.asarray(TARGET)
    for out in (*xpops.fbeta_curve(s, t), *xpops.best_fbeta_threshold(s, t)):
        assert device1.same_device(out)


def test_docstring_examples():
    failures, tried = doctest.testmod(curves, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0
