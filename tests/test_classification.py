"""confusion_matrix, stat_scores, fbeta_from_stats and the precision/recall/F-beta family.

scikit-learn is the reference (``precision_recall_fscore_support``, ``fbeta_score``,
``f1_score``, ``confusion_matrix`` with ``labels=range(K)``), for every average and
zero_division, first on NumPy with a grid of data sets, then on every backend.

Documented differences from scikit-learn, tested as ours:
- Every class of ``[0, num_classes)`` counts; scikit-learn without ``labels=`` uses the
  classes present in the data.
- ``task="binary"`` describes the positive class only, so ``"macro"`` equals
  ``"binary"``; scikit-learn's macro over both labels is ``task="multiclass",
  num_classes=2``.
- ``zero_division="warn"`` is not accepted (scikit-learn treats it as 0.0 and warns);
  ``beta`` must be finite (scikit-learn maps ``beta=inf`` to recall).
"""

from __future__ import annotations

import doctest
import itertools
import math
import warnings

import numpy as np
import pytest

import xpops
from xpops._lib.native import natives_disabled
from xpops.impl import classification

AVERAGES = ("micro", "macro", "weighted", None)
ZERO_DIVISIONS = (0.0, 1.0, math.nan)
K = 5


def _datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Multiclass (preds, target) label pairs, K = 5, several degenerate."""
    rng = np.random.default_rng(7)
    target = rng.integers(0, 4, size=60)  # class 4 never a target
    preds = np.where(rng.random(60) < 0.6, target, rng.integers(0, K, size=60))
    return {
        "random": (preds, target),
        "class 4 absent from both": (np.minimum(preds, 3), target),
        "perfect": (target, target),
        "all wrong": ((target + 1) % K, target),
        "one class predicted": (np.zeros_like(target), target),
        "single sample": (np.array([2]), np.array([3])),
    }


DATASETS = _datasets()


def _sklearn_prf(preds, target, labels, **kwargs):
    from sklearn.metrics import precision_recall_fscore_support

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return precision_recall_fscore_support(target, preds, labels=labels, **kwargs)[:3]


def _assert_same(got, want):
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g, dtype=np.float64),
                                   np.asarray(w, dtype=np.float64), rtol=1e-12, atol=0)


def _np(backend, values):
    return tuple(backend.to_numpy(v) for v in values)


# ------------------------------------------------------------- scikit-learn grid


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS, ids=str)
@pytest.mark.parametrize("average", AVERAGES, ids=str)
@pytest.mark.parametrize("data", list(DATASETS))
def test_multiclass_matches_sklearn(data, average, zero_division):
    pytest.importorskip("sklearn")
    preds, target = DATASETS[data]
    for beta in (1.0, 0.5, 2.0):
        want = _sklearn_prf(preds, target, np.arange(K), beta=beta, average=average,
                            zero_division=zero_division)
        got = xpops.precision_recall_fbeta(
            preds, target, beta=beta, task="multiclass", num_classes=K, average=average,
            zero_division=zero_division,
        )
        _assert_same(got, want)


BINARY = {
    "random": (np.array([1, 0, 1, 1, 0, 0, 1, 0]), np.array([1, 0, 0, 1, 1, 0, 1, 0])),
    "no positives": (np.array([1, 0, 1, 0]), np.array([0, 0, 0, 0])),
    "nothing predicted": (np.array([0, 0, 0, 0]), np.array([1, 0, 1, 0])),
    "all negative": (np.array([0, 0, 0]), np.array([0, 0, 0])),
    "tp = 0": (np.array([1, 0, 1, 0]), np.array([0, 1, 0, 1])),
}


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS, ids=str)
@pytest.mark.parametrize("data", list(BINARY))
def test_binary_matches_sklearn(data, zero_division):
    pytest.importorskip("sklearn")
    from sklearn.metrics import f1_score, fbeta_score

    preds, target = BINARY[data]
    want = _sklearn_prf(preds, target, None, average="binary", zero_division=zero_division)
    _assert_same(xpops.precision_recall_fbeta(preds, target, zero_division=zero_division), want)
    # as scores: 0/1 labels become 0.25 / 0.75 around the default threshold
    scores = np.where(preds == 1, 0.75, 0.25)
    _assert_same(xpops.precision_recall_fbeta(scores, target, zero_division=zero_division),
                 want)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f2 = fbeta_score(target, preds, beta=2.0, zero_division=zero_division)
        f1 = f1_score(target, preds, zero_division=zero_division)
    _assert_same([xpops.fbeta_score(preds, target, beta=2.0, zero_division=zero_division)],
                 [f2])
    _assert_same([xpops.f1_score(preds, target, zero_division=zero_division)], [f1])
    # scikit-learn's averages over both labels are the two-class multiclass task
    for average in AVERAGES:
        want = _sklearn_prf(preds, target, [0, 1], average=average,
                            zero_division=zero_division)
        got = xpops.precision_recall_fbeta(preds, target, task="multiclass", num_classes=2,
                                           average=average, zero_division=zero_division)
        _assert_same(got, want)


def _multilabel() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(3)
    target = (rng.random((30, 4)) < 0.4).astype(np.int64)
    target[:, 3] = 0  # a label that is never a target
    preds = np.where(rng.random((30, 4)) < 0.7, target, 1 - target)
    target[:3] = 0  # samples without labels ...
    preds[:2] = 0  # ... two of which predict none either
    return {
        "random": (preds, target),
        "no targets at all": (preds, np.zeros_like(target)),
        "nothing predicted": (np.zeros_like(preds), target),
    }


MULTILABEL = _multilabel()


@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS, ids=str)
@pytest.mark.parametrize("average", (*AVERAGES, "samples"), ids=str)
@pytest.mark.parametrize("data", list(MULTILABEL))
def test_multilabel_matches_sklearn(data, average, zero_division):
    pytest.importorskip("sklearn")
    preds, target = MULTILABEL[data]
    want = _sklearn_prf(preds, target, None, average=average, zero_division=zero_division)
    got = xpops.precision_recall_fbeta(preds, target, task="multilabel", average=average,
                                       zero_division=zero_division)
    _assert_same(got, want)
    scores = np.where(preds == 1, 0.5, 0.2)  # score == threshold is positive
    got = xpops.precision_recall_fbeta(scores, target, task="multilabel", average=average,
                                       zero_division=zero_division, threshold=0.5)
    _assert_same(got, want)


def test_multiclass_scores_use_argmax():
    rng = np.random.default_rng(0)
    scores = rng.random((40, K))
    target = rng.integers(0, K, size=40)
    labels = np.argmax(scores, axis=-1)
    for average in AVERAGES:
        _assert_same(
            xpops.precision_recall_fbeta(scores, target, task="multiclass", average=average),
            xpops.precision_recall_fbeta(labels, target, task="multiclass", num_classes=K,
                                         average=average),
        )


def test_confusion_matrix_matches_sklearn():
    pytest.importorskip("sklearn")
    from sklearn.metrics import confusion_matrix

    for preds, target in DATASETS.values():
        np.testing.assert_array_equal(
            xpops.confusion_matrix(preds, target, num_classes=K),
            confusion_matrix(target, preds, labels=np.arange(K)),
        )


# ------------------------------------------------------------------ every backend


def _case_with_ignore(rng, n=48, k=K, ignore=255):
    target = rng.integers(0, k - 1, size=n)
    preds = np.where(rng.random(n) < 0.6, target, rng.integers(0, k, size=n))
    ignored = rng.random(n) < 0.2
    return preds, np.where(ignored, ignore, target), ~ignored


def test_confusion_matrix_on_every_backend(backend, both_paths, rng):
    pytest.importorskip("sklearn")
    from sklearn.metrics import confusion_matrix

    preds, target, kept = _case_with_ignore(rng)
    want = confusion_matrix(target[kept], preds[kept], labels=np.arange(K))
    got = xpops.confusion_matrix(backend.asarray(preds), backend.asarray(target),
                                 num_classes=K, ignore_index=255)
    assert backend.same_device(got)
    assert backend.dtype_name(got) == backend.int_dtype
    np.testing.assert_array_equal(backend.to_numpy(got), want)


def test_averages_on_every_backend(backend):
    """One fixed shape per task (JAX compiles per shape), every average and zero_division."""
    pytest.importorskip("sklearn")
    preds, target = DATASETS["class 4 absent from both"]
    mpreds, mtarget = MULTILABEL["random"]
    p, t = backend.asarray(preds), backend.asarray(target)
    mp, mt = backend.asarray(mpreds), backend.asarray(mtarget)
    for average, zd in itertools.product(AVERAGES, ZERO_DIVISIONS):
        got = xpops.precision_recall_fbeta(p, t, task="multiclass", num_classes=K,
                                           average=average, zero_division=zd)
        want = _sklearn_prf(preds, target, np.arange(K), average=average, zero_division=zd)
        for g, w in zip(got, want, strict=True):
            assert backend.same_device(g)
            np.testing.assert_allclose(backend.to_numpy(g), w, rtol=1e-6)
    for average, zd in itertools.product((*AVERAGES, "samples"), ZERO_DIVISIONS):
        got = xpops.precision_recall_fbeta(mp, mt, task="multilabel", average=average,
                                           zero_division=zd)
        want = _sklearn_prf(mpreds, mtarget, None, average=average, zero_division=zd)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(backend.to_numpy(g), w, rtol=1e-6)


def test_result_dtypes(backend):
    """Counts: the default integer; scores: preds' float dtype, else the default float."""
    dtype = backend.float_dtypes[0]
    scores = backend.asarray(np.array([0.2, 0.6, 0.9]), dtype)
    labels = backend.asarray(np.array([0, 1, 1]))
    target = backend.asarray(np.array([0, 1, 0]))
    assert backend.dtype_name(xpops.stat_scores(scores, target, task="binary")) == \
        backend.int_dtype
    assert backend.dtype_name(xpops.f1_score(scores, target)) == dtype
    default = backend.dtype_name(backend.xp.asarray(0.0, device=backend.device))
    assert backend.dtype_name(xpops.f1_score(labels, target)) == default
    f = xpops.f1_score(labels, target)
    assert tuple(f.shape) == () and backend.same_device(f)


