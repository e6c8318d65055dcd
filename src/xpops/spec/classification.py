"""Specs of the classification statistics: confusion matrix, stat scores, the F-beta family.

The oracles count one sample at a time from the definitions; scikit-learn
(``confusion_matrix``, ``precision_recall_fscore_support`` with
``labels=range(num_classes)``) is the native counterpart and the tests' second reference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import impl
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported

# --------------------------------------------------------------------------- oracles


def confusion_matrix_oracle(preds, target, num_classes, ignore_index=None):
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    for p, t in zip(np.ravel(preds), np.ravel(target), strict=True):
        if ignore_index is not None and t == ignore_index:
            continue
        cm[t, p] += 1
    return cm


def _labels(preds, target, task, num_classes, threshold, ignore_index):
    """(pred, target, kept) per sample: class indices for multiclass, 0/1 per label rows
    for binary (one label) and multilabel (L labels)."""
    preds, target = np.asarray(preds), np.asarray(target)
    if task == "multiclass":
        if preds.dtype.kind == "f" and preds.ndim == target.ndim + 1:
            preds = np.argmax(preds, axis=-1)
        return preds.ravel(), target.ravel(), None
    labels = 1 if task == "binary" else target.shape[-1]
    positive = preds >= threshold if preds.dtype.kind == "f" else preds == 1
    kept = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
    return (positive.reshape(-1, labels), (target == 1).reshape(-1, labels),
            kept.reshape(-1, labels))


def stat_scores_oracle(preds, target, task, num_classes=None, threshold=0.5,
                       ignore_index=None):
    """tp, fp, fn, support per class, counted one sample at a time."""
    p, t, kept = _labels(preds, target, task, num_classes, threshold, ignore_index)
    if task == "multiclass":
        k = num_classes if num_classes is not None else np.asarray(preds).shape[-1]
        stats = np.zeros((k, 4), dtype=np.int64)
        for pi, ti in zip(p, t, strict=True):
            if ignore_index is not None and ti == ignore_index:
                continue
            stats[ti, 3] += 1
            if pi == ti:
                stats[ti, 0] += 1
            else:
                stats[pi, 1] += 1
                stats[ti, 2] += 1
        return stats
    stats = np.zeros((p.shape[1], 4), dtype=np.int64)
    for row_p, row_t, row_k in zip(p, t, kept, strict=True):
        for c in range(p.shape[1]):
            if not row_k[c]:
                continue
            stats[c] += [row_p[c] and row_t[c], row_p[c] and not row_t[c],
                         row_t[c] and not row_p[c], row_t[c]]
    return stats


def _ratio(num: float, den: float, zero_division: float) -> float:
    return zero_division if den == 0 else num / den


def _scores(tp, fp, fn, beta, zero_division):
    """Precision, recall, F-beta of one set of counts (scikit-learn's zero-division rule)."""
    b2 = beta * beta
    return (
        _ratio(tp, tp + fp, zero_division),
        _ratio(tp, tp + fn, zero_division),
        _ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp, zero_division),
    )


def _nanmean(values) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


def fbeta_from_stats_oracle(stats, beta=1.0, average="binary", zero_division=0.0):
    stats = np.asarray(stats, dtype=np.int64)
    if average == "micro":
        tp, fp, fn, _ = stats.sum(axis=0)
        return tuple(np.float64(s) for s in _scores(tp, fp, fn, beta, zero_division))
    per_class = [_scores(tp, fp, fn, beta, zero_division) for tp, fp, fn, _ in stats]
    columns = [np.array(c, dtype=np.float64) for c in zip(*per_class, strict=True)]
    if average == "binary":
        return tuple(np.float64(c[0]) for c in columns)
    if average is None:
        return tuple(columns)
    if average == "macro":
        return tuple(np.float64(_nanmean(c)) for c in columns)
    support = stats[:, 3].astype(np.float64)
    out = []
    for c in columns:  # weighted: NaN left out; all weights 0 -> plain mean
        kept = ~np.isnan(c)
        w = support[kept]
        out.append(np.float64(np.sum(w * c[kept]) / w.sum()) if w.sum() > 0
                   else np.float64(_nanmean(c)))
    return tuple(out)


def precision_recall_fbeta_oracle(preds, target, beta=1.0, task="binary", num_classes=None,
                                  threshold=0.5, average="binary", zero_division=0.0,
                                  ignore_index=None):
    if average == "samples":
        p, t, kept = _labels(preds, target, task, num_classes, threshold, ignore_index)
        per_sample = []
        for row_p, row_t, row_k in zip(p, t, kept, strict=True):
            tp = int(np.sum(row_p & row_t & row_k))
            fp = int(np.sum(row_p & ~row_t & row_k))
            fn = int(np.sum(~row_p & row_t & row_k))
            per_sample.append(_scores(tp, fp, fn, beta, zero_division))
        if not per_sample:
            return (np.float64(np.nan),) * 3
        return tuple(np.float64(_nanmean(c)) for c in zip(*per_sample, strict=True))
    stats = stat_scores_oracle(preds, target, task, num_classes, threshold, ignore_index)
    return fbeta_from_stats_oracle(stats, beta, average, zero_division)


