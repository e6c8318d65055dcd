"""Specs of non-maximum suppression: nms, batched_nms, nms_padded and soft_nms.

Drawn cases keep every pair's IoU away from the threshold (or exactly on it, on an
integer grid where float32 computes it exactly): the implementation compares IoU in
the dtype under test, the oracle in float64, and only a pair within rounding of the
threshold could tell them apart.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..impl import nms as _impl
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported

# ---------------------------------------------------------------------------- oracles


def iou_oracle(a, b, offset=0) -> float:
    """IoU of two xyxy boxes from the definition; 0 where the union is 0."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + offset)
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + offset)
    inter = w * h
    area = lambda x: (x[2] - x[0] + offset) * (x[3] - x[1] + offset)  # noqa: E731
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def _by_score(scores, candidates):
    """Candidates by decreasing score, equal scores in input order."""
    return sorted(candidates, key=lambda i: (-float(scores[i]), i))


def nms_oracle(
    boxes, scores, iou_threshold, score_threshold=None, max_output_size=None, offset=0
):
    """Greedy NMS: visit by decreasing score; keep a box unless a kept box has IoU > t."""
    boxes, scores = np.asarray(boxes, np.float64), np.asarray(scores, np.float64)
    n = scores.shape[0]
    candidates = [i for i in range(n) if score_threshold is None or scores[i] >= score_threshold]
    kept: list[int] = []
    for i in _by_score(scores, candidates):
        if all(iou_oracle(boxes[j], boxes[i], offset) <= iou_threshold for j in kept):
            kept.append(i)
    if max_output_size is not None:
        kept = kept[:max_output_size]
    return np.array(kept, dtype=np.int64)


def batched_nms_oracle(boxes, scores, labels, iou_threshold, score_threshold=None,
                       max_output_size=None, offset=0):
    """nms per label, the kept indices merged by decreasing score (ties: input order)."""
    labels = np.asarray(labels)
    kept: list[int] = []
    for c in np.unique(labels):
        sel = np.flatnonzero(labels == c)
        keep = nms_oracle(boxes[sel], scores[sel], iou_threshold, score_threshold, None, offset)
        kept += [int(sel[k]) for k in keep]
    merged = _by_score(np.asarray(scores, np.float64), kept)
    if max_output_size is not None:
        merged = merged[:max_output_size]
    return np.array(merged, dtype=np.int64)


def nms_padded_oracle(boxes, scores, iou_threshold, max_output_size, score_threshold=None,
                      offset=0):
    kept = nms_oracle(boxes, scores, iou_threshold, score_threshold, max_output_size, offset)
    out = np.full(max_output_size, -1, dtype=np.int64)
    out[: kept.size] = kept
    return out, np.int64(kept.size)


def soft_nms_oracle(boxes, scores, sigma=0.5, iou_threshold=0.3, score_threshold=0.001,
                    method="gaussian", offset=0):
    """Bodla et al. 2017, with the selection and dropping rules of the spec."""
    boxes, scores = np.asarray(boxes, np.float64), np.asarray(scores, np.float64)
    live = {i: float(scores[i]) for i in range(scores.shape[0]) if scores[i] >= score_threshold}
    picked, picked_scores = [], []
    while live:
        best = min(live, key=lambda i: (-live[i], i))
        picked.append(best)
        picked_scores.append(live.pop(best))
        for i in list(live):
            iou = iou_oracle(boxes[best], boxes[i], offset)
            if method == "gaussian":
                live[i] *= math.exp(-iou * iou / sigma)
            elif iou > iou_threshold:
                live[i] *= 1 - iou
            if live[i] < score_threshold:
                del live[i]
    return np.array(picked, dtype=np.int64), np.array(picked_scores, dtype=np.float64)


# ------------------------------------------------------------------------- strategies

_MARGIN = 1e-4  # relative distance every drawn pair's IoU keeps from the threshold


def _pair_ious(boxes, offset):
    n = boxes.shape[0]
    return np.array([iou_oracle(boxes[i], boxes[j], offset)
                     for i in range(n) for j in range(i + 1, n)])