# --------------------------------------------------------------- chunk accumulation

CHUNK_TASKS = {
    "binary": lambda rng: (rng.random(50), (rng.random(50) < 0.4).astype(np.int64), {}),
    "multiclass": lambda rng: (rng.integers(0, K, 50), rng.integers(0, K, 50),
                               {"num_classes": K}),
    "multiclass scores": lambda rng: (rng.random((50, K)), rng.integers(0, K, 50), {}),
    "multilabel": lambda rng: (rng.random((50, 3)), (rng.random((50, 3)) < 0.5).astype(int),
                               {}),
}


@pytest.mark.parametrize("task", list(CHUNK_TASKS))
def test_chunk_accumulation_is_exact(backend, task, rng):
    preds, target, kwargs = CHUNK_TASKS[task](rng)
    target = np.where(rng.random(target.shape) < 0.1, -1, target)  # some ignored
    kwargs = {**kwargs, "task": task.split()[0], "ignore_index": -1}
    dtype = backend.float_dtypes[-1]

    def as_preds(x):
        return backend.asarray(x, dtype if x.dtype.kind == "f" else None)

    def stats(lo, hi):
        return xpops.stat_scores(as_preds(preds[lo:hi]),
                                 backend.asarray(target[lo:hi]), **kwargs)

    cuts = [0, 7, 8, 30, 50]  # one chunk of a single sample
    chunks = [backend.to_numpy(stats(lo, hi)) for lo, hi in itertools.pairwise(cuts)]
    one_shot = stats(0, 50)
    np.testing.assert_array_equal(sum(chunks), backend.to_numpy(one_shot))
    summed = backend.asarray(sum(chunks))
    averages = ["binary", None] if kwargs["task"] == "binary" else AVERAGES
    for average, zd in itertools.product(averages, ZERO_DIVISIONS):
        from_stats = xpops.fbeta_from_stats(summed, beta=2.0, average=average,
                                            zero_division=zd)
        direct = xpops.precision_recall_fbeta(
            as_preds(preds), backend.asarray(target), beta=2.0,
            average=average, zero_division=zd, **kwargs,
        )
        # the float dtypes may differ (default float vs preds'): compare in float64
        for a, b in zip(_np(backend, from_stats), _np(backend, direct), strict=True):
            exact = a.dtype == b.dtype == np.float64
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64),
                                       rtol=1e-15 if exact else 1e-6)
    confusion = [
        backend.to_numpy(xpops.confusion_matrix(
            backend.asarray(preds[lo:hi]),
            backend.asarray(target[lo:hi]), num_classes=K, ignore_index=-1))
        for lo, hi in itertools.pairwise(cuts)
    ] if task == "multiclass" else []
    if confusion:
        full = xpops.confusion_matrix(backend.asarray(preds), backend.asarray(target),
                                      num_classes=K, ignore_index=-1)
        np.testing.assert_array_equal(sum(confusion), backend.to_numpy(full))