def fbeta_score_oracle(preds, target, **kwargs):
    return precision_recall_fbeta_oracle(preds, target, **kwargs)[2]


def f1_score_oracle(preds, target, **kwargs):
    return precision_recall_fbeta_oracle(preds, target, beta=1.0, **kwargs)[2]


# ------------------------------------------------------------------------ strategies

# dyadic betas and thresholds: exact in every float dtype, so no case sits on a rounding edge
_BETAS = st.sampled_from([1.0, 0.5, 2.0, 0.25])
_THRESHOLDS = st.sampled_from([0.5, 0.25, 0.75, 0.0])
_ZERO_DIVISION = st.sampled_from([0.0, 1.0, math.nan])
_SIZES = st.one_of(st.integers(0, 8), st.integers(17, 60))


def _rng(draw: Any) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def _scores_array(draw: Any, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Scores in [0, 1]; 'quarters' puts many exactly on the thresholds (ties)."""
    if draw(st.booleans()):
        return rng.random(shape)
    return rng.integers(0, 5, size=shape) / 4.0


@st.composite
def _task_inputs(draw: Any, *, task: str | None = None) -> Case:
    """(preds, target) and the task options shared by stat_scores and the F-beta ops."""
    task = task or draw(st.sampled_from(["binary", "multiclass", "multilabel"]))
    rng = _rng(draw)
    n = draw(_SIZES)
    kwargs: dict[str, Any] = {"task": task}
    ignore = draw(st.sampled_from([None, -1, 255, 0]))
    if task == "multiclass":
        k = draw(st.one_of(st.integers(1, 5), st.integers(17, 24)))
        # skewed labels leave some classes absent from both sides
        target = rng.integers(0, max(1, k - draw(st.integers(0, 2))), size=n)
        if draw(st.booleans()):
            preds: np.ndarray = _scores_array(draw, rng, (n, k))
            if draw(st.booleans()):
                kwargs["num_classes"] = k
        else:
            preds = np.where(rng.random(n) < draw(st.sampled_from([0.0, 0.5, 0.9])),
                             target, rng.integers(0, k, size=n))
            kwargs["num_classes"] = k
    else:
        shape = (n,) if task == "binary" else (n, draw(st.integers(1, 6)))
        rate = draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
        target = (rng.random(shape) < rate).astype(np.int64)
        if draw(st.booleans()):
            preds = _scores_array(draw, rng, shape)
            kwargs["threshold"] = draw(_THRESHOLDS)
        else:
            preds = (rng.random(shape) < draw(st.sampled_from([0.0, 0.5, 1.0]))).astype(np.int64)
            if ignore == 0:
                ignore = None  # 0 is a label here; ignoring it is legal but rarely wanted
        if task == "multilabel" and draw(st.booleans()):
            kwargs["num_classes"] = shape[-1]
    if ignore is not None and target.size:
        if ignore != 0:
            target = np.where(rng.random(target.shape) < 0.2, ignore, target)
        kwargs["ignore_index"] = ignore
    return Case((preds, target), kwargs)


@st.composite
def _stat_scores_cases(draw: Any) -> Case:
    return draw(_task_inputs())


@st.composite
def _fbeta_cases(draw: Any, *, with_beta: bool = True) -> Case:
    case = draw(_task_inputs())
    task = case.kwargs["task"]
    averages: list[Any] = {
        "binary": ["binary", "micro", "macro", "weighted", None],
        "multiclass": ["micro", "macro", "weighted", None],
        "multilabel": ["micro", "macro", "weighted", "samples", None],
    }[task]
    kwargs = {"average": draw(st.sampled_from(averages)), "zero_division": draw(_ZERO_DIVISION)}
    if with_beta:
        kwargs["beta"] = draw(_BETAS)
    return case.with_args(*case.args, **kwargs)


@st.composite
def _confusion_cases(draw: Any) -> Case:
    rng = _rng(draw)
    k = draw(st.one_of(st.integers(1, 5), st.integers(17, 30)))
    shape = draw(st.sampled_from([(draw(_SIZES),), (draw(st.integers(0, 4)), 17)]))
    target = rng.integers(0, k, size=shape)
    preds = np.where(rng.random(shape) < 0.5, target, rng.integers(0, k, size=shape))
    kwargs: dict[str, Any] = {"num_classes": k}
    ignore = draw(st.sampled_from([None, 255, -1, 0]))
    if ignore is not None:
        if ignore != 0:
            target = np.where(rng.random(shape) < 0.25, ignore, target)
            preds = np.where((target == ignore) & (rng.random(shape) < 0.5), ignore, preds)
        kwargs["ignore_index"] = ignore
    return Case((preds, target), kwargs)


@st.composite
def _stats_cases(draw: Any) -> Case:
    rng = _rng(draw)
    average = draw(st.sampled_from(["binary", "micro", "macro", "weighted", None]))
    k = 1 if average == "binary" else draw(st.one_of(st.integers(1, 5), st.integers(17, 24)))
    tp, fp, fn = (rng.integers(0, draw(st.sampled_from([1, 3, 50])), size=k)
                  for _ in range(3))
    stats = np.stack([tp, fp, fn, tp + fn], axis=1).astype(np.int64)
    return Case((stats,), {"beta": draw(_BETAS), "average": average,
                           "zero_division": draw(_ZERO_DIVISION)})


# ------------------------------------------------------------------------ properties


def _chunks_add_up(run, case):
    """Counts over two chunks of the samples sum to the counts over all of them."""
    preds, target = case.args
    if target.ndim == 0 or target.shape[0] < 2:
        return []
    cut = target.shape[0] // 3
    first = run(case.with_args(preds[:cut], target[:cut]))
    second = run(case.with_args(preds[cut:], target[cut:]))
    return [(first + second, run(case))]


def _sample_permutation(run, case):
    """Reordering the samples (axis 0 of both inputs) changes nothing."""
    preds, target = case.args
    if target.ndim == 0 or target.shape[0] < 2:
        return []
    order = np.random.default_rng(target.shape[0]).permutation(target.shape[0])
    got, want = run(case.with_args(preds[order], target[order])), run(case)
    return list(zip(got, want, strict=True)) if isinstance(want, tuple) else [(got, want)]


def _class_permutation(run, case):
    """Relabelling classes permutes per-class results and leaves averages unchanged."""
    (stats,) = case.args
    k = stats.shape[0]
    perm = np.roll(np.arange(k), 1)
    got, want = run(case.with_args(stats[perm])), run(case)
    if case.kwargs.get("average", "binary") is None:
        return [(g, w[perm]) for g, w in zip(got, want, strict=True)]
    return list(zip(got, want, strict=True))


def _f_is_harmonic_mean(run, case):
    """Where precision and recall are both non-zero, F = (1 + b^2) P R / (b^2 P + R)."""
    if case.kwargs.get("average", "binary") not in ("binary", "micro", None):
        return []
    p, r, f = (np.asarray(v, dtype=np.float64) for v in run(case))
    b2 = case.kwargs.get("beta", 1.0) ** 2
    ok = (p > 0) & (r > 0) & ~np.isnan(p) & ~np.isnan(r)
    with np.errstate(all="ignore"):
        want = np.where(ok, (1 + b2) * p * r / (b2 * p + r), f)
    return [(f, want)]


# --------------------------------------------------------------------------- natives


def _kept(target, ignore_index):
    return np.ones(np.shape(target), bool) if ignore_index is None else target != ignore_index


def _sklearn_confusion_matrix():
    from sklearn.metrics import confusion_matrix

    def native(preds, target, /, *, num_classes, ignore_index=None):
        preds, target = np.asarray(preds), np.asarray(target)
        if ignore_index is not None and preds.shape == target.shape:  # sklearn checks shapes
            keep = _kept(target, ignore_index)
            preds, target = preds[keep], target[keep]
        return confusion_matrix(target, preds, labels=np.arange(num_classes))

    return native


def _sklearn_stat_scores():
    from sklearn.metrics import multilabel_confusion_matrix

    def native(preds, target, /, *, task, num_classes=None, threshold=0.5, ignore_index=None):
        preds, target = np.asarray(preds), np.asarray(target)
        if ignore_index is not None and task != "multiclass":
            raise Unsupported("ignore_index per label")
        if num_classes is None and task == "multiclass" and preds.dtype.kind == "f":
            num_classes = preds.shape[-1]  # the score columns
        if preds.dtype.kind == "f":
            preds = (np.argmax(preds, axis=-1) if task == "multiclass"
                     else (preds >= threshold).astype(np.int64))
        keep = _kept(target, ignore_index)
        if task == "multiclass":
            preds, target = preds[keep], target[keep]
        # binary: the positive label only (sklearn reports a 0/1 column for both labels)
        labels = {"multiclass": np.arange(num_classes or 0), "binary": [1]}.get(task)
        mcm = multilabel_confusion_matrix(target.reshape(-1) if task == "binary" else target,
                                          preds.reshape(-1) if task == "binary" else preds,
                                          labels=labels)
        tp, fp, fn = mcm[:, 1, 1], mcm[:, 0, 1], mcm[:, 1, 0]
        return np.stack([tp, fp, fn, tp + fn], axis=1)

    return native


def _sklearn_prf(beta_fixed: float | None = None, which: int | None = None):
    def load():
        from sklearn import metrics

        # fbeta_score and f1_score by their own names; (P, R, F) from
        # precision_recall_fscore_support, whose first three results they are
        if which is None:
            def call(y_true, y_pred, beta, **kw):
                return metrics.precision_recall_fscore_support(y_true, y_pred, beta=beta,
                                                               **kw)[:3]
        elif beta_fixed is None:
            def call(y_true, y_pred, beta, **kw):
                return metrics.fbeta_score(y_true, y_pred, beta=beta, **kw)
        else:
            def call(y_true, y_pred, beta, **kw):
                return metrics.f1_score(y_true, y_pred, **kw)

        def native(preds, target, /, *, beta=1.0, task="binary", num_classes=None,
                   threshold=0.5, average="binary", zero_division=0.0, ignore_index=None):
            preds, target = np.asarray(preds), np.asarray(target)
            if ignore_index is not None and task != "multiclass":
                raise Unsupported("ignore_index per label")
            if task == "binary" and average not in ("binary",):
                raise Unsupported("sklearn averages a binary problem over both labels")
            if num_classes is None and task == "multiclass" and preds.dtype.kind == "f":
                num_classes = preds.shape[-1]  # the score columns
            if preds.dtype.kind == "f":
                preds = (np.argmax(preds, axis=-1) if task == "multiclass"
                         else (preds >= threshold).astype(np.int64))
            keep = _kept(target, ignore_index)
            labels = None
            if task == "multiclass":
                preds, target = preds[keep], target[keep]
                labels = np.arange(num_classes if num_classes is not None else preds.max() + 1)
            out = call(target, preds, beta if beta_fixed is None else beta_fixed,
                       labels=labels, average=average, zero_division=zero_division)
            # a Python float for an average: the same number as a 0-d array
            return tuple(map(np.asarray, out)) if which is None else np.asarray(out)

        return native

    return load


def _torchmetrics_task(preds, task, num_classes):
    """torchmetrics' task keywords: num_classes for multiclass, num_labels for multilabel."""
    if task == "multiclass":
        if num_classes is None and preds.is_floating_point():
            num_classes = preds.shape[-1]
        if num_classes is None:
            raise Unsupported("num_classes=None with multiclass labels")
        return {"num_classes": num_classes}
    if task == "multilabel":
        return {"num_labels": preds.shape[-1]}
    return {}


def _torchmetrics_confusion_matrix():
    from torchmetrics.functional import confusion_matrix

    def native(preds, target, /, *, num_classes, ignore_index=None):
        return confusion_matrix(preds, target, task="multiclass", num_classes=num_classes,
                                ignore_index=ignore_index)

    return native


def _torchmetrics_stat_scores():
    from torchmetrics.functional import stat_scores

    def native(preds, target, /, *, task, num_classes=None, threshold=0.5, ignore_index=None):
        out = stat_scores(preds, target, task=task, threshold=threshold, average="none",
                          ignore_index=ignore_index, **_torchmetrics_task(preds, task,
                                                                          num_classes))
        # columns tp, fp, tn, fn, support: ours are tp, fp, fn, support; binary is one row
        return out.reshape(-1, 5)[:, [0, 1, 3, 4]]

    return native


def _torchmetrics_fbeta(with_beta: bool):
    def load():
        from torchmetrics.functional import f1_score, fbeta_score

        def native(preds, target, /, *, beta=1.0, task="binary", num_classes=None,
                   threshold=0.5, average="binary", zero_division=0.0, ignore_index=None):
            if zero_division not in (0.0, 1.0):
                raise Unsupported(f"zero_division={zero_division} (0 or 1 only)")
            if task == "binary" and average != "binary":
                raise Unsupported(f"average={average!r} for the binary task")
            options = {
                "task": task, "threshold": threshold, "ignore_index": ignore_index,
                "zero_division": zero_division,
                "average": "none" if average is None else average,
                **_torchmetrics_task(preds, task, num_classes),
            }
            if with_beta:
                return fbeta_score(preds, target, beta=beta, **options)
            return f1_score(preds, target, **options)

        return native

    return load


def _sklearn_prf_from_stats():
    from sklearn.metrics import precision_recall_fscore_support

    def native(stats, /, *, beta=1.0, average="binary", zero_division=0.0):
        # sklearn takes labels: expand each class's (tp, fp, fn) into a column of a
        # multilabel indicator matrix (tn rows pad the columns to one length)
        stats = np.asarray(stats)
        if average == "samples":
            raise Unsupported("samples: sklearn needs per-sample labels")
        n = max(1, int(stats[:, :3].sum(axis=1).max(initial=0)))
        y_true = np.zeros((n, len(stats)), np.int64)
        y_pred = np.zeros((n, len(stats)), np.int64)
        for k, (tp, fp, fn) in enumerate(stats[:, :3].tolist()):
            y_pred[: tp + fp, k] = 1
            y_true[:tp, k] = 1
            y_true[tp + fp: tp + fp + fn, k] = 1
        if average == "binary":
            if len(stats) != 1:
                raise ValueError(f"average='binary' needs one row of stats, got {len(stats)}")
            y_true, y_pred = y_true[:, 0], y_pred[:, 0]
        out = precision_recall_fscore_support(
            y_true, y_pred, beta=beta, average=average, zero_division=zero_division,
        )[:3]
        return tuple(np.asarray(o) for o in out)

    return native


# ----------------------------------------------------------------------------- specs

_CAPS = Capabilities(jit=True, differentiable=False, data_dependent_shape=False, lazy=True)
_MC = np.array([0, 2, 1, 2, 0, 3])  # a 4-class target; class 4 of 5 is absent from both
_MC_PREDS = np.array([0, 1, 1, 2, 2, 3])

CONFUSION_MATRIX = OpSpec(
    name="confusion_matrix",
    family="classification",
    impl=impl.classification.confusion_matrix,
    oracle=confusion_matrix_oracle,
    cases=_confusion_cases,
    signature="confusion_matrix(preds, target, /, *, num_classes, ignore_index=None)",
    doc=(
        "C[i, j] = #{n : target_n = i, preds_n = j} over positions with target_n != "
        "ignore_index (rows = target, columns = prediction, scikit-learn's orientation); "
        "(K, K) in the default integer dtype. Labels outside [0, K) raise when values are "
        "concrete (preds is not checked at ignored positions); under jax.jit and on Dask "
        "they are dropped. scikit-learn: confusion_matrix(target, preds, "
        "labels=range(K)) after dropping ignored positions."
    ),
    edge_cases=(
        Case((np.zeros(0, np.int64), np.zeros(0, np.int64)), {"num_classes": 3},
             name="empty input: zeros"),
        Case((np.array([0, 1, 7]), np.array([255, 255, 255])),
             {"num_classes": 3, "ignore_index": 255}, name="all ignored: zeros"),
        Case((_MC_PREDS, _MC), {"num_classes": 5}, name="a class absent from both"),
        Case((np.array([[0, 1], [1, 1]]), np.array([[0, 0], [1, 0]])),
             {"num_classes": 2, "ignore_index": 0}, name="ignore_index is a class"),
        Case((np.array([2, 2, 2]), np.array([2, 2, 2])), {"num_classes": 3},
             name="one class only"),
    ),
    invalid_cases=(
        InvalidCase("shape mismatch", Case((np.zeros(3, np.int64), np.zeros(2, np.int64)),
                                           {"num_classes": 2}), ValueError, "target"),
        InvalidCase("target out of range", Case((np.array([0, 1]), np.array([0, 2])),
                                                {"num_classes": 2}),
                    ValueError, "target", needs_values=True),
        InvalidCase("negative preds", Case((np.array([0, -1]), np.array([0, 1])),
                                           {"num_classes": 2}),
                    ValueError, "preds", needs_values=True),
        # narrow dtypes: range checks run on the values, not on the wrapped sum
        InvalidCase("negative int8 target", Case((np.array([0, 1], np.int8),
                                                  np.array([0, -1], np.int8)),
                                                 {"num_classes": 2}),
                    ValueError, "target", needs_values=True),
        InvalidCase("uint8 preds past num_classes", Case((np.array([0, 200], np.uint8),
                                                          np.array([0, 1], np.uint8)),
                                                         {"num_classes": 21}),
                    ValueError, "preds", needs_values=True),
        InvalidCase("preds equal to ignore_index", Case((np.array([0, 255]), np.array([0, 1])),
                                                        {"num_classes": 2, "ignore_index": 255}),
                    ValueError, "preds", needs_values=True),
        InvalidCase("float labels", Case((np.array([0.0, 1.0]), np.array([0, 1])),
                                         {"num_classes": 2}), TypeError, "preds"),
        InvalidCase("num_classes 0", Case((np.array([0]), np.array([0])), {"num_classes": 0}),
                    ValueError, "num_classes"),
        InvalidCase("ignore_index not an int", Case((np.array([0]), np.array([0])),
                                                    {"num_classes": 2, "ignore_index": 0.5}),
                    TypeError, "ignore_index"),
    ),
    properties=(
        Property("chunks add up", _chunks_add_up,
                 "confusion matrices of two chunks of the samples sum to the one-shot matrix"),
        Property("sample permutation invariance", _sample_permutation),
    ),
    natives=(
        Native("sklearn", "sklearn.metrics.confusion_matrix", _sklearn_confusion_matrix,
               "(y_true, y_pred) order; labels=range(K); no ignore_index (drop positions "
               "first)"),
        Native("torchmetrics", "torchmetrics.functional.confusion_matrix",
               _torchmetrics_confusion_matrix, "task='multiclass'",
               aliases=("torchmetrics.functional.classification.multiclass_confusion_matrix",)),
    ),
    capabilities=_CAPS,
)

STAT_SCORES = OpSpec(
    name="stat_scores",
    family="classification",
    impl=impl.classification.stat_scores,
    oracle=stat_scores_oracle,
    cases=_stat_scores_cases,
    signature=(
        "stat_scores(preds, target, /, *, task, num_classes=None, threshold=0.5, "
        "ignore_index=None)"
    ),
    doc=(
        "(K, 4) counts per class: tp, fp, fn, support = tp + fn, in the default integer "
        "dtype; binary gives (1, 4) for the positive class, multilabel one row per label. "
        "Scores are positive when score >= threshold (binary, multilabel); multiclass "
        "scores (*batch, C) go through argmax over the last axis (first maximum on ties). "
        "Positions with target == ignore_index count nowhere. Additive over chunks of "
        "samples."
    ),
    edge_cases=(
        Case((np.zeros(0, np.int64), np.zeros(0, np.int64)), {"task": "binary"},
             name="empty input"),
        Case((np.array([0.9, 0.1]), np.array([-1, -1])), {"task": "binary", "ignore_index": -1},
             name="all ignored"),
        Case((_MC_PREDS, _MC), {"task": "multiclass", "num_classes": 5},
             name="a class absent from both"),
        Case((np.array([0.5, 0.49, 0.51]), np.array([1, 1, 0])), {"task": "binary"},
             name="score equal to the threshold is positive"),
        Case((np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0]]), np.array([1, 2])),
             {"task": "multiclass"}, name="argmax ties: first maximum"),
        Case((np.array([[0, 1], [0, 1]]), np.array([[1, 0], [1, 0]])), {"task": "multilabel"},
             name="tp = 0 for every label"),
    ),
    invalid_cases=(
        InvalidCase("shape mismatch", Case((np.zeros(3, np.int64), np.zeros(2, np.int64)),
                                           {"task": "binary"}), ValueError, "target"),
        InvalidCase("non-binary target", Case((np.array([0, 1]), np.array([0, 2])),
                                              {"task": "binary"}),
                    ValueError, "target", needs_values=True),
        InvalidCase("label out of range", Case((np.array([0, 1]), np.array([0, 3])),
                                               {"task": "multiclass", "num_classes": 3}),
                    ValueError, "target", needs_values=True),
        InvalidCase("unknown task", Case((np.array([0]), np.array([0])), {"task": "multi"}),
                    ValueError, "task"),
        InvalidCase("multiclass labels without num_classes",
                    Case((np.array([0]), np.array([0])), {"task": "multiclass"}),
                    ValueError, "num_classes"),
        InvalidCase("num_classes != score columns",
                    Case((np.full((2, 3), 0.5), np.array([0, 1])),
                         {"task": "multiclass", "num_classes": 4}), ValueError, "num_classes"),
        InvalidCase("float target", Case((np.array([0.5]), np.array([1.0])), {"task": "binary"}),
                    TypeError, "target"),
    ),
    properties=(
        Property("chunks add up", _chunks_add_up,
                 "stat scores of two chunks of the samples sum to the one-shot scores"),
        Property("sample permutation invariance", _sample_permutation),
    ),
    natives=(
        Native("sklearn", "sklearn.metrics.multilabel_confusion_matrix", _sklearn_stat_scores,
               "tp = M[:, 1, 1], fp = M[:, 0, 1], fn = M[:, 1, 0]; no ignore_index"),
        Native("torchmetrics", "torchmetrics.functional.stat_scores", _torchmetrics_stat_scores,
               "average='none'; columns tp, fp, tn, fn, support (tn dropped)"),
    ),
    capabilities=_CAPS,
)

