"""Specs of the threshold curves: ``fbeta_curve`` and ``best_fbeta_threshold``."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import impl
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property

# --------------------------------------------------------------------------- oracles


def _points(scores, target, beta):
    """(threshold, precision, recall, F-beta) at each distinct score, ascending."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    t = np.asarray(target).reshape(-1) != 0
    positives = int(t.sum())
    b2 = float(beta) ** 2
    points = []
    for threshold in np.unique(s):
        predicted = s >= threshold
        tp = int(np.sum(predicted & t))
        fp = int(np.sum(predicted & ~t))
        fn = positives - tp
        precision = tp / (tp + fp)
        recall = tp / positives if positives else 1.0  # scikit-learn's convention
        fbeta = (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp)
        points.append((threshold, precision, recall, fbeta))
    return points


def fbeta_curve_oracle(scores, target, beta=1.0):
    points = _points(scores, target, beta)
    if not points:
        return tuple(np.zeros(0) for _ in range(4))
    return tuple(np.array(column, dtype=np.float64) for column in zip(*points, strict=True))


def best_fbeta_threshold_oracle(scores, target, beta=1.0):
    """The maximum F-beta over the curve; ties go to the highest threshold."""
    best_threshold, best_f = np.nan, -1.0
    for threshold, _, _, fbeta in reversed(_points(scores, target, beta)):
        if fbeta > best_f:
            best_threshold, best_f = threshold, fbeta
    return np.float64(best_threshold), np.float64(best_f)


# ------------------------------------------------------------------------ strategies

# dyadic betas: (1 + beta^2) tp and k + beta^2 P are exact, so F is one correctly
# rounded division and equal F (ties) are equal floats in every dtype
_BETAS = st.sampled_from([1.0, 0.5, 2.0, 0.25])


