"""Specs of ``interpolated_average_precision`` and ``average_precision_score``.

Porting notes (what the classic code does differently):

- py-faster-rcnn's ``voc_ap`` (copied by detectron2's ``pascal_voc_evaluation`` and
  many VOC ports) samples the 11 points at ``np.arange(0., 1.1, 0.1)``, whose fourth
  entry is 0.30000000000000004 and whose eighth is 0.7000000000000001: a curve that
  reaches recall exactly 0.3 or 0.7 (0.6 is 0.6000000000000001 as well) there is read one
  point later than by the devkit's ``0:0.1:1``, which is exactly k/10. xpops uses k/10.
- its ``"all_points"`` area is the devkit's; xpops sums every point (a width-0 segment
  adds 0), the devkit only where recall changes: the same value up to rounding.
- pycocotools samples 101 points at ``np.linspace(0, 1, 101)`` (k * 0.01, so ten of them
  are one ulp above k/100: 0.35000000000000003, 0.7000000000000001, ...); ``"coco101"``
  uses those values, so a recall of exactly 0.35 does not reach the 0.35 point.
- scikit-learn's ``average_precision_score`` has no envelope and no interpolation; xpops
  follows it exactly, including 0 when there are no positives.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import impl
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported
from .curves import _curve_cases, _dense_ranks, _invalid

# --------------------------------------------------------------------------- oracles


def curve_ap_oracle(recall, precision, method="all_points"):
    """AP of one curve (1-D NumPy arrays), the benchmarks' loops written out."""
    rec = [float(r) for r in recall]
    prec = [float(p) for p in precision]
    if method == "all_points":  # VOCdevkit VOCap.m
        mrec, mpre = [0.0, *rec, 1.0], [0.0, *prec, 0.0]
        for i in range(len(mpre) - 2, -1, -1):
            mpre[i] = max(mpre[i], mpre[i + 1])
        return sum((mrec[i] - mrec[i - 1]) * mpre[i]
                   for i in range(1, len(mrec)) if mrec[i] != mrec[i - 1])
    if method == "voc11":  # VOCevaldet.m (VOC2007): for t = 0:0.1:1, exactly k/10
        ap = 0.0
        for k in range(11):
            reached = [p for r, p in zip(rec, prec, strict=True) if r >= k / 10]
            ap += (max(reached) if reached else 0.0) / 11
        return ap
    # pycocotools COCOeval.accumulate, one (T, K, A, M) cell
    env = list(prec)
    for i in range(len(env) - 1, 0, -1):
        if env[i] > env[i - 1]:
            env[i - 1] = env[i]
    thresholds = np.linspace(0.0, 1.0, 101)
    inds = np.searchsorted(np.asarray(rec, dtype=np.float64), thresholds, side="left")
    return float(np.mean([env[i] if i < len(env) else 0.0 for i in inds]))


def interpolated_average_precision_oracle(recall, precision, method="all_points"):
    r = np.asarray(recall, dtype=np.float64)
    p = np.asarray(precision, dtype=np.float64)
    out = np.zeros(r.shape[:-1])
    for idx in np.ndindex(*r.shape[:-1]):
        out[idx] = curve_ap_oracle(r[idx], p[idx], method)
    return out