def test_samples_average_is_not_derivable_from_stats():
    with pytest.raises(ValueError, match="global statistics"):
        xpops.fbeta_from_stats(np.ones((3, 4), np.int64), average="samples")


# ---------------------------------------------------------------------- bad input

_P, _T = np.array([0, 1, 1]), np.array([0, 1, 0])
BAD = {
    "shape mismatch": (lambda: ((_P, np.array([0, 1])), {}), ValueError, "target"),
    "non-binary target": (lambda: ((_P, np.array([0, 2, 1])), {}), ValueError, "target"),
    "non-binary preds": (lambda: ((np.array([0, 3, 1]), _T), {}), ValueError, "preds"),
    "label above num_classes": (
        lambda: ((_P, np.array([0, 5, 1])), {"task": "multiclass", "num_classes": 3,
                                             "average": "macro"}), ValueError, "target"),
    "negative label not ignore_index": (
        lambda: ((_P, np.array([0, -2, 1])), {"task": "multiclass", "num_classes": 3,
                                              "average": "macro", "ignore_index": -1}),
        ValueError, "ignore_index=-1"),
    "beta 0": (lambda: ((_P, _T), {"beta": 0.0}), ValueError, "beta"),
    "beta negative": (lambda: ((_P, _T), {"beta": -2.0}), ValueError, "beta"),
    "beta inf": (lambda: ((_P, _T), {"beta": math.inf}), ValueError, "beta"),
    "beta string": (lambda: ((_P, _T), {"beta": "1"}), TypeError, "beta"),
    "unknown average": (lambda: ((_P, _T), {"average": "mean"}), ValueError, "average"),
    "unknown task": (lambda: ((_P, _T), {"task": "multi-class"}), ValueError, "task"),
    "zero_division 0.5": (lambda: ((_P, _T), {"zero_division": 0.5}), ValueError,
                          "zero_division"),
    "zero_division warn": (lambda: ((_P, _T), {"zero_division": "warn"}), ValueError,
                           "zero_division"),
    "zero_division None": (lambda: ((_P, _T), {"zero_division": None}), TypeError,
                           "zero_division"),
    "binary average for multiclass": (
        lambda: ((_P, _T), {"task": "multiclass", "num_classes": 2}), ValueError,
        "choose `average`"),
    "binary average for multilabel": (
        lambda: ((_P[None], _T[None]), {"task": "multilabel"}), ValueError, "'samples'"),
    "samples for binary": (lambda: ((_P, _T), {"average": "samples"}), ValueError,
                           "samples"),
    "num_classes missing": (lambda: ((_P, _T), {"task": "multiclass", "average": "micro"}),
                            ValueError, "num_classes"),
    "num_classes for binary": (lambda: ((_P, _T), {"num_classes": 2}), ValueError,
                               "num_classes"),
    "multilabel 1-d": (lambda: ((_P, _T), {"task": "multilabel", "average": "micro"}),
                       ValueError, "target.shape"),
    "multilabel num_classes": (
        lambda: ((_P[None], _T[None]), {"task": "multilabel", "num_classes": 2,
                                        "average": "micro"}), ValueError, "num_classes"),
    "scores shape": (
        lambda: ((np.ones((3, 2)) / 2, np.array([0, 1])), {"task": "multiclass",
                                                           "average": "micro"}),
        ValueError, "preds.shape"),
    "float multiclass labels": (
        lambda: ((_P.astype(float), _T), {"task": "multiclass", "num_classes": 2,
                                          "average": "micro"}), TypeError, "preds"),
    "ignore_index float": (lambda: ((_P, _T), {"ignore_index": 1.5}), TypeError,
                           "ignore_index"),
    # NaN would compare False with every score: all predictions silently negative
    "threshold NaN": (lambda: ((_P.astype(float) / 2, _T), {"threshold": float("nan")}),
                      ValueError, "`threshold` must not be NaN"),
}