_FBETA_DOC = (
    "Per class P = tp / (tp + fp), R = tp / (tp + fn), F = (1 + b^2) tp / ((1 + b^2) tp + "
    "b^2 fn + fp); a zero denominator gives zero_division (so F = 0 when tp = 0 but fp + "
    "fn > 0). average: binary (one class), micro (counts summed first), macro (mean over "
    "classes, NaN left out), weighted (by support, NaN left out; plain mean when every "
    "support left is 0), samples (multilabel: per sample over its labels, then the "
    "NaN-free mean over samples), None (per class). Every class of [0, K) counts: "
    "scikit-learn's precision_recall_fscore_support with labels=range(K)."
)

FBETA_FROM_STATS = OpSpec(
    name="fbeta_from_stats",
    family="classification",
    impl=impl.classification.fbeta_from_stats,
    oracle=fbeta_from_stats_oracle,
    cases=_stats_cases,
    signature="fbeta_from_stats(stats, /, *, beta=1.0, average='binary', zero_division=0.0)",
    doc=_FBETA_DOC + " 'samples' is not derivable from global statistics and raises.",
    edge_cases=(
        Case((np.zeros((3, 4), np.int64),), {"average": "macro", "zero_division": math.nan},
             name="nothing counted: NaN"),
        Case((np.array([[0, 2, 3, 3], [0, 0, 0, 0]]),), {"average": None},
             name="tp = 0: F is 0, an absent class gets zero_division"),
        Case((np.array([[0, 2, 0, 0], [1, 0, 0, 1]]),),
             {"average": "weighted", "zero_division": math.nan},
             name="weighted: NaN precision left out"),
        Case((np.array([[0, 2, 0, 0], [0, 1, 0, 0]]),), {"average": "weighted"},
             name="weighted with zero support: plain mean"),
        Case((np.array([[3, 1, 2, 5]]),), {"beta": 2.0}, name="binary"),
    ),
    invalid_cases=(
        InvalidCase("samples", Case((np.ones((2, 4), np.int64),), {"average": "samples"}),
                    ValueError, "global statistics"),
        InvalidCase("binary with two classes",
                    Case((np.ones((2, 4), np.int64),), {"average": "binary"}),
                    ValueError, "average"),
        InvalidCase("beta 0", Case((np.ones((1, 4), np.int64),), {"beta": 0.0}),
                    ValueError, "beta"),
        InvalidCase("negative beta", Case((np.ones((1, 4), np.int64),), {"beta": -1.0}),
                    ValueError, "beta"),
        InvalidCase("zero_division 0.5",
                    Case((np.ones((1, 4), np.int64),), {"zero_division": 0.5}),
                    ValueError, "zero_division"),
        InvalidCase("zero_division 'warn'",
                    Case((np.ones((1, 4), np.int64),), {"zero_division": "warn"}),
                    ValueError, "zero_division"),
        InvalidCase("unknown average", Case((np.ones((1, 4), np.int64),), {"average": "avg"}),
                    ValueError, "average"),
        InvalidCase("stats shape", Case((np.ones((2, 3), np.int64),), {"average": "macro"}),
                    ValueError, "stats"),
        InvalidCase("float stats", Case((np.ones((2, 4)),), {"average": "macro"}),
                    TypeError, "stats"),
    ),
    properties=(
        Property("class relabelling", _class_permutation),
        Property("F is the weighted harmonic mean of P and R", _f_is_harmonic_mean),
    ),
    natives=(
        Native("sklearn", "sklearn.metrics.precision_recall_fscore_support",
               _sklearn_prf_from_stats, "takes labels, not counts: the adapter expands "
               "each class's (tp, fp, fn) into a column of a multilabel indicator matrix; "
               "no average='samples'"),
    ),
    capabilities=_CAPS,
)