def _clear_threshold(ious, t, exact):
    """``t``, nudged up until no IoU lies within the margin. IoU == t stays where every
    dtype computes it exactly: IoU 0 or 1, or a small integer grid (``exact``)."""
    exact = exact | (ious == 0) | (ious == 1)
    for _ in range(50):
        gap = np.abs(ious - t)
        near = (gap < _MARGIN) & ~((gap == 0) & exact)
        if not near.any():
            return t
        t = t + 3 * _MARGIN
    return t


@st.composite
def _boxes(draw: Any, n: int) -> tuple[np.ndarray, bool]:
    """``(n, 4)`` xyxy boxes and whether they lie on a small integer grid."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    layout = draw(st.sampled_from(["clusters", "uniform", "grid", "duplicates"]))
    if layout == "grid":  # integer coordinates: exact IoU values, IoU == t is reachable
        corner = rng.integers(0, 12, size=(n, 2))
        size = rng.integers(0, 8, size=(n, 2))
        return np.concatenate([corner, corner + size], axis=1).astype(np.float64), True
    if layout == "clusters":
        centres = rng.uniform(0, 60, size=(draw(st.integers(1, 4)), 2))
        c = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 2, size=(n, 2))
        wh = rng.uniform(8, 16, size=(n, 2))
    else:
        c = rng.uniform(0, 60, size=(n, 2))
        wh = rng.uniform(0.5, 20, size=(n, 2))
    boxes = np.concatenate([c - wh / 2, c + wh / 2], axis=1)
    if layout == "duplicates" and n > 1:
        boxes[rng.integers(0, n, n // 2)] = boxes[0]
    return boxes, layout == "duplicates"


@st.composite
def _scores(draw: Any, n: int) -> np.ndarray:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["uniform", "ties", "constant"]))
    if kind == "uniform":
        return rng.random(n)
    if kind == "ties":  # stable order of equal scores matters
        return rng.integers(0, 4, size=n) / 4.0
    return np.full(n, 0.5)


@st.composite
def _nms_inputs(draw: Any, *, padded: bool = False) -> tuple[Case, float | None]:
    n = draw(st.one_of(st.integers(0, 8), st.integers(17, 40)))
    boxes, exact = draw(_boxes(n))
    scores = draw(_scores(n))
    offset = draw(st.sampled_from([0, 0, 1]))
    t = draw(st.sampled_from([0.0, 0.25, 0.5, 0.5, 0.75, 1.0, 0.3, 0.7]))
    exact = exact and t in (0.0, 0.25, 0.5, 0.75, 1.0)
    t = _clear_threshold(_pair_ious(boxes, offset), t, exact)
    kwargs: dict[str, Any] = {"iou_threshold": t}
    if offset:
        kwargs["offset"] = offset
    if draw(st.booleans()):
        kwargs["score_threshold"] = draw(st.sampled_from([0.25, 0.5, 0.9]))
    if padded:
        kwargs["max_output_size"] = draw(st.integers(0, n + 2))
    elif draw(st.integers(0, 3)) == 0:
        kwargs["max_output_size"] = draw(st.integers(0, n + 1))
    return Case((boxes, scores), kwargs), None


def _nms_cases():
    return _nms_inputs().map(lambda pair: pair[0])


def _padded_cases():
    return _nms_inputs(padded=True).map(lambda pair: pair[0])


@st.composite
def _batched_cases(draw: Any) -> Case:
    case, _ = draw(_nms_inputs())
    boxes, scores = case.args
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.sampled_from([1, 2, 3, 7]))
    labels = rng.integers(0, k, size=scores.shape[0]) * draw(st.sampled_from([1, 5, -1]))
    return Case((boxes, scores, labels.astype(np.int64)), case.kwargs)


def _soft_margins(boxes, scores, kwargs) -> bool:
    """True when the float64 run keeps every decision clear of rounding: selections
    not near a tie, decayed scores not near score_threshold, IoU not near the linear
    threshold."""
    thr = kwargs.get("score_threshold", 0.001)
    sigma = kwargs.get("sigma", 0.5)
    t = kwargs.get("iou_threshold", 0.3)
    linear = kwargs.get("method") == "linear"
    live = {i: float(s) for i, s in enumerate(scores) if s >= thr}
    while live:
        ranked = sorted(live.values(), reverse=True)
        if len(ranked) > 1 and 0 < ranked[0] - ranked[1] < 1e-3:
            return False
        best = min(live, key=lambda i: (-live[i], i))
        live.pop(best)
        for i in list(live):
            iou = iou_oracle(boxes[best], boxes[i])
            if linear and abs(iou - t) < _MARGIN:
                return False
            live[i] *= (1 - iou if iou > t else 1.0) if linear else math.exp(-iou * iou / sigma)
            if abs(live[i] - thr) < 1e-3 * max(thr, 1e-3):
                return False
            if live[i] < thr:
                del live[i]
    return True


@st.composite
def _soft_cases(draw: Any) -> Case:
    n = draw(st.one_of(st.integers(0, 6), st.integers(17, 24)))
    kwargs: dict[str, Any] = {}
    method = draw(st.sampled_from(["gaussian", "linear"]))
    if method == "linear":
        kwargs["method"] = method
        kwargs["iou_threshold"] = draw(st.sampled_from([0.0, 0.3, 0.5]))
    else:
        kwargs["sigma"] = draw(st.sampled_from([0.5, 0.1, 2.0]))
    kwargs["score_threshold"] = draw(st.sampled_from([0.001, 0.1, 0.4]))
    for _ in range(20):  # redraw until no decision sits within rounding of a boundary
        boxes, _ = draw(_boxes(n))
        scores = draw(_scores(n))
        if _soft_margins(boxes, scores, kwargs):
            return Case((boxes, scores), kwargs)
    return Case((boxes[:0], scores[:0]), kwargs)


# ------------------------------------------------------------------------- properties


def _iou_t(case: Case) -> tuple[float, int]:
    return case.kwargs["iou_threshold"], case.kwargs.get("offset", 0)


def _greedy_invariants(run, case):
    """Output is a subset of the candidates by decreasing score (ties in input order);
    no two kept boxes overlap above the threshold; every dropped candidate overlaps a
    kept box of higher or equal rank above it."""
    boxes, scores = case.args[:2]
    out = run(case)
    keep = out[0][: int(out[1])] if isinstance(out, tuple) else out
    t, offset = _iou_t(case)
    s_thr = case.kwargs.get("score_threshold")
    problems = 0
    keys = [(-scores[i], i) for i in keep]
    problems += keys != sorted(keys) or len(set(keep.tolist())) != len(keep)
    problems += any(
        iou_oracle(boxes[a], boxes[b], offset) > t for x, a in enumerate(keep) for b in keep[x + 1:]
    )
    limit = case.kwargs.get("max_output_size")
    if limit is None or len(keep) < limit:
        kept = set(keep.tolist())
        for i in range(len(scores)):
            if i in kept or (s_thr is not None and scores[i] < s_thr):
                continue
            problems += not any(
                (-scores[j], j) < (-scores[i], i) and iou_oracle(boxes[j], boxes[i], offset) > t
                for j in keep
            )
    return [(np.int64(problems), np.int64(0))]


def _shift_invariance(run, case):
    """Translating every box by the same integer vector changes nothing."""
    boxes = case.args[0]
    if np.abs(boxes).max(initial=0) > 1e3 or not np.all(boxes == np.round(boxes)):
        return []  # exact only where the shifted coordinates stay exact
    moved = case.with_args(boxes + np.array([7.0, -3.0, 7.0, -3.0]), *case.args[1:])
    a, b = run(case), run(moved)
    return list(zip(a, b, strict=True)) if isinstance(a, tuple) else [(a, b)]


def _label_split(run, case):
    """batched_nms equals itself run on each label alone, merged by score."""
    boxes, scores, labels = case.args
    whole = run(case)
    kept: list[int] = []
    kw = {k: v for k, v in case.kwargs.items() if k != "max_output_size"}
    for c in np.unique(labels):
        sel = np.flatnonzero(labels == c)
        part = run(Case((boxes[sel], scores[sel], labels[sel]), kw))
        kept += [int(sel[k]) for k in part]
    merged = _by_score(scores, kept)[: case.kwargs.get("max_output_size")]
    return [(whole, np.array(merged, dtype=np.int64))]


def _relabel(run, case):
    boxes, scores, labels = case.args
    return [(run(case), run(case.with_args(boxes, scores, labels * 3 + 1000)))]


def _padded_prefix(run, case):
    """A larger max_output_size extends the list: the first entries do not change."""
    idx, num = run(case)
    size = case.kwargs["max_output_size"]
    idx2, num2 = run(case.with_args(*case.args, max_output_size=size + 3))
    padding_ok = np.all(idx[int(num):] == -1) and np.all(idx2[int(num2):] == -1)
    return [(idx2[:size], idx), (np.int64(padding_ok), np.int64(1)),
            (np.minimum(num2, size), num)]


def _soft_ordering(run, case):
    """Decayed scores are non-increasing, at most the input scores, at least the
    score threshold; the indices are distinct."""
    idx, s = run(case)
    scores = case.args[1]
    thr = case.kwargs.get("score_threshold", 0.001)
    ok = (
        np.all(np.diff(s) <= 0) and np.all(s <= scores[idx] * (1 + 1e-6))
        and np.all(s >= thr * (1 - 1e-6)) and len(set(idx.tolist())) == len(idx)
    )
    return [(np.int64(ok), np.int64(1))]


def _soft_linear_without_overlap(run, case):
    """linear with iou_threshold 1 decays nothing: every candidate, by score."""
    boxes, scores = case.args
    kw = {"method": "linear", "iou_threshold": 1.0,
          "score_threshold": case.kwargs.get("score_threshold", 0.001)}
    idx, s = run(Case((boxes, scores), kw))
    want = np.array(_by_score(scores, [i for i in range(len(scores))
                                       if scores[i] >= kw["score_threshold"]]), np.int64)
    return [(idx, want)]


# --------------------------------------------------------------------------- natives


def classic_numpy_nms(boxes, scores, iou_threshold, offset=1):
    """The classic pure-NumPy greedy loop (py-faster-rcnn's py_cpu_nms): take the best,
    drop what overlaps it above the threshold, repeat on the rest."""
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    areas = (x2 - x1 + offset) * (y2 - y1 + offset)
    order = scores.argsort()[::-1]
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(x1[i], x1[order[1:]])
        yy1 = np.maximum(y1[i], y1[order[1:]])
        xx2 = np.minimum(x2[i], x2[order[1:]])
        yy2 = np.minimum(y2[i], y2[order[1:]])
        w = np.maximum(0.0, xx2 - xx1 + offset)
        h = np.maximum(0.0, yy2 - yy1 + offset)
        inter = w * h
        ovr = inter / (areas[i] + areas[order[1:]] - inter)
        order = order[1:][ovr <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def _classic_native():
    def native(boxes, scores, /, iou_threshold, *, score_threshold=None, max_output_size=None,
               offset=0):
        if score_threshold is not None:
            raise Unsupported("no score_threshold")
        if np.unique(scores).size < scores.size:
            raise Unsupported("argsort()[::-1] takes equal scores in reverse input order")
        keep = classic_numpy_nms(np.asarray(boxes), np.asarray(scores), iou_threshold, offset)
        return keep[:max_output_size]

    return native


def _torchvision_nms():
    import torchvision

    def native(boxes, scores, /, iou_threshold, *, score_threshold=None, max_output_size=None,
               offset=0):
        if offset:
            raise Unsupported("torchvision has no offset")
        if score_threshold is not None or max_output_size is not None:
            raise Unsupported("no score_threshold or max_output_size")
        return torchvision.ops.nms(boxes, scores, iou_threshold)

    return native


def _torchvision_batched_nms():
    import torchvision

    def native(boxes, scores, labels, /, iou_threshold, *, score_threshold=None,
               max_output_size=None, offset=0):
        if offset or score_threshold is not None or max_output_size is not None:
            raise Unsupported("no offset, score_threshold or max_output_size")
        return torchvision.ops.batched_nms(boxes, scores, labels, iou_threshold)

    return native


def _tensorflow_padded():
    import tensorflow as tf

    def native(boxes, scores, /, iou_threshold, *, max_output_size, score_threshold=None,
               offset=0):
        if offset:
            raise Unsupported("TensorFlow has no offset")
        b = tf.gather(boxes, [1, 0, 3, 2], axis=-1)  # TF takes (y1, x1, y2, x2)
        thr = -np.inf if score_threshold is None else score_threshold
        return tf.image.non_max_suppression_padded(
            b, scores, max_output_size, iou_threshold, thr, pad_to_max_output_size=True
        )

    return native


def _original_soft_nms():
    def native(boxes, scores, /, *, sigma=0.5, iou_threshold=0.3, score_threshold=0.001,
               method="gaussian", offset=0):
        """The loop of the paper's cpu_soft_nms, transcribed (its +1 areas are offset=1)."""
        if offset != 1:
            raise Unsupported("the original code uses +1 pixel areas (offset=1) only")
        if np.any(np.asarray(scores) < score_threshold):
            raise Unsupported("the original never checks the selected box's own score")
        b = np.asarray(boxes, np.float64).copy()
        s = np.asarray(scores, np.float64).copy()
        idx = np.arange(len(s))
        n = len(s)
        i = 0
        while i < n:
            m = i + int(np.argmax(s[i:n]))
            for arr in (b, s, idx):
                arr[[i, m]] = arr[[m, i]]
            pos = i + 1
            while pos < n:
                iou = iou_oracle(b[i], b[pos], 1)
                w = math.exp(-iou * iou / sigma) if method == "gaussian" else (
                    1 - iou if iou > iou_threshold else 1.0)
                s[pos] *= w
                if s[pos] < score_threshold:
                    for arr in (b, s, idx):
                        arr[[pos, n - 1]] = arr[[n - 1, pos]]
                    n -= 1
                    pos -= 1
                pos += 1
            i += 1
        return idx[:n], s[:n]

    return native


# ------------------------------------------------------------------------------ specs

_B = np.array([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]])
_S = np.array([0.9, 0.8, 0.7, 0.6])
# (0, 0, 10, 10) vs (0, 0, 10, 5): IoU = 50 / 100 = 0.5 exactly, in every float dtype
_HALF = np.array([[0.0, 0, 10, 10], [0, 0, 10, 5]])
# chain at threshold 0.4: A suppresses B (IoU 60/140), B would suppress C (60/140), but
# C overlaps A only by 20/180, so C survives