# checks on values: skipped on Dask (not concrete) so that the ops stay lazy
VALUE_CHECKS = {"non-binary target", "non-binary preds", "label above num_classes",
                "negative label not ignore_index"}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_raises(backend, name):
    if name in VALUE_CHECKS and backend.library == "dask":
        pytest.skip("values are not concrete on Dask: the check is deferred by design")
    make, exc, match = BAD[name]
    (preds, target), kwargs = make()
    dtype = backend.float_dtypes[-1]
    args = [backend.asarray(a, dtype if a.dtype.kind == "f" else None) for a in (preds, target)]
    with pytest.raises(exc, match=match):
        xpops.precision_recall_fbeta(*args, **kwargs)


def test_bad_input_is_named_with_its_value():
    with pytest.raises(ValueError,
                       match=r"`target` holds labels outside \[0, 3\): first bad value 7 at"):
        xpops.confusion_matrix(np.array([0, 1, 2, 1]), np.array([7, 1, -4, 0]), num_classes=3)
    with pytest.raises(ValueError, match=r"target.shape=\(2,\) and preds.shape=\(3,\)"):
        xpops.confusion_matrix(_P, np.array([0, 1]), num_classes=2)
    with pytest.raises(ValueError, match="got -1.0"):
        xpops.f1_score(_P, _T, zero_division=-1.0)
    with pytest.raises(ValueError, match=r"shape \(num_classes, 4\).*\(3, 3\)"):
        xpops.fbeta_from_stats(np.ones((3, 3), np.int64), average="macro")