def average_precision_score_oracle(scores, target):
    """scikit-learn's definition: sum over thresholds, descending, of (R_t - R_prev) P_t."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    t = np.asarray(target).reshape(-1) != 0
    positives = int(t.sum())
    if positives == 0:
        return np.float64(0.0)
    ap, previous_recall = 0.0, 0.0
    for threshold in np.unique(s)[::-1]:
        predicted = s >= threshold
        tp = int(np.sum(predicted & t))
        recall = tp / positives
        ap += (recall - previous_recall) * (tp / int(predicted.sum()))
        previous_recall = recall
    return np.float64(ap)


# ------------------------------------------------------------------------ strategies

# positive counts coprime to 10: recalls i/n then never equal k/10 or k/100 (except 0
# and 1), so float32 rounding cannot move a recall across a sampled point; the exact
# boundaries are named cases (in float64, tests/test_average_precision.py)
_COPRIME = (1, 3, 7, 9, 11, 13, 17, 19, 21, 23, 27, 29, 31, 33, 37, 39, 41, 43)
_METHODS = st.sampled_from(["all_points", "voc11", "coco101"])


@st.composite
def _curves(draw: Any) -> Case:
    batch = draw(st.sampled_from([(), (), (3,), (2, 2)]))
    n = draw(st.one_of(st.integers(0, 8), st.integers(17, 40)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (*batch, n)
    if draw(st.booleans()):  # a detector's curve: hits in rank order
        hits = rng.random(shape) < draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
        tp = np.cumsum(hits, axis=-1)
        total = int(tp[..., -1].max()) if n else 0
        npos = min(c for c in _COPRIME if c >= max(total, 1))
        recall = tp / npos
        precision = tp / np.arange(1, n + 1)
    else:  # any curve: sorted recalls (repeats; never a sampled point but 0 and 1)
        recall = np.sort(rng.choice(np.array([0.0, 0.0625, 0.1875, 0.3125, 0.6875, 0.8125, 1.0]),
                                    size=shape) if draw(st.booleans())
                         else rng.random(shape), axis=-1)
        precision = rng.choice(np.array([0.0, 0.2, 0.5, 1.0]), size=shape) \
            if draw(st.booleans()) else rng.random(shape)
    return Case((recall, precision), {"method": draw(_METHODS)})


# ------------------------------------------------------------------------ properties


def _envelope_idempotent(run, case):
    """Replacing precision by its envelope changes no AP."""
    recall, precision = case.args
    envelope = np.flip(np.maximum.accumulate(np.flip(precision, -1), axis=-1), -1)
    return [(run(case.with_args(recall, envelope)), run(case))]


def _zero_tail(run, case):
    """A point at the last recall with precision 0 (curve padding) adds nothing."""
    recall, precision = case.args
    last = recall[..., -1:] if recall.shape[-1] else np.zeros((*recall.shape[:-1], 1))
    padded = case.with_args(np.concatenate((recall, last), -1),
                            np.concatenate((precision, np.zeros_like(last)), -1))
    return [(run(padded), run(case))]


def _rows_independent(run, case):
    """A batch of curves gives each curve's AP."""
    recall, precision = case.args
    flipped = precision[..., ::-1].copy()
    batched = run(case.with_args(np.stack((recall, recall)), np.stack((precision, flipped))))
    flipped_ap = run(case.with_args(recall, flipped))
    return [(batched[0], run(case)), (batched[1], flipped_ap)]


def _score_permutation(run, case):
    """Reordering samples (scores and target alike) changes nothing."""
    scores, target = case.args
    perm = np.random.default_rng(scores.size).permutation(scores.size)
    return [(run(case.with_args(scores.reshape(-1)[perm], target.reshape(-1)[perm])),
             run(case))]


def _score_increasing_transform(run, case):
    """Only the order of the scores matters: their dense ranks give the same AP."""
    scores, target = case.args
    ap = run(case)
    _, ranks = _dense_ranks(scores, ap.dtype)
    return [(run(case.with_args(ranks, target)), ap)]


# --------------------------------------------------------------------------- natives


def voc_ap(rec, prec, use_07_metric=False):
    """py-faster-rcnn's ``voc_ap`` (lib/datasets/voc_eval.py), verbatim in substance."""
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    changed = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[changed + 1] - mrec[changed]) * mpre[changed + 1])


def _py_faster_rcnn_voc_ap():
    def native(recall, precision, /, *, method="all_points"):
        if method == "coco101":
            raise Unsupported("voc_ap has no 101-point rule")
        r, p = np.asarray(recall), np.asarray(precision)
        if r.ndim != 1:
            raise Unsupported("voc_ap takes one curve")
        return np.asarray(voc_ap(r, p, use_07_metric=method == "voc11"), np.float64)

    return native