_CHAIN = np.array([[0.0, 0, 10, 10], [4, 0, 14, 10], [8, 0, 18, 10]])
_T = {"iou_threshold": 0.5}


def _common_invalid(extra_args=(), extra_kwargs=None):
    extra_kwargs = extra_kwargs or {}

    def case(boxes, scores, **kw):
        return Case((boxes, scores, *extra_args), {**_T, **extra_kwargs, **kw})

    return (
        InvalidCase("boxes not (N, 4)", case(_B[:, :3], _S), ValueError, "boxes"),
        InvalidCase("boxes 1-d", case(_B[0], _S[:1]), ValueError, "boxes"),
        InvalidCase("scores length", case(_B, _S[:3]), ValueError, "scores"),
        InvalidCase("integer scores", case(_B, np.arange(4)), TypeError, "scores"),
        InvalidCase("bool boxes", case(_B > 1, _S), TypeError, "boxes"),
        InvalidCase("NaN score", case(_B, np.array([0.9, np.nan, 0.7, 0.6])), ValueError,
                    "scores", needs_values=True),
        InvalidCase("inverted box", case(_B[:, [2, 1, 0, 3]], _S), ValueError, "boxes",
                    needs_values=True),
        InvalidCase("iou_threshold string", case(_B, _S, iou_threshold="0.5"), TypeError,
                    "iou_threshold"),
        InvalidCase("iou_threshold NaN", case(_B, _S, iou_threshold=math.nan), ValueError,
                    "iou_threshold"),
        InvalidCase("offset 2", case(_B, _S, offset=2), ValueError, "offset"),
        InvalidCase("score_threshold string", case(_B, _S, score_threshold="x"), TypeError,
                    "score_threshold"),
    )