_PRF_EDGE = (
    Case((np.zeros(0), np.zeros(0, np.int64)), {"average": "binary"},
         name="empty input: zero_division"),
    Case((np.array([0.9, 0.2, 0.7]), np.array([5, 5, 5])),
         {"ignore_index": 5, "zero_division": math.nan}, name="all ignored: NaN"),
    Case((_MC_PREDS, _MC), {"task": "multiclass", "num_classes": 5, "average": "macro"},
         name="a class absent from both: counts as zero_division"),
    Case((_MC_PREDS, _MC), {"task": "multiclass", "num_classes": 5, "average": "macro",
                            "zero_division": math.nan},
         name="absent class with zero_division=nan: left out of the macro mean"),
    Case((np.array([0, 0, 0]), np.array([1, 1, 0])), {"zero_division": 1.0},
         name="tp = 0, nothing predicted: P = zero_division, F = 0"),
    Case((np.array([1, 1, 0]), np.array([0, 0, 0])), {"zero_division": 1.0},
         name="tp = 0, no positives: R = zero_division, F = 0"),
    Case((np.array([[1, 0, 0], [0, 0, 0]]), np.array([[1, 0, 0], [0, 0, 0]])),
         {"task": "multilabel", "average": "samples", "zero_division": math.nan},
         name="samples: an empty sample is left out"),
    Case((np.array([[0, 1], [0, 1]]), np.array([[0, 0], [0, 0]])),
         {"task": "multilabel", "average": "weighted"}, name="weighted with zero support"),
    Case((np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]), np.array([1, 2])),
         {"task": "multiclass", "average": None, "beta": 0.5}, name="multiclass scores"),
)