def test_preds_at_ignored_positions_are_not_checked():
    got = xpops.confusion_matrix(np.array([0, 99, 1]), np.array([0, 255, 1]), num_classes=2,
                                 ignore_index=255)
    np.testing.assert_array_equal(got, np.eye(2, dtype=np.int64))


# ------------------------------------------------------------------------ jax.jit


def test_jit_with_integer_inputs():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    rng = np.random.default_rng(1)
    preds, target, _ = _case_with_ignore(rng, ignore=-1)
    p, t = jnp.asarray(preds), jnp.asarray(target)

    cm = jax.jit(lambda a, b: xpops.confusion_matrix(a, b, num_classes=K, ignore_index=-1))
    np.testing.assert_array_equal(
        cm(p, t), xpops.confusion_matrix(preds, target, num_classes=K, ignore_index=-1))
    ss = jax.jit(lambda a, b: xpops.stat_scores(a, b, task="multiclass", num_classes=K,
                                                ignore_index=-1))
    np.testing.assert_array_equal(
        ss(p, t), xpops.stat_scores(preds, target, task="multiclass", num_classes=K,
                                    ignore_index=-1))
    f1 = jax.jit(lambda a, b: xpops.f1_score(a, b, task="multiclass", num_classes=K,
                                             average="macro", ignore_index=-1))
    np.testing.assert_allclose(
        f1(p, t), xpops.f1_score(preds, target, task="multiclass", num_classes=K,
                                 average="macro", ignore_index=-1), rtol=1e-6)
    # values cannot be checked under jit: out-of-range labels are dropped, not miscounted
    bad = jnp.asarray(np.array([0, 1, 7, -3]))
    np.testing.assert_array_equal(
        jax.jit(lambda a: xpops.confusion_matrix(a, a, num_classes=2))(bad),
        np.eye(2, dtype=np.int64))