def _sklearn_ap():
    from sklearn.metrics import average_precision_score

    def native(scores, target, /):
        t = np.asarray(target).reshape(-1)
        ap = average_precision_score(t != 0, np.asarray(scores).reshape(-1))
        return np.asarray(ap, np.float64)  # a 0-d array, not a NumPy scalar

    return native


# ----------------------------------------------------------------------------- specs

_R = np.array([0.25, 0.25, 0.5, 0.75])
_P = np.array([1.0, 0.5, 2 / 3, 0.6])
_CURVE_EDGE_CASES = (
    *(Case((_R, _P), {"method": m}, name=f"doc example, {m}")
      for m in ("all_points", "voc11", "coco101")),
    *(Case((np.zeros(0), np.zeros(0)), {"method": m}, name=f"empty curve, {m}")
      for m in ("all_points", "voc11", "coco101")),
    Case((np.array([0.1, 0.3, 0.6]), np.array([0.5, 1 / 3, 0.4])), {"method": "voc11"},
         name="recall exactly 0.3 and 0.6 (np.arange reads 0.30000000000000004)"),
    Case((np.array([0.1, 0.3, 0.6]), np.array([0.5, 1 / 3, 0.4])),
         {"method": "all_points"}, name="rising precision: the envelope"),
    Case((np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.5])), {"method": "coco101"},
         name="recall 0 and 1 exactly"),
    Case((np.full((2, 3, 5), 1.0), np.full((2, 3, 5), 1.0)), {"method": "voc11"},
         name="batched perfect curves"),
    Case((np.array([[0.2, 0.4], [0.5, 0.5]]), np.array([[1.0, 0.5], [0.0, 0.0]])),
         {"method": "all_points"}, name="batch with a zero-precision curve"),
)

_S = np.array([0.1, 0.4, 0.35, 0.8])
_T = np.array([0, 0, 1, 1])


def _drop_beta(case: Case) -> Case:
    return Case(case.args, name=case.name)


INTERPOLATED_AVERAGE_PRECISION = OpSpec(
    name="interpolated_average_precision",
    family="average_precision",
    impl=impl.average_precision.interpolated_average_precision,
    oracle=interpolated_average_precision_oracle,
    cases=_curves,
    signature='interpolated_average_precision(recall, precision, /, *, method="all_points")',
    doc=(
        "recall and precision (..., N), one curve per leading index in rank order (recall "
        "non-decreasing, both in [0, 1]; otherwise ValueError where values are concrete). "
        "Envelope env_i = max_{j >= i} p_j. all_points (VOC 2010+ devkit VOCap): "
        "sum_i (r_i - r_{i-1}) env_i, r_0 = 0. voc11 (VOC 2007): mean over t = k/10, "
        "k = 0..10, of max{p_i : r_i >= t} (0 if none), t exactly k/10 in the curve's "
        "dtype, NOT np.arange(0, 1.1, 0.1) (0.30000000000000004, 0.6000000000000001, "
        "0.7000000000000001), which py-faster-rcnn's voc_ap uses: curves reaching recall "
        "exactly 0.3, 0.6 or 0.7 differ there. coco101 (pycocotools): mean over the 101 "
        "thresholds np.linspace(0, 1, 101) of env at searchsorted(recall, t, 'left'), 0 "
        "past the end. Empty curves give 0. Output (...) in the inputs' common float "
        "dtype; jit-able."
    ),
    edge_cases=_CURVE_EDGE_CASES,
    invalid_cases=(
        InvalidCase("decreasing recall", Case((np.array([0.5, 0.2]), np.array([1.0, 1.0]))),
                    ValueError, "recall", needs_values=True),
        InvalidCase("recall above 1", Case((np.array([0.5, 1.5]), np.array([1.0, 1.0]))),
                    ValueError, "recall", needs_values=True),
        InvalidCase("negative precision", Case((_R, -_P)), ValueError, "precision",
                    needs_values=True),
        InvalidCase("NaN precision", Case((_R, np.array([1.0, np.nan, 0.5, 0.5]))),
                    ValueError, "precision", needs_values=True),
        InvalidCase("shape mismatch", Case((_R, _P[:3])), ValueError, "precision"),
        InvalidCase("0-d recall", Case((np.array(0.5), np.array(0.5))), ValueError, "recall"),
        InvalidCase("integer recall", Case((np.array([0, 1]), np.array([1.0, 0.5]))),
                    TypeError, "recall"),
        InvalidCase("unknown method", Case((_R, _P), {"method": "voc12"}), ValueError,
                    "method"),
    ),
    properties=(
        Property("envelope is idempotent", _envelope_idempotent),
        Property("a zero-precision tail point adds nothing", _zero_tail),
        Property("batched curves are independent", _rows_independent),
    ),
    natives=(
        Native("numpy", "py-faster-rcnn voc_ap", _py_faster_rcnn_voc_ap,
               "use_07_metric samples np.arange(0, 1.1, 0.1): 0.3, 0.6 and 0.7 are "
               "0.30000000000000004, ...; one curve at a time; no 101-point rule"),
    ),
    capabilities=Capabilities(jit=True, differentiable=False, lazy=False),
)