def _edge_cases(extra=lambda b: (), padded=None):
    def case(boxes, scores, name, **kw):
        if padded is not None:
            kw.setdefault("max_output_size", padded)
        return Case((boxes, scores, *extra(boxes)), {**_T, **kw}, name=name)

    return (
        case(np.zeros((0, 4)), np.zeros(0), "empty"),
        case(_B, _S, "overlap, disjoint, duplicate"),
        case(_HALF, np.array([0.9, 0.8]), "IoU exactly the threshold is kept"),
        case(_CHAIN, np.array([0.9, 0.8, 0.7]), "chain: C survives", iou_threshold=0.4),
        case(np.repeat(_B[:1], 3, axis=0), np.array([0.5, 0.9, 0.5]),
             "identical boxes kept at threshold 1.0", iou_threshold=1.0),
        case(_B, np.full(4, 0.5), "all scores tie: input order"),
        case(_B, _S, "negative threshold: one box", iou_threshold=-0.1),
        case(_B, _S, "score_threshold drops all", score_threshold=0.95),
        case(_B, _S, "score_threshold keeps equal", score_threshold=0.8),
        case(np.array([[5.0, 5, 5, 5], [5, 5, 5, 5]]), np.array([0.2, 0.3]),
             "zero-area boxes: IoU 0", iou_threshold=0.0),
        case(np.array([[0.0, 0, 9, 9], [0, 0, 9, 4]]), np.array([0.9, 0.8]),
             "offset 1: IoU exactly 0.5", offset=1),
        case(_B.astype(np.int64), _S, "integer boxes"),
        case(_B, np.array([np.inf, -np.inf, 0.0, np.inf]), "infinite scores"),
    )