def test_pure_fallback_counts_equal_native(rng):
    preds, target, _ = _case_with_ignore(rng)
    native = xpops.confusion_matrix(preds, target, num_classes=K, ignore_index=255)
    with natives_disabled():
        pure = xpops.confusion_matrix(preds, target, num_classes=K, ignore_index=255)
    np.testing.assert_array_equal(native, pure)


def test_docstring_examples():
    with np.errstate(all="ignore"):
        failures, tried = doctest.testmod(classification,
                                          optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0


# Regression: labels of a narrow integer dtype. uint8 segmentation-style labels with 21
# classes made ``target * K + preds`` wrap past 255 (a silently wrong confusion matrix on
# NumPy and torch); int8 labels crashed inside the backend's bincount.
NARROW_LABEL_DTYPES = ("uint8", "int8", "int16", "int32")


@pytest.mark.parametrize("dtype", NARROW_LABEL_DTYPES)
def test_narrow_integer_labels_count_in_the_default_integer(backend, dtype):
    from sklearn.metrics import confusion_matrix as sk_confusion
    from sklearn.metrics import f1_score as sk_f1

    rng = np.random.default_rng(21)
    t = rng.integers(0, 21, 1000).astype(dtype)
    p = rng.integers(0, 21, 1000).astype(dtype)
    preds, target = backend.asarray(p), backend.asarray(t)
    cm = xpops.confusion_matrix(preds, target, num_classes=21)
    assert backend.dtype_name(cm) == backend.int_dtype
    np.testing.assert_array_equal(backend.to_numpy(cm), sk_confusion(t, p, labels=range(21)))
    stats = xpops.stat_scores(preds, target, task="multiclass", num_classes=21)
    np.testing.assert_array_equal(backend.to_numpy(stats)[:, 3], np.bincount(t, minlength=21))
    f1 = xpops.f1_score(preds, target, task="multiclass", num_classes=21, average="macro")
    assert float(backend.to_numpy(f1)) == pytest.approx(sk_f1(t, p, average="macro"), rel=1e-6)


def test_uint8_binary_target_beside_a_negative_ignore_index(backend):
    """torch compares a uint8 tensor with -100 as with 156: the comparison must happen in
    the default integer dtype, where 156 is a label to check, not an ignored one."""
    t = np.array([0, 1, 1, 156], dtype=np.uint8)
    p = np.array([0.2, 0.9, 0.1, 0.8], dtype=np.float32)
    with pytest.raises(ValueError, match="target"):
        xpops.stat_scores(backend.asarray(p), backend.asarray(t), task="binary",
                          ignore_index=-100)
    got = xpops.stat_scores(backend.asarray(p[:3]), backend.asarray(t[:3]), task="binary",
                            ignore_index=-100)
    np.testing.assert_array_equal(backend.to_numpy(got), [[1, 0, 1, 2]])