@st.composite
def _curve_cases(draw: Any, *, min_size: int = 0) -> Case:
    n = draw(st.one_of(st.integers(min_size, 8), st.integers(17, 120)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["continuous", "few levels", "constant", "extremes"]))
    if kind == "continuous":
        scores = rng.random(n)
    elif kind == "few levels":  # heavy ties
        levels = draw(st.integers(1, 6))
        scores = rng.integers(0, levels, size=n) / levels
    elif kind == "constant":
        scores = np.full(n, draw(st.sampled_from([0.0, 0.5, -3.0])))
    else:
        scores = rng.choice(np.array([-np.inf, -1e4, 0.0, 0.25, 1e4, np.inf]), size=n)
    rate = draw(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
    labels = rng.random(n) < rate
    target: np.ndarray = draw(st.sampled_from([
        labels, labels.astype(np.int64), labels.astype(np.float64),
    ]))
    if n and n % 4 == 0 and draw(st.booleans()):  # any shape: flattened
        scores, target = scores.reshape(4, -1), target.reshape(4, -1)
    return Case((scores, target), {"beta": draw(_BETAS)})


# ------------------------------------------------------------------------ properties


def _dense_ranks(scores: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """The distinct scores as ``dtype`` rounds them, and each score's rank among them."""
    distinct, ranks = np.unique(scores.astype(dtype), return_inverse=True)
    return distinct, ranks.reshape(scores.shape).astype(np.float64)


def _increasing_transform_curve(run, case):
    """A strictly increasing map of the scores (here: their ranks) moves only thresholds."""
    scores, target = case.args
    thresholds, precision, recall, fbeta = run(case)
    distinct, ranks = _dense_ranks(scores, thresholds.dtype)
    t2, p2, r2, f2 = run(case.with_args(ranks, target))
    return [(t2, np.searchsorted(distinct, thresholds)), (p2, precision), (r2, recall),
            (f2, fbeta)]


def _increasing_transform_best(run, case):
    scores, target = case.args
    threshold, fbeta = run(case)
    distinct, ranks = _dense_ranks(scores, threshold.dtype)
    t2, f2 = run(case.with_args(ranks, target))
    return [(t2, np.searchsorted(distinct, threshold)), (f2, fbeta)]


def _permutation_invariance(run, case):
    """Reordering samples (scores and target alike) changes nothing."""
    scores, target = case.args
    perm = np.random.default_rng(scores.size).permutation(scores.size)
    permuted = case.with_args(
        scores.reshape(-1)[perm].reshape(scores.shape), target.reshape(-1)[perm].reshape(
            target.shape)
    )
    got, want = run(permuted), run(case)
    return list(zip(got, want, strict=True))


def _beta_one_is_harmonic_mean(run, case):
    """F1 = 2 P R / (P + R) at every point of the curve (0 where P + R = 0)."""
    _, precision, recall, _ = run(case)
    _, _, _, f1 = run(case.with_args(*case.args, beta=1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        harmonic = np.where(precision + recall > 0,
                            2 * precision * recall / (precision + recall), 0.0)
    return [(f1, harmonic)]


# --------------------------------------------------------------------------- natives


def _sklearn_curve():
    from sklearn.metrics import precision_recall_curve

    def native(scores, target, /, *, beta=1.0):
        s, t = np.asarray(scores).reshape(-1), np.asarray(target).reshape(-1)
        precision, recall, thresholds = precision_recall_curve(t, s)
        precision, recall = precision[:-1], recall[:-1]  # drop the (1, 0) end point
        b2 = beta * beta
        with np.errstate(invalid="ignore", divide="ignore"):
            f = (1 + b2) * precision * recall / (b2 * precision + recall)
        return thresholds, precision, recall, np.nan_to_num(f, nan=0.0)

    return native


def _sklearn_best():
    curve = _sklearn_curve()

    def native(scores, target, /, *, beta=1.0):
        thresholds, _, _, f = curve(scores, target, beta=beta)
        i = int(np.argmax(f))  # the lowest threshold among ties
        return np.asarray(thresholds[i]), np.asarray(f[i])  # 0-d arrays, not NumPy scalars

    return native


# ----------------------------------------------------------------------------- specs

_EXAMPLE = Case(
    (np.array([0.6, 0.5, 0.7, 0.2, 0.1, 0.3, 0.4, 0.12, 0.64, 0.8, 0.9]),
     np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])),
    name="issue example: best F1 8/13 at 0.2",
)
_F_TIE = Case((np.array([0.9, 0.7, 0.6, 0.1]), np.array([1, 0, 0, 1])),
              name="F1 tie 2/3 at 0.9 and 0.1: the highest threshold wins")
_EDGE_CASES = (
    _EXAMPLE,
    _F_TIE,
    Case((np.array([0.3, 0.8, 0.8, 0.1]), np.array([0, 0, 0, 0])),
         name="no positives: F 0, recall 1"),
    Case((np.array([0.3, 0.8, 0.8, 0.1]), np.array([1, 1, 1, 1])), name="all positive"),
    Case((np.full(20, 0.5), (np.arange(20) % 3 == 0).astype(np.int64)),
         name="all scores tied: one point"),
    Case((np.array([0.7]), np.array([1])), name="one sample"),
    Case((np.array([-np.inf, 0.0, np.inf, np.inf, 2.0]), np.array([0, 1, 1, 0, 1])),
         name="infinite scores"),
    Case((np.array([0.2, 0.9, 0.4, 0.6, 0.6]), np.array([True, False, True, True, False])),
         {"beta": 2.0}, name="beta 2, bool target"),
    Case(_EXAMPLE.args, {"beta": 0.3}, name="non-dyadic beta"),
    Case((np.arange(12.0).reshape(3, 4) % 5, (np.arange(12).reshape(3, 4) % 2).astype(float)),
         name="2-D inputs are flattened"),
)
_S = np.array([0.1, 0.4, 0.35, 0.8])
_T = np.array([0, 0, 1, 1])


def _invalid(op_name: str) -> tuple[InvalidCase, ...]:
    cases: tuple[InvalidCase, ...] = (
        InvalidCase("NaN score", Case((np.array([0.1, np.nan, 0.3]), np.array([0, 1, 1]))),
                    ValueError, "scores", needs_values=True),
        InvalidCase("target not binary", Case((_S, np.array([0, 2, 1, 1]))), ValueError,
                    "target", needs_values=True),
        InvalidCase("negative target", Case((_S, np.array([0, -1, 1, 1]))), ValueError,
                    "target", needs_values=True),
        InvalidCase("fractional target", Case((_S, np.array([0.0, 0.5, 1.0, 1.0]))),
                    ValueError, "target", needs_values=True),
        InvalidCase("shape mismatch", Case((_S, np.array([0, 1, 1]))), ValueError, "target"),
        InvalidCase("integer scores", Case((np.array([1, 2, 3, 4]), _T)), TypeError, "scores"),
        InvalidCase("beta zero", Case((_S, _T), {"beta": 0.0}), ValueError, "beta"),
        InvalidCase("beta negative", Case((_S, _T), {"beta": -1.0}), ValueError, "beta"),
        InvalidCase("beta infinite", Case((_S, _T), {"beta": float("inf")}), ValueError,
                    "beta"),
        InvalidCase("beta not a number", Case((_S, _T), {"beta": "1"}), TypeError, "beta"),
    )
    if op_name == "best_fbeta_threshold":
        cases += (InvalidCase("empty", Case((np.zeros(0), np.zeros(0, dtype=np.int64))),
                              ValueError, "scores"),)
    return cases


_SEMANTICS = (
    "A sample is predicted positive when score >= threshold. At each distinct score t: "
    "precision = tp / (tp + fp), recall = tp / P (1 for every threshold when P = 0, as "
    "scikit-learn), F_beta = (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp), 0 wherever "
    "tp = 0 (never NaN). Tied scores form one point (sklearn precision_recall_curve). "
    "Inputs of any matching shape are flattened; target is bool, integer or 0/1 "
    "floats; NaN scores raise (when values are concrete). "
)

FBETA_CURVE = OpSpec(
    name="fbeta_curve",
    family="curves",
    impl=impl.curves.fbeta_curve,
    oracle=fbeta_curve_oracle,
    cases=_curve_cases,
    signature="fbeta_curve(scores, target, /, *, beta=1.0)",
    doc=_SEMANTICS + (
        "Returns (thresholds, precision, recall, fbeta), thresholds ascending, all of one "
        "length (the number of distinct scores; empty input gives empty arrays). Unlike "
        "sklearn, no end point (precision 1, recall 0) is appended. Data-dependent length: "
        "eager only."
    ),
    edge_cases=(*_EDGE_CASES, Case((np.zeros(0), np.zeros(0, dtype=np.int64)), name="empty")),
    invalid_cases=_invalid("fbeta_curve"),
    properties=(
        Property("strictly increasing transform of scores", _increasing_transform_curve),
        Property("permutation invariance", _permutation_invariance),
        Property("F1 = harmonic mean of precision and recall", _beta_one_is_harmonic_mean),
    ),
    natives=(
        Native("sklearn", "sklearn.metrics.precision_recall_curve", _sklearn_curve,
               "(y_true, y_score) order; appends precision 1, recall 0 without a threshold "
               "(dropped by the adapter); F computed from precision and recall"),
    ),
    capabilities=Capabilities(
        jit=False, differentiable=False, data_dependent_shape=True, lazy=False
    ),
)

BEST_FBETA_THRESHOLD = OpSpec(
    name="best_fbeta_threshold",
    family="curves",
    impl=impl.curves.best_fbeta_threshold,
    oracle=best_fbeta_threshold_oracle,
    cases=lambda: _curve_cases(min_size=1),
    signature="best_fbeta_threshold(scores, target, /, *, beta=1.0)",
    doc=_SEMANTICS + (
        "Returns (threshold, fbeta) as 0-d arrays: the maximum F-beta over fbeta_curve and "
        "its threshold; ties go to the highest threshold (thresholds[np.argmax(f)] over "
        "sklearn's curve takes the lowest). No positives: (max(scores), 0). Empty input "
        "raises. O(n log n): sort, cumulative sums, mask non-final positions of tied runs, "
        "argmax; fixed output shape, jit-able."
    ),
    edge_cases=_EDGE_CASES,
    invalid_cases=_invalid("best_fbeta_threshold"),
    properties=(
        Property("strictly increasing transform of scores", _increasing_transform_best),
        Property("permutation invariance", _permutation_invariance),
    ),
    natives=(
        Native("sklearn", "sklearn.metrics.precision_recall_curve + argmax", _sklearn_best,
               "np.argmax over the ascending curve: ties go to the lowest threshold"),
    ),
    capabilities=Capabilities(jit=True, differentiable=False, lazy=False),
)

SPECS = (FBETA_CURVE, BEST_FBETA_THRESHOLD)