NMS = OpSpec(
    name="nms",
    family="nms",
    impl=_impl.nms,
    oracle=nms_oracle,
    cases=_nms_cases,
    signature=(
        "nms(boxes, scores, /, iou_threshold, *, score_threshold=None, max_output_size=None, "
        "offset=0)"
    ),
    doc=(
        "Greedy NMS over xyxy boxes (N, 4): candidates (score >= score_threshold) by "
        "decreasing score, equal scores in input order; a box is kept unless a kept box "
        "has IoU > iou_threshold with it (strictly: IoU == threshold is kept; threshold "
        "1.0 keeps identical boxes; a negative threshold keeps one box). IoU = inter / "
        "(area_a + area_b - inter) with widths x2 - x1 + offset, 0 where the union is 0, "
        "computed in the boxes' dtype and compared with the threshold as real numbers. "
        "Returns int64 indices (K,), the first max_output_size. Empty input: empty int64. "
        "NaN scores and inverted boxes raise ValueError; integer boxes are promoted. "
        "torchvision.ops.nms where no scores tie (its sort is not stable)."
    ),
    edge_cases=_edge_cases(),
    invalid_cases=(
        *_common_invalid(),
        InvalidCase("max_output_size negative", Case((_B, _S), {**_T, "max_output_size": -1}),
                    ValueError, "max_output_size"),
        InvalidCase("max_output_size float", Case((_B, _S), {**_T, "max_output_size": 2.0}),
                    TypeError, "max_output_size"),
    ),
    properties=(
        Property("greedy invariants", _greedy_invariants),
        Property("integer shift invariance", _shift_invariance),
    ),
    natives=(
        Native("torchvision", "torchvision.ops.nms", _torchvision_nms,
               "offset 0 only; no score_threshold or max_output_size; equal scores in an "
               "unspecified order (unstable sort)"),
        Native("numpy", "classic py_cpu_nms loop", _classic_native,
               "argsort()[::-1]: equal scores in reverse input order; offset=1 in its "
               "original form"),
    ),
    capabilities=Capabilities(jit=False, differentiable=False, data_dependent_shape=True,
                              lazy=False),
)