_PRF_INVALID = (
    InvalidCase("shape mismatch", Case((np.zeros(3, np.int64), np.zeros(2, np.int64))),
                ValueError, "target"),
    InvalidCase("non-binary target", Case((np.array([0, 1]), np.array([0, 2]))),
                ValueError, "target", needs_values=True),
    InvalidCase("label out of range",
                Case((np.array([0, 1]), np.array([0, 3])),
                     {"task": "multiclass", "num_classes": 3, "average": "macro"}),
                ValueError, "target", needs_values=True),
    InvalidCase("default average for multiclass",
                Case((np.array([0, 1]), np.array([0, 1])),
                     {"task": "multiclass", "num_classes": 3}),
                ValueError, "average"),
    InvalidCase("samples for multiclass",
                Case((np.array([0, 1]), np.array([0, 1])),
                     {"task": "multiclass", "num_classes": 3, "average": "samples"}),
                ValueError, "samples"),
    InvalidCase("beta 0", Case((np.array([0, 1]), np.array([0, 1])), {"beta": 0.0}),
                ValueError, "beta"),
    InvalidCase("unknown average", Case((np.array([0, 1]), np.array([0, 1])),
                                        {"average": "avg"}), ValueError, "average"),
    InvalidCase("unknown task", Case((np.array([0, 1]), np.array([0, 1])), {"task": "bin"}),
                ValueError, "task"),
    InvalidCase("zero_division 2", Case((np.array([0, 1]), np.array([0, 1])),
                                        {"zero_division": 2.0}), ValueError, "zero_division"),
)