AVERAGE_PRECISION_SCORE = OpSpec(
    name="average_precision_score",
    family="average_precision",
    impl=impl.average_precision.average_precision_score,
    oracle=average_precision_score_oracle,
    cases=lambda: _curve_cases(min_size=1).map(_drop_beta),
    signature="average_precision_score(scores, target, /)",
    doc=(
        "scikit-learn's step-wise AP of a binary score: AP = sum over thresholds t (each "
        "distinct score, predicting score >= t), descending, of (R_t - R_t') P_t, t' the "
        "next higher threshold, R = 0 above the highest. No envelope, no interpolation; "
        "tied scores are one threshold, so their order never matters. Without positives "
        "AP is 0 (sklearn sets recall to 1 and warns). Inputs of any matching shape are "
        "flattened; target bool, integer or 0/1 floats; NaN scores and empty inputs raise "
        "ValueError. Output 0-d in the dtype of scores; jit-able."
    ),
    edge_cases=(
        Case((_S, _T), name="doc example 0.8333"),
        Case((np.array([0.3, 0.3, 0.1]), np.array([1, 1, 0])), name="tie at the top"),
        Case((np.array([0.5, 0.5, 0.5, 0.5]), np.array([1, 0, 0, 1])),
             name="all tied: AP = prevalence"),
        Case((np.array([0.3, 0.2, 0.1]), np.array([0, 0, 0])), name="no positives: 0"),
        Case((np.array([0.3, 0.2, 0.1]), np.array([1, 1, 1])), name="all positive: 1"),
        Case((np.array([0.7]), np.array([True])), name="one sample"),
        Case((np.array([-np.inf, 0.0, np.inf, np.inf, 2.0]), np.array([0, 1, 1, 0, 1])),
             name="infinite scores"),
        Case((np.arange(12.0).reshape(3, 4) % 5, (np.arange(12).reshape(3, 4) % 2) * 1.0),
             name="2-D inputs are flattened"),
    ),
    invalid_cases=tuple(
        InvalidCase(c.name, _drop_beta(c.case), c.raises, c.match, c.needs_values)
        for c in _invalid("best_fbeta_threshold") if "beta" not in c.name
    ),
    properties=(
        Property("permutation invariance", _score_permutation),
        Property("strictly increasing transform of scores", _score_increasing_transform),
    ),
    natives=(
        Native("sklearn", "sklearn.metrics.average_precision_score", _sklearn_ap,
               "(y_true, y_score) order; warns without positives"),
    ),
    capabilities=Capabilities(jit=True, differentiable=False, lazy=False),
)

SPECS = (INTERPOLATED_AVERAGE_PRECISION, AVERAGE_PRECISION_SCORE)