BATCHED_NMS = OpSpec(
    name="batched_nms",
    family="nms",
    impl=_impl.batched_nms,
    oracle=batched_nms_oracle,
    cases=_batched_cases,
    signature=(
        "batched_nms(boxes, scores, labels, /, iou_threshold, *, score_threshold=None, "
        "max_output_size=None, offset=0)"
    ),
    doc=(
        "nms run separately on the boxes of each integer label, the kept indices merged "
        "by decreasing score (equal scores in input order), then the first "
        "max_output_size. Labels are compared, not folded into coordinates. "
        "torchvision.ops.batched_nms where no scores tie."
    ),
    edge_cases=(
        *_edge_cases(lambda b: (np.zeros(b.shape[0], np.int64),)),
        Case((_B, _S, np.array([0, 1, 0, 0])), _T, name="labels separate an overlap"),
        Case((_B, _S, np.array([3, -2, 3, 7])), _T, name="negative and sparse labels"),
        Case((_B * 1e6, _S, np.array([0, 1, 0, 1])), _T, name="huge coordinates"),
    ),
    invalid_cases=(
        *_common_invalid((np.zeros(4, np.int64),)),
        InvalidCase("float labels", Case((_B, _S, np.zeros(4)), _T), TypeError, "labels"),
        InvalidCase("labels length", Case((_B, _S, np.zeros(3, np.int64)), _T), ValueError,
                    "labels"),
    ),
    properties=(
        Property("greedy invariants per label", lambda run, case: _label_split(run, case)),
        Property("relabelling changes nothing", _relabel),
    ),
    natives=(
        Native("torchvision", "torchvision.ops.batched_nms", _torchvision_batched_nms,
               "offset 0 only; no score_threshold or max_output_size; for few boxes it "
               "shifts each class by a coordinate offset, which can lose float precision"),
    ),
    capabilities=Capabilities(jit=False, differentiable=False, data_dependent_shape=True,
                              lazy=False),
)