def _without_beta(cases: tuple[Any, ...]) -> tuple[Any, ...]:
    """f1_score has no beta: drop it from cases and invalid cases that set it."""
    out = []
    for c in cases:
        inner = c.case if isinstance(c, InvalidCase) else c
        if "beta" in inner.kwargs:
            continue
        out.append(c)
    return tuple(out)


def _prf_spec(name: str, oracle: Any, which: int | None, with_beta: bool) -> OpSpec:
    params = "beta=1.0, " if with_beta else ""
    returns = "(precision, recall, fbeta)" if which is None else "fbeta"
    return OpSpec(
        name=name,
        family="classification",
        impl=getattr(impl.classification, name),
        oracle=oracle,
        cases=lambda: _fbeta_cases(with_beta=with_beta),
        signature=(
            f"{name}(preds, target, /, *, {params}task='binary', num_classes=None, "
            "threshold=0.5, average='binary', zero_division=0.0, ignore_index=None)"
        ),
        doc=(
            f"Returns {returns}. " + _FBETA_DOC + " The default average 'binary' raises "
            "ValueError for the multiclass and multilabel tasks. Float dtype: preds' when "
            "it holds scores, else the default float."
        ),
        edge_cases=_PRF_EDGE if with_beta else _without_beta(_PRF_EDGE),
        invalid_cases=_PRF_INVALID if with_beta else _without_beta(_PRF_INVALID),
        properties=(
            Property("sample permutation invariance", _sample_permutation),
            *((Property("F is the weighted harmonic mean of P and R", _f_is_harmonic_mean),)
              if which is None else ()),
        ),
        natives=(
            Native("sklearn", "sklearn.metrics.precision_recall_fscore_support"
                   if which is None else f"sklearn.metrics.{name}",
                   _sklearn_prf(None if with_beta else 1.0, which),
                   "(y_true, y_pred) order; labels=range(K); binary task: average='binary' "
                   "only (sklearn's macro averages both labels); no ignore_index"),
            *((Native("torchmetrics", f"torchmetrics.functional.{name}",
                      _torchmetrics_fbeta(with_beta),
                      "average None is 'none'; zero_division 0 or 1 only; binary task: "
                      "average='binary' only"),) if which == 2 else ()),
        ),
        capabilities=_CAPS,
    )


PRECISION_RECALL_FBETA = _prf_spec(
    "precision_recall_fbeta", precision_recall_fbeta_oracle, None, True
)
FBETA_SCORE = _prf_spec("fbeta_score", fbeta_score_oracle, 2, True)
F1_SCORE = _prf_spec("f1_score", f1_score_oracle, 2, False)

SPECS = (CONFUSION_MATRIX, STAT_SCORES, FBETA_FROM_STATS, PRECISION_RECALL_FBETA, FBETA_SCORE,
         F1_SCORE)