NMS_PADDED = OpSpec(
    name="nms_padded",
    family="nms",
    impl=_impl.nms_padded,
    oracle=nms_padded_oracle,
    cases=_padded_cases,
    signature=(
        "nms_padded(boxes, scores, /, iou_threshold, *, max_output_size, "
        "score_threshold=None, offset=0)"
    ),
    doc=(
        "(indices, num_valid): indices (max_output_size,) int64, the first num_valid "
        "equal to nms(...)[:max_output_size] and the rest -1; num_valid a 0-d integer "
        "array. Static shapes: runs under jax.jit (value checks skipped on tracers). "
        "TensorFlow's non_max_suppression_padded(pad_to_max_output_size=True) with boxes "
        "as (y1, x1, y2, x2)."
    ),
    edge_cases=_edge_cases(padded=3) + (
        Case((_B, _S), {**_T, "max_output_size": 0}, name="max_output_size 0"),
        Case((_B, _S), {**_T, "max_output_size": 9}, name="more slots than boxes"),
    ),
    invalid_cases=(
        *_common_invalid(extra_kwargs={"max_output_size": 2}),
        InvalidCase("max_output_size missing", Case((_B, _S), _T), TypeError, "max_output_size"),
        InvalidCase("max_output_size None",
                    Case((_B, _S), {**_T, "max_output_size": None}), TypeError,
                    "max_output_size"),
    ),
    properties=(
        Property("greedy invariants", _greedy_invariants),
        Property("prefix and padding", _padded_prefix),
    ),
    natives=(
        Native("tensorflow", "tf.image.non_max_suppression_padded", _tensorflow_padded,
               "boxes (y1, x1, y2, x2), any corner order; offset 0 only",
               aliases=("tensorflow.image.non_max_suppression_padded",)),
    ),
    capabilities=Capabilities(jit=True, differentiable=False, lazy=False),
)

_SOFT_B = np.array([[0.0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30], [1, 1, 11, 11]])
_SOFT_S = np.array([0.9, 0.8, 0.7, 0.95])

SOFT_NMS = OpSpec(
    name="soft_nms",
    family="nms",
    impl=_impl.soft_nms,
    oracle=soft_nms_oracle,
    cases=_soft_cases,
    signature=(
        "soft_nms(boxes, scores, /, *, sigma=0.5, iou_threshold=0.3, score_threshold=0.001, "
        "method='gaussian', offset=0)"
    ),
    doc=(
        "Soft-NMS (Bodla et al. 2017). Boxes with score < score_threshold are dropped "
        "first. Repeat: select the remaining box with the highest current score (equal "
        "scores: lowest input index); multiply every other remaining score by "
        "exp(-iou^2 / sigma) (gaussian) or, where iou > iou_threshold, by 1 - iou "
        "(linear); drop those now < score_threshold. Returns (indices int64, decayed "
        "scores in the dtype of scores), in selection order, i.e. by non-increasing "
        "decayed score. The original cpu_soft_nms uses +1 areas (offset=1) and never "
        "checks the selected box's own score."
    ),
    edge_cases=(
        Case((np.zeros((0, 4)), np.zeros(0)), name="empty"),
        Case((_SOFT_B, _SOFT_S), name="gaussian"),
        Case((_SOFT_B, _SOFT_S), {"method": "linear"}, name="linear"),
        Case((_SOFT_B, _SOFT_S), {"method": "linear", "iou_threshold": 0.5},
             name="linear: IoU exactly the threshold is not decayed"),
        Case((_SOFT_B, np.full(4, 0.5)), {"sigma": 0.1}, name="ties: lowest index first"),
        Case((_SOFT_B, _SOFT_S), {"score_threshold": 0.85}, name="drops below threshold"),
        Case((np.repeat(_SOFT_B[:1], 3, axis=0), np.array([0.3, 0.9, 0.3])),
             {"method": "linear", "score_threshold": 0.0}, name="identical boxes decay to 0"),
        Case((_SOFT_B, _SOFT_S), {"offset": 1, "method": "linear"}, name="offset 1"),
    ),
    invalid_cases=(
        *(InvalidCase(c.name, Case(c.case.args[:2], {k: v for k, v in c.case.kwargs.items()
                                                    if k != "iou_threshold"}), c.raises,
                      c.match, c.needs_values)
          for c in _common_invalid() if "iou_threshold" not in c.name),
        InvalidCase("sigma 0", Case((_B, _S), {"sigma": 0.0}), ValueError, "sigma"),
        InvalidCase("unknown method", Case((_B, _S), {"method": "hard"}), ValueError, "method"),
        InvalidCase("iou_threshold None", Case((_B, _S), {"iou_threshold": None}), TypeError,
                    "iou_threshold"),
    ),
    tolerance={"float32": (1e-4, 1e-6), "float64": (1e-10, 1e-12)},
    properties=(
        Property("ordered, decayed, above threshold", _soft_ordering),
        Property("linear at threshold 1 decays nothing", _soft_linear_without_overlap),
    ),
    natives=(
        Native("numpy", "cpu_soft_nms (Bodla et al., transcribed)", _original_soft_nms,
               "offset=1 only; swaps boxes in place, so equal scores are taken in an order "
               "that depends on earlier swaps"),
    ),
    capabilities=Capabilities(jit=False, differentiable=False, data_dependent_shape=True,
                              lazy=False),
)

SPECS = (NMS, BATCHED_NMS, NMS_PADDED, SOFT_NMS)
