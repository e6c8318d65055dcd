"""Specs of the segmentation metrics (IoU, Dice) and the soft Dice loss."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..impl import segmentation as _impl
from ..impl import segmentation_loss as _loss_impl
from ._base import (
    Capabilities,
    Case,
    InvalidCase,
    Native,
    OpSpec,
    Property,
    Unsupported,
    reduce_like_torch,
)

NAN = math.nan

# --------------------------------------------------------------------------- oracles


def _div(num: float, den: float, fill: float = NAN) -> float:
    return float(num) / float(den) if den > 0 else fill


def _nanmean(values) -> float:
    kept = [v for v in np.ravel(values) if not math.isnan(v)]
    return float(np.mean(kept)) if kept else NAN


def intersection_and_union_oracle(preds, target, num_classes, ignore_index=None):
    """mmsegmentation's intersect_and_union: drop ignored targets, histogram the rest."""
    p, t = np.ravel(preds).astype(np.int64), np.ravel(target).astype(np.int64)
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    inter = np.zeros(num_classes, np.int64)
    area_pred = np.zeros(num_classes, np.int64)
    area_target = np.zeros(num_classes, np.int64)
    for pi, ti in zip(p, t, strict=True):
        if 0 <= pi < num_classes:  # a prediction equal to an out-of-range ignore_index
            area_pred[pi] += 1
            if pi == ti:
                inter[pi] += 1
        area_target[ti] += 1
    return inter, area_pred + area_target - inter, area_pred, area_target


def _iou_from_areas(inter, area_pred, area_target):
    union = area_pred + area_target - inter
    iou = np.array([_div(i, u) for i, u in zip(inter, union, strict=True)])
    return iou, np.float64(_nanmean(iou)), np.float64(_div(inter.sum(), area_target.sum()))


def mean_iou_oracle(preds, target, num_classes, ignore_index=None):
    inter, _, area_pred, area_target = intersection_and_union_oracle(
        preds, target, num_classes, ignore_index
    )
    return _iou_from_areas(inter, area_pred, area_target)


def mean_iou_from_confusion_oracle(cm):
    cm = np.asarray(cm, dtype=np.float64)
    return _iou_from_areas(np.diag(cm), cm.sum(axis=0), cm.sum(axis=1))


def dice_from_confusion_oracle(cm, zero_division=NAN):
    cm = np.asarray(cm, dtype=np.float64)
    k = cm.shape[0]
    return np.array([
        _div(2 * cm[c, c], cm[c, :].sum() + cm[:, c].sum(), zero_division) for c in range(k)
    ])


def _dice_table(tp, pc, tc, zero_division, ignore_empty_target):
    """Per-class Dice of count vectors, with the zero_division / empty-target rules."""
    out = []
    for a, p, t in zip(tp, pc, tc, strict=True):
        if ignore_empty_target and t == 0:
            out.append(NAN)
        else:
            out.append(_div(2 * a, p + t, zero_division))
    return np.array(out)


def _average_dice(d, tp, pc, tc, average, zero_division, ignore_empty_target):
    if average is None:
        return d
    if average == "macro":
        return _nanmean(d)
    if average == "weighted":
        ok = ~np.isnan(d)
        if not ok.any():
            return NAN
        w = tc[ok].astype(np.float64)
        return float((d[ok] * w).sum() / w.sum()) if w.sum() > 0 else float(d[ok].mean())
    keep = tc > 0 if ignore_empty_target else np.ones(len(tc), bool)
    if not keep.any():
        return NAN
    return _div(2 * tp[keep].sum(), (pc[keep] + tc[keep]).sum(), zero_division)


def dice_score_oracle(
    preds, target, num_classes=None, input_format="index", include_background=True,
    average="macro", aggregation="global", zero_division=NAN, ignore_empty_target=False,
):
    """Counts per (sample, class), Dice per class, average over classes, then samples."""
    preds, target = np.asarray(preds), np.asarray(target)
    n = preds.shape[0]
    if input_format == "index":
        k = num_classes
        p_masks = np.stack([preds == c for c in range(k)], axis=1)
        t_masks = np.stack([target == c for c in range(k)], axis=1)
    else:
        k = preds.shape[1]
        p_masks, t_masks = preds != 0, target != 0
    p_masks = p_masks.reshape(n, k, -1)
    t_masks = t_masks.reshape(n, k, -1)
    groups = [slice(i, i + 1) for i in range(n)] if aggregation == "samplewise" else [slice(None)]
    first = 0 if include_background else 1
    per_group = []
    for g in groups:
        pm, tm = p_masks[g], t_masks[g]
        tp = np.array([(pm[:, c] & tm[:, c]).sum() for c in range(first, k)])
        pc = np.array([pm[:, c].sum() for c in range(first, k)])
        tc = np.array([tm[:, c].sum() for c in range(first, k)])
        d = _dice_table(tp, pc, tc, zero_division, ignore_empty_target)
        per_group.append(
            _average_dice(d, tp, pc, tc, average, zero_division, ignore_empty_target)
        )
    table = np.array(per_group, dtype=np.float64)
    if average is None:
        return np.array([_nanmean(table[:, c]) for c in range(table.shape[1])])
    return np.float64(_nanmean(table))


def _activate(x, activation):
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if activation == "softmax":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return x


def dice_loss_oracle(
    inputs, target, activation=None, beta=1.0, smooth_nr=1e-5, smooth_dr=1e-5,
    squared=False, include_background=True, batch=False, weight=None, reduction="mean",
):
    """The issue's formula, one (sample, channel) at a time."""
    x = np.asarray(inputs, dtype=np.float64)
    n, c = x.shape[:2]
    p = _activate(x, activation).reshape(n, c, -1)
    target = np.asarray(target)
    if target.shape == x.shape:
        g = target.astype(np.float64).reshape(n, c, -1)
    elif c == 1:
        g = target.astype(np.float64).reshape(n, 1, -1)
    else:
        flat = target.reshape(n, -1)
        g = np.stack([flat == k for k in range(c)], axis=1).astype(np.float64)
    first = 0 if include_background else 1
    k = 2 if squared else 1
    b2 = beta * beta
    groups = [slice(None)] if batch else [slice(i, i + 1) for i in range(n)]
    rows = []
    for s in groups:
        row = []
        for ch in range(first, c):
            pp, gg = p[s, ch], g[s, ch]
            score = ((1 + b2) * (pp * gg).sum() + smooth_nr) / (
                (pp**k).sum() + b2 * (gg**k).sum() + smooth_dr
            )
            row.append(1.0 - score)
        rows.append(row)
    loss = np.array(rows, dtype=np.float64)
    if weight is not None:
        loss = loss * np.asarray(weight, dtype=np.float64)
    if batch:
        loss = loss[0]
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.float64(loss.sum())
    return np.float64(loss.mean())


# ------------------------------------------------------------------------ strategies


def _labels_like(rng, target, num_classes, agreement):
    """Predictions that agree with ``target`` on about ``agreement`` of the positions."""
    noise = rng.integers(0, num_classes, size=target.shape)
    return np.where(rng.random(target.shape) < agreement, target, noise)


@st.composite
def _label_pair(draw: Any, *, ignore: bool) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.one_of(st.integers(1, 6), st.integers(17, 25)))
    shape = draw(st.sampled_from([(0,), (5,), (23,), (3, 7), (2, 3, 5), (4, 17)]))
    target = rng.integers(0, k, size=shape)
    if draw(st.booleans()) and k > 2:  # some classes never occur
        target = target % max(1, k - 2)
    preds = _labels_like(rng, target, k, draw(st.sampled_from([0.0, 0.5, 0.9, 1.0])))
    kwargs: dict[str, Any] = {"num_classes": k}
    if ignore and draw(st.booleans()):
        ignore_index = draw(st.sampled_from([255, -1, 0]))
        kwargs["ignore_index"] = ignore_index
        if target.size:
            target = np.where(rng.random(shape) < 0.3, ignore_index, target)
            if ignore_index != 0 and draw(st.booleans()):  # predicted "nothing"
                preds = np.where(rng.random(shape) < 0.2, ignore_index, preds)
    return Case((preds.astype(np.int64), target.astype(np.int64)), kwargs)


@st.composite
def _confusion_cases(draw: Any, *, zero_division: bool) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.one_of(st.integers(1, 6), st.integers(17, 25)))
    cm = rng.integers(0, draw(st.sampled_from([2, 5, 1000])), size=(k, k))
    if k > 1 and draw(st.booleans()):  # a class absent from both sides
        c = int(rng.integers(0, k))
        cm[c, :] = 0
        cm[:, c] = 0
    kwargs = {}
    if zero_division:
        kwargs["zero_division"] = draw(st.sampled_from([NAN, 0.0, 1.0]))
    return Case((cm.astype(np.int64),), kwargs)


_AVERAGES = st.sampled_from(["macro", "micro", "weighted", None])


@st.composite
def _dice_score_cases(draw: Any) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 4))
    spatial = draw(st.sampled_from([(1,), (17,), (3, 6), (24,)]))
    k = draw(st.one_of(st.integers(1, 5), st.integers(17, 20)))
    fmt = draw(st.sampled_from(["index", "one-hot"]))
    target = rng.integers(0, k, size=(n, *spatial))
    if draw(st.booleans()) and k > 2:
        target = target % (k - 2)
    preds = _labels_like(rng, target, k, draw(st.sampled_from([0.0, 0.6, 1.0])))
    kwargs: dict[str, Any] = {
        "input_format": fmt,
        "include_background": k < 2 or draw(st.booleans()),
        "average": draw(_AVERAGES),
        "aggregation": draw(st.sampled_from(["global", "samplewise"])),
        "zero_division": draw(st.sampled_from([NAN, 0.0, 1.0])),
        "ignore_empty_target": draw(st.booleans()),
    }
    if fmt == "index":
        kwargs["num_classes"] = k
        return Case((preds, target), kwargs)
    eye = np.eye(k, dtype=bool)
    p1, t1 = np.moveaxis(eye[preds], -1, 1), np.moveaxis(eye[target], -1, 1)
    if draw(st.booleans()):  # overlapping channels (multi-label masks)
        p1 = p1 | (rng.random(p1.shape) < 0.2)
    dtype = draw(st.sampled_from(["bool", "int64", "float64"]))
    return Case((p1.astype(dtype), t1.astype(dtype)), kwargs)


@st.composite
def _dice_loss_cases(draw: Any) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 3))
    c = draw(st.sampled_from([1, 2, 3, 5]))
    spatial = draw(st.sampled_from([(), (17,), (3, 6)]))
    activation = draw(st.sampled_from([None, "sigmoid"] + (["softmax"] if c > 1 else [])))
    shape = (n, c, *spatial)
    x = rng.normal(scale=3.0, size=shape) if activation else rng.random(shape)
    if activation is None and draw(st.booleans()):
        x[rng.random(shape) < 0.2] = draw(st.sampled_from([0.0, 1.0]))
    labels = rng.integers(0, max(c, 2), size=(n, *spatial))
    target_kind = draw(st.sampled_from(["labels", "one-hot", "probs"]))
    target: np.ndarray
    if target_kind == "labels":
        target = labels
    elif target_kind == "one-hot":
        target = (labels[:, None] == np.arange(c).reshape((1, c) + (1,) * len(spatial)))
        target = target.astype(np.float64)
    else:
        target = rng.random(shape)
    include_background = c == 1 or draw(st.booleans())
    kept = c if include_background else c - 1
    kwargs: dict[str, Any] = {
        "activation": activation,
        "beta": draw(st.sampled_from([1.0, 1.0, 0.5, 2.0])),
        "smooth_nr": draw(st.sampled_from([1e-5, 0.0, 1.0])),
        "smooth_dr": draw(st.sampled_from([1e-5, 1.0])),
        "squared": draw(st.booleans()),
        "include_background": include_background,
        "batch": draw(st.booleans()),
        "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
    }
    if draw(st.booleans()):
        kwargs["weight"] = rng.uniform(0.0, 2.0, size=kept)
    return Case((x, target), kwargs)


# ------------------------------------------------------------------------ properties


def _split(case: Case) -> tuple[Case, Case] | None:
    preds, target = case.args
    if preds.size < 2:
        return None
    cut = preds.size // 3
    p, t = preds.reshape(-1), target.reshape(-1)
    return case.with_args(p[:cut], t[:cut]), case.with_args(p[cut:], t[cut:])


def _chunks_add_up(run, case):
    """The counts are additive: two chunks sum to the one-shot counts exactly."""
    parts = _split(case)
    if parts is None:
        return []
    whole, a, b = run(case), run(parts[0]), run(parts[1])
    return [(x + y, w) for x, y, w in zip(a, b, whole, strict=True)]


def _permute_labels(case: Case):
    preds, target = case.args
    k = case.kwargs["num_classes"]
    ignore = case.kwargs.get("ignore_index")
    perm = np.roll(np.arange(k), 1)

    def relabel(x):
        ok = (x >= 0) & (x < k) & (x != (k if ignore is None else ignore))
        return np.where(ok, perm[np.clip(x, 0, k - 1)], x)

    if ignore is not None and 0 <= ignore < k:
        return None, perm  # relabelling would move the ignored class
    return case.with_args(relabel(preds), relabel(target)), perm


def _iou_label_permutation(run, case):
    """Relabelling classes permutes per-class IoU; mIoU and pixel accuracy stay."""
    permuted, perm = _permute_labels(case)
    if permuted is None:
        return []
    iou, miou, acc = run(case)
    iou2, miou2, acc2 = run(permuted)
    return [(iou2[perm], iou), (miou2, miou), (acc2, acc)]


def _confusion_permutation(run, case):
    (cm,) = case.args
    perm = np.roll(np.arange(cm.shape[0]), 1)
    out, out2 = run(case), run(case.with_args(cm[perm][:, perm]))
    if not isinstance(out, tuple):
        return [(out2, out[perm])]
    return [(out2[0], out[0][perm]), (out2[1], out[1]), (out2[2], out[2])]


def _mean_iou_equals_confusion_form(run, case):
    """mean_iou(preds, target) == mean_iou_from_confusion(cm) without ignore_index."""
    preds, target = case.args
    if case.kwargs.get("ignore_index") is not None:
        return []
    k = case.kwargs["num_classes"]
    cm = np.bincount(target.ravel() * k + preds.ravel(), minlength=k * k).reshape(k, k)
    want = mean_iou_from_confusion_oracle(cm)
    return list(zip(run(case), want, strict=True))


def _dice_label_permutation(run, case):
    """Relabelling classes permutes per-class Dice and leaves the averages."""
    if not case.kwargs.get("include_background", True):
        return []
    preds, target = case.args
    if case.kwargs.get("input_format") == "one-hot":
        k = preds.shape[1]
        perm = np.roll(np.arange(k), 1)
        inverse = np.argsort(perm)
        permuted = case.with_args(preds[:, inverse], target[:, inverse])
    else:
        k = case.kwargs["num_classes"]
        perm = np.roll(np.arange(k), 1)
        permuted = case.with_args(perm[preds], perm[target])
    out, out2 = run(case), run(permuted)
    if case.kwargs.get("average", "macro") is None:
        return [(out2[perm], out)]
    return [(out2, out)]


def _dice_samplewise_of_one_sample(run, case):
    """With one sample, samplewise aggregation equals global aggregation."""
    preds, target = case.args
    one = case.with_args(preds[:1], target[:1])
    kw = dict(one.kwargs)
    kw.pop("aggregation", None)
    a = run(Case(one.args, {**kw, "aggregation": "global"}))
    b = run(Case(one.args, {**kw, "aggregation": "samplewise"}))
    return [(a, b)]


def _sum_is_sum_of_none(run, case):
    summed = run(case.with_args(*case.args, reduction="sum"))
    unreduced = run(case.with_args(*case.args, reduction="none"))
    return [(summed, np.sum(unreduced))]


def _loss_channel_permutation(run, case):
    """Permuting channels (inputs, one-hot target, weights) permutes per-channel losses."""
    x, target = case.args
    c = x.shape[1]
    if c < 2 or not case.kwargs.get("include_background", True) or target.shape != x.shape:
        return []
    perm = np.roll(np.arange(c), 1)
    kwargs: dict[str, Any] = {"reduction": "none"}
    if case.kwargs.get("weight") is not None:
        kwargs["weight"] = case.kwargs["weight"][perm]
    base = run(case.with_args(x, target, reduction="none"))
    permuted = run(case.with_args(x[:, perm], target[:, perm], **kwargs))
    return [(permuted, base[..., perm])]


# --------------------------------------------------------------------------- natives


def _numpy_intersection_and_union():
    def native(preds, target, /, *, num_classes, ignore_index=None):
        p, t = np.ravel(preds), np.ravel(target)
        if ignore_index is not None:
            keep = t != ignore_index
            p, t = p[keep], t[keep]
        in_range = (p >= 0) & (p < num_classes)
        inter = np.bincount(t[in_range & (p == t)], minlength=num_classes)
        area_pred = np.bincount(p[in_range], minlength=num_classes)
        area_target = np.bincount(t, minlength=num_classes)
        return inter, area_pred + area_target - inter, area_pred, area_target

    return native


def _nan_where_absent(scores, t, p):
    """NaN for classes absent from both sides (jaccard_score's zero_division is 0 or 1)."""
    labels = np.concatenate([t, p])
    labels = labels[(labels >= 0) & (labels < len(scores))]  # an out-of-range prediction
    present = np.bincount(labels, minlength=len(scores)) > 0
    return np.where(present, scores, np.nan)


def _sklearn_mean_iou():
    from sklearn.metrics import accuracy_score, jaccard_score

    def native(preds, target, /, *, num_classes, ignore_index=None):
        p, t = np.ravel(preds), np.ravel(target)
        if ignore_index is not None:
            keep = t != ignore_index
            p, t = p[keep], t[keep]
        iou = _nan_where_absent(
            jaccard_score(t, p, labels=list(range(num_classes)), average=None,
                          zero_division=0), t, p,
        )
        # 0-d arrays, not the NumPy scalar and Python float the reductions return
        return _impl.MeanIoU(iou, np.asarray(np.nanmean(iou)), np.asarray(accuracy_score(t, p)))

    return native


def _cm_to_labels(cm):
    """Label pairs (target, pred) whose confusion matrix is ``cm``."""
    cm = np.asarray(cm)
    k = cm.shape[0]
    counts = cm.ravel().astype(np.int64)
    pairs = np.repeat(np.arange(k * k), counts)
    return pairs // k, pairs % k


def _sklearn_iou_from_confusion():
    from sklearn.metrics import jaccard_score

    def native(cm, /):
        t, p = _cm_to_labels(cm)
        k = np.asarray(cm).shape[0]
        iou = _nan_where_absent(
            jaccard_score(t, p, labels=list(range(k)), average=None, zero_division=0), t, p
        )
        return _impl.MeanIoU(iou, np.asarray(np.nanmean(iou)), np.asarray(np.mean(t == p)))

    return native


def _sklearn_dice_from_confusion():
    from sklearn.metrics import f1_score

    def native(cm, /, *, zero_division=NAN):
        t, p = _cm_to_labels(cm)
        k = np.asarray(cm).shape[0]
        return f1_score(t, p, labels=list(range(k)), average=None, zero_division=zero_division)

    return native


def _monai_dice_metric():
    from monai.metrics import DiceMetric

    def native(preds, target, /, *, num_classes=None, input_format="index",
               include_background=True, average="macro", aggregation="global",
               zero_division=NAN, ignore_empty_target=False):
        if aggregation != "samplewise" or average not in ("macro", None):
            raise Unsupported("MONAI scores each sample; no micro or weighted average")
        if ignore_empty_target:
            ignore_empty = True
        elif zero_division == 1.0:
            ignore_empty = False
        else:
            raise Unsupported("an empty target scores NaN or (empty prediction) 1 in MONAI")
        if input_format == "index":
            preds, target = preds[:, None], target[:, None]
        metric = DiceMetric(
            include_background=include_background, ignore_empty=ignore_empty,
            num_classes=num_classes, reduction="mean" if average == "macro" else "mean_batch",
        )
        metric(preds, target)
        return metric.aggregate()

    return native


def _torchmetrics_dice_score():
    import warnings

    from torchmetrics.functional.segmentation import dice_score

    def native(preds, target, /, *, num_classes=None, input_format="index",
               include_background=True, average="macro", aggregation="global",
               zero_division=NAN, ignore_empty_target=False):
        if aggregation != "global":
            raise Unsupported("samplewise: torchmetrics returns one score per sample")
        if num_classes is None:
            raise Unsupported("num_classes=None")
        if not math.isnan(zero_division) or ignore_empty_target:
            raise Unsupported("zero_division other than NaN, ignore_empty_target")
        with warnings.catch_warnings():  # the note that the default average changed
            warnings.simplefilter("ignore", UserWarning)
            out = dice_score(preds, target, num_classes=num_classes,
                             include_background=include_background,
                             average="none" if average is None else average,
                             input_format=input_format, aggregation_level="global")
        return out[0]  # global: one row for the whole batch

    return native


def _monai_dice_loss():
    import torch
    from monai.losses import DiceLoss

    def native(inputs, target, /, *, activation=None, beta=1.0, smooth_nr=1e-5,
               smooth_dr=1e-5, squared=False, include_background=True, batch=False,
               weight=None, reduction="mean"):
        c = inputs.shape[1]
        if beta != 1.0:
            raise Unsupported("beta: MONAI's DiceLoss is the beta = 1 case")
        if inputs.ndim < 3:
            raise Unsupported("no spatial axis: MONAI then sums over every axis")
        if weight is not None and (c if include_background else c - 1) == 1:
            raise Unsupported("MONAI ignores weight for a single (kept) channel")
        labels = tuple(target.shape) != tuple(inputs.shape)
        if labels:
            target = target[:, None]
        loss = DiceLoss(
            include_background=include_background, to_onehot_y=labels and c > 1,
            sigmoid=activation == "sigmoid", softmax=activation == "softmax",
            squared_pred=squared, smooth_nr=smooth_nr, smooth_dr=smooth_dr, batch=batch,
            weight=weight, reduction=reduction,
        )(inputs, target.to(inputs.dtype))
        if reduction == "none":  # MONAI keeps singleton spatial axes
            kept = c if include_background else c - 1
            loss = loss.reshape((kept,) if batch else (inputs.shape[0], kept))
        return torch.as_tensor(loss, dtype=inputs.dtype)

    return native


def _optax_dice_loss():
    import jax
    import jax.numpy as jnp
    import optax

    def native(inputs, target, /, *, activation=None, beta=1.0, smooth_nr=1e-5,
               smooth_dr=1e-5, squared=False, include_background=True, batch=False,
               weight=None, reduction="mean"):
        if inputs.ndim < 2:  # no axis 1 to move last: nothing to hand optax
            raise Unsupported("inputs without a channel axis 1")
        c = inputs.shape[1]
        if squared or batch or smooth_nr != smooth_dr:
            raise Unsupported("squared, batch, smooth_nr != smooth_dr")
        if not ((activation == "softmax" and c > 1) or (activation == "sigmoid" and c == 1)):
            raise Unsupported("optax applies softmax for C > 1 and sigmoid for C = 1 only")
        x = jnp.moveaxis(inputs, 1, -1)
        if tuple(target.shape) != tuple(inputs.shape):
            g = jax.nn.one_hot(target, c, dtype=x.dtype) if c > 1 else target[..., None]
        else:
            g = jnp.moveaxis(target, 1, -1)
        # F-beta as Tversky: alpha = 1 / (1 + b^2), beta' = b^2 / (1 + b^2)
        b2 = beta * beta
        if weight is not None and not include_background:
            weight = jnp.concatenate([jnp.ones((1,), weight.dtype), weight])
        loss = optax.losses.dice_loss(
            x, g.astype(x.dtype), class_weights=weight, smooth=smooth_nr / (1 + b2),
            alpha=1 / (1 + b2), beta=b2 / (1 + b2), apply_softmax=True, reduction="none",
            ignore_background=not include_background,
        )
        return reduce_like_torch(jnp, loss, reduction)

    return native


# ----------------------------------------------------------------------------- specs

_P = np.array([0, 1, 1, 2, 2, 2])
_T = np.array([0, 1, 2, 2, 255, 1])
_METRIC = Capabilities(jit=True, differentiable=False)


def _label_invalid() -> tuple[InvalidCase, ...]:
    k3 = {"num_classes": 3}
    return (
        InvalidCase("float preds", Case((_P.astype(float), _T), k3), TypeError, "preds"),
        InvalidCase("float target", Case((_P, _T.astype(float)), k3), TypeError, "target"),
        InvalidCase("shape mismatch", Case((_P[:5], _T), k3), ValueError, "target"),
        InvalidCase("target out of range", Case((_P, _T), k3), ValueError, "target",
                    needs_values=True),
        InvalidCase("preds out of range", Case((_P + 1, np.zeros(6, np.int64)), k3),
                    ValueError, "preds", needs_values=True),
        InvalidCase("negative label", Case((_P - 1, np.zeros(6, np.int64)), k3), ValueError,
                    "preds", needs_values=True),
        InvalidCase("negative int8 label", Case(((_P - 1).astype(np.int8),
                                                 np.zeros(6, np.int8)), k3),
                    ValueError, "preds", needs_values=True),
        InvalidCase("num_classes 0", Case((_P, _T), {"num_classes": 0}), ValueError,
                    "num_classes"),
        InvalidCase("num_classes float", Case((_P, _T), {"num_classes": 3.0}), TypeError,
                    "num_classes"),
        InvalidCase("ignore_index float",
                    Case((_P, _T), {"num_classes": 3, "ignore_index": 255.0}), TypeError,
                    "ignore_index"),
    )


_LABEL_EDGES = (
    Case((_P, _T), {"num_classes": 3, "ignore_index": 255}, name="one ignored position"),
    Case((_P, _T), {"num_classes": 5, "ignore_index": 255},
         name="classes absent from both sides: NaN IoU"),
    Case((np.array([1, 1, 2]), np.array([0, 0, 0])), {"num_classes": 3},
         name="empty target classes"),
    Case((_P, np.full(6, 255)), {"num_classes": 3, "ignore_index": 255},
         name="all ignored: NaN everywhere"),
    Case((np.array([[2]]), np.array([[2]])), {"num_classes": 4}, name="single pixel"),
    Case((np.array([255, 1, 0]), np.array([1, 1, 0])), {"num_classes": 2, "ignore_index": 255},
         name="a prediction of ignore_index is a miss"),
    Case((np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])), {"num_classes": 2, "ignore_index": 0},
         name="ignore_index inside the class range"),
    Case((np.zeros(0, np.int64), np.zeros(0, np.int64)), {"num_classes": 2}, name="empty"),
)

INTERSECTION_AND_UNION = OpSpec(
    name="intersection_and_union",
    family="segmentation",
    impl=_impl.intersection_and_union,
    oracle=intersection_and_union_oracle,
    cases=lambda: _label_pair(ignore=True),
    signature="intersection_and_union(preds, target, /, *, num_classes, ignore_index=None)",
    doc=(
        "Per class c: I_c = #{p = t = c}, P_c = #{p = c}, T_c = #{t = c}, U_c = P_c + T_c - "
        "I_c over the positions whose target is not ignore_index (dropped from both sides); "
        "a prediction equal to an out-of-range ignore_index counts for the target only. "
        "Default integer dtype, shape (num_classes,). mmsegmentation's intersect_and_union."
    ),
    edge_cases=_LABEL_EDGES,
    invalid_cases=_label_invalid(),
    properties=(Property("chunks add up to the one-shot counts", _chunks_add_up),),
    natives=(
        Native("numpy", "numpy.bincount", _numpy_intersection_and_union,
               "boolean masking then one bincount per area, as mmsegmentation with histc"),
    ),
    capabilities=_METRIC,
)

MEAN_IOU = OpSpec(
    name="mean_iou",
    family="segmentation",
    impl=_impl.mean_iou,
    oracle=mean_iou_oracle,
    cases=lambda: _label_pair(ignore=True),
    signature="mean_iou(preds, target, /, *, num_classes, ignore_index=None)",
    doc=(
        "MeanIoU(per_class_iou = I_c / U_c (NaN where U_c = 0), miou = mean of the non-NaN "
        "classes (NaN if none), pixel_accuracy = sum I / sum T (NaN if nothing counted)); "
        "default float dtype. mmsegmentation's IoU and aAcc; per class scikit-learn's "
        "jaccard_score(average=None, zero_division=nan)."
    ),
    edge_cases=_LABEL_EDGES,
    invalid_cases=_label_invalid(),
    properties=(
        Property("label permutation", _iou_label_permutation),
        Property("equals mean_iou_from_confusion", _mean_iou_equals_confusion_form),
    ),
    natives=(
        Native("sklearn", "sklearn.metrics.jaccard_score", _sklearn_mean_iou,
               "(y_true, y_pred) order; average=None, zero_division=nan, labels=range(K)"),
    ),
    capabilities=_METRIC,
    outputs=lambda r: (r.per_class_iou, r.miou, r.pixel_accuracy),
)

_CM = np.array([[3, 1, 0], [0, 2, 0], [0, 0, 0]])
_CM_INVALID = (
    InvalidCase("not square", Case((np.ones((2, 3), np.int64),)), ValueError, "cm"),
    InvalidCase("one-dimensional", Case((np.ones(3, np.int64),)), ValueError, "cm"),
    InvalidCase("negative counts", Case((np.array([[1, -1], [0, 2]]),)), ValueError, "cm",
                needs_values=True),
    InvalidCase("bool matrix", Case((np.eye(2, dtype=bool),)), TypeError, "cm"),
)
_CM_EDGES = (
    Case((_CM,), name="class absent from both"),
    Case((np.zeros((3, 3), np.int64),), name="all zero"),
    Case((np.array([[7]]),), name="one class"),
    Case((np.array([[0, 4], [0, 0]]),), name="never right"),
    Case((np.array([[2.5, 0.5], [0.0, 1.0]]),), name="floating (weighted) counts"),
)

MEAN_IOU_FROM_CONFUSION = OpSpec(
    name="mean_iou_from_confusion",
    family="segmentation",
    impl=_impl.mean_iou_from_confusion,
    oracle=mean_iou_from_confusion_oracle,
    cases=lambda: _confusion_cases(zero_division=False),
    signature="mean_iou_from_confusion(cm, /)",
    doc=(
        "mean_iou from a (K, K) confusion matrix, rows = target, columns = prediction: "
        "I = diag, T = row sums, P = column sums. Float cm keeps its dtype; integer cm "
        "gives the default float."
    ),
    edge_cases=_CM_EDGES,
    invalid_cases=_CM_INVALID,
    properties=(Property("class permutation", _confusion_permutation),),
    natives=(
        Native("sklearn", "sklearn.metrics.jaccard_score", _sklearn_iou_from_confusion,
               "takes labels: the matrix is expanded into (target, pred) pairs"),
    ),
    capabilities=_METRIC,
    outputs=lambda r: (r.per_class_iou, r.miou, r.pixel_accuracy),
)

DICE_FROM_CONFUSION = OpSpec(
    name="dice_from_confusion",
    family="segmentation",
    impl=_impl.dice_from_confusion,
    oracle=dice_from_confusion_oracle,
    cases=lambda: _confusion_cases(zero_division=True),
    signature="dice_from_confusion(cm, /, *, zero_division=nan)",
    doc=(
        "Per class 2 cm_cc / (T_c + P_c) (rows = target, columns = prediction); a class "
        "absent from both scores zero_division."
    ),
    edge_cases=(*_CM_EDGES, Case((_CM,), {"zero_division": 1.0}, name="zero_division 1")),
    invalid_cases=(
        *_CM_INVALID,
        InvalidCase("zero_division 0.5", Case((_CM,), {"zero_division": 0.5}), ValueError,
                    "zero_division"),
    ),
    properties=(Property("class permutation", _confusion_permutation),),
    natives=(
        Native("sklearn", "sklearn.metrics.f1_score", _sklearn_dice_from_confusion,
               "takes labels: the matrix is expanded into (target, pred) pairs"),
    ),
    capabilities=_METRIC,
)

_IDX_P = np.array([[0, 1, 1, 2], [2, 2, 0, 0]])
_IDX_T = np.array([[0, 1, 2, 2], [0, 0, 0, 0]])
_ONEHOT_P = np.moveaxis(np.eye(3)[_IDX_P], -1, 1)
_ONEHOT_T = np.moveaxis(np.eye(3)[_IDX_T], -1, 1)
_K3 = {"num_classes": 3}

DICE_SCORE = OpSpec(
    name="dice_score",
    family="segmentation",
    impl=_impl.dice_score,
    oracle=dice_score_oracle,
    cases=_dice_score_cases,
    signature=(
        "dice_score(preds, target, /, *, num_classes=None, input_format='index', "
        "include_background=True, average='macro', aggregation='global', zero_division=nan, "
        "ignore_empty_target=False)"
    ),
    doc=(
        "D_c = 2 TP_c / (2 TP_c + FP_c + FN_c); zero_division where a class is absent from "
        "both; ignore_empty_target: NaN where T_c = 0. average macro / weighted (target "
        "support) / micro (summed counts) / None; NaN left out of means. global: counts over "
        "the batch; samplewise: per sample (axis 0), then the mean over samples. MONAI "
        "DiceMetric(ignore_empty=True) is ignore_empty_target=True; ignore_empty=False is "
        "zero_division=1.0; reduction 'mean' / 'mean_batch' is samplewise macro / None."
    ),
    edge_cases=(
        Case((_IDX_P, _IDX_T), {**_K3, "average": None}, name="index, per class"),
        Case((_IDX_P, _IDX_T), {**_K3, "aggregation": "samplewise", "average": None,
                                "ignore_empty_target": True}, name="empty target class"),
        Case((_IDX_P, _IDX_T), {"num_classes": 5, "average": None},
             name="classes absent from both: NaN"),
        Case((_IDX_P, _IDX_T), {"num_classes": 5, "zero_division": 1.0},
             name="absent classes score 1"),
        Case((_IDX_P, _IDX_T), {**_K3, "average": "weighted", "include_background": False},
             name="weighted without background"),
        Case((_ONEHOT_P, _ONEHOT_T), {"input_format": "one-hot", "average": "micro",
                                      "aggregation": "samplewise"}, name="one-hot micro"),
        Case((_ONEHOT_P.astype(bool), np.zeros((2, 3, 4), bool)),
             {"input_format": "one-hot", "ignore_empty_target": True},
             name="all targets empty: NaN"),
        Case((np.array([[1]]), np.array([[1]])), {"num_classes": 2, "average": None},
             name="single pixel"),
    ),
    invalid_cases=(
        InvalidCase("unknown average", Case((_IDX_P, _IDX_T), {**_K3, "average": "binary"}),
                    ValueError, "average"),
        InvalidCase("unknown aggregation",
                    Case((_IDX_P, _IDX_T), {**_K3, "aggregation": "batch"}), ValueError,
                    "aggregation"),
        InvalidCase("unknown input_format",
                    Case((_IDX_P, _IDX_T), {**_K3, "input_format": "onehot"}), ValueError,
                    "input_format"),
        InvalidCase("zero_division 2", Case((_IDX_P, _IDX_T), {**_K3, "zero_division": 2.0}),
                    ValueError, "zero_division"),
        InvalidCase("index without num_classes", Case((_IDX_P, _IDX_T)), ValueError,
                    "num_classes"),
        InvalidCase("labels out of range", Case((_IDX_P, _IDX_T), {"num_classes": 2}),
                    ValueError, "target", needs_values=True),
        InvalidCase("shape mismatch", Case((_IDX_P[:1], _IDX_T), _K3), ValueError, "target"),
        InvalidCase("float index labels", Case((_IDX_P * 1.0, _IDX_T), _K3), TypeError, "preds"),
        InvalidCase("one-hot not binary",
                    Case((_ONEHOT_P * 0.5, _ONEHOT_T), {"input_format": "one-hot"}),
                    ValueError, "preds", needs_values=True),
        InvalidCase("one-hot num_classes mismatch",
                    Case((_ONEHOT_P, _ONEHOT_T), {"input_format": "one-hot", "num_classes": 4}),
                    ValueError, "num_classes"),
        InvalidCase("no class left",
                    Case((_ONEHOT_P[:, :1], _ONEHOT_T[:, :1]),
                         {"input_format": "one-hot", "include_background": False}),
                    ValueError, "include_background"),
    ),
    properties=(
        Property("label permutation", _dice_label_permutation),
        Property("samplewise == global for one sample", _dice_samplewise_of_one_sample),
    ),
    natives=(
        # "monai", not "torch": the engine compares gradients with a backend's native,
        # and a metric has none
        Native("monai", "monai.metrics.DiceMetric", _monai_dice_metric,
               "samplewise only; reduction='mean' (macro) or 'mean_batch' (None); an empty "
               "target is NaN (ignore_empty=True) or 1 if the prediction is empty too; "
               "0 instead of NaN where every entry is NaN"),
        Native("torchmetrics", "torchmetrics.functional.segmentation.dice_score",
               _torchmetrics_dice_score,
               "aggregation_level='global' only (samplewise returns each sample's score); "
               "an absent class is NaN; num_classes required"),
    ),
    capabilities=_METRIC,
)

_LOSS_X = np.array([[[0.2, 0.9, 0.5], [0.8, 0.1, 0.5]], [[1.0, 0.0, 0.3], [0.0, 1.0, 0.7]]])
_LOSS_LABELS = np.array([[1, 0, 0], [0, 1, 1]])

DICE_LOSS = OpSpec(
    name="dice_loss",
    family="segmentation",
    impl=_loss_impl.dice_loss,
    oracle=dice_loss_oracle,
    cases=_dice_loss_cases,
    signature=(
        "dice_loss(inputs, target, /, *, activation=None, beta=1.0, smooth_nr=1e-5, "
        "smooth_dr=1e-5, squared=False, include_background=True, batch=False, weight=None, "
        "reduction='mean')"
    ),
    doc=(
        "p = activation(inputs) over channel axis 1; g = target (shape of inputs) or "
        "one-hot integer labels (N, *spatial). With k = 2 if squared else 1 and sums over "
        "the spatial axes (and the batch when batch=True): s_c = ((1 + b^2) sum(p g) + "
        "smooth_nr) / (sum(p^k) + b^2 sum(g^k) + smooth_dr), loss w_c (1 - s_c), then "
        "reduction over samples and channels ('none': (N, C') or (C',)). MONAI DiceLoss "
        "for beta = 1."
    ),
    edge_cases=(
        Case((_LOSS_X, _LOSS_LABELS), {"activation": "softmax"}, name="softmax, labels"),
        Case((_LOSS_X, _LOSS_LABELS), {"activation": "softmax", "include_background": False,
                                       "weight": np.array([2.0]), "reduction": "none"},
             name="no background, weight"),
        Case((_LOSS_X, _LOSS_LABELS), {"squared": True, "batch": True, "reduction": "none"},
             name="squared, batch"),
        Case((_LOSS_X[:, :1], _LOSS_LABELS), {"activation": "sigmoid"},
             name="one channel, binary labels"),
        Case((_LOSS_X, np.zeros((2, 2, 3))), {"smooth_nr": 0.0, "smooth_dr": 1.0},
             name="empty target"),
        Case((_LOSS_X[:, :, :1], _LOSS_LABELS[:, :1]), {"beta": 2.0, "reduction": "sum"},
             name="single pixel, beta 2"),
    ),
    invalid_cases=(
        InvalidCase("integer inputs", Case((np.ones((1, 2, 3), np.int64), _LOSS_LABELS[:1])),
                    TypeError, "inputs"),
        InvalidCase("inputs outside [0, 1]", Case((_LOSS_X * 3, _LOSS_LABELS)), ValueError,
                    "inputs", needs_values=True),
        InvalidCase("target outside [0, 1]", Case((_LOSS_X, _LOSS_X * 3)), ValueError,
                    "target", needs_values=True),
        InvalidCase("labels out of range", Case((_LOSS_X, _LOSS_LABELS + 1)), ValueError,
                    "target", needs_values=True),
        InvalidCase("beta 0", Case((_LOSS_X, _LOSS_LABELS), {"beta": 0.0}), ValueError, "beta"),
        InvalidCase("negative smooth", Case((_LOSS_X, _LOSS_LABELS), {"smooth_dr": -1.0}),
                    ValueError, "smooth_dr"),
        InvalidCase("unknown activation",
                    Case((_LOSS_X, _LOSS_LABELS), {"activation": "relu"}), ValueError,
                    "activation"),
        InvalidCase("unknown reduction",
                    Case((_LOSS_X, _LOSS_LABELS), {"reduction": "avg"}), ValueError,
                    "reduction"),
        InvalidCase("weight length",
                    Case((_LOSS_X, _LOSS_LABELS), {"weight": np.ones(3)}), ValueError, "weight"),
        InvalidCase("target shape", Case((_LOSS_X, _LOSS_LABELS[:, None])), ValueError,
                    "target"),
        InvalidCase("float label target", Case((_LOSS_X, _LOSS_LABELS * 1.0)), TypeError,
                    "target"),
        InvalidCase("softmax over one channel",
                    Case((_LOSS_X[:, :1], _LOSS_LABELS), {"activation": "softmax"}),
                    ValueError, "softmax"),
        InvalidCase("no spatial or channel axis", Case((np.full(3, 0.5), np.ones(3))),
                    ValueError, "inputs"),
    ),
    tolerance={"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)},
    properties=(
        Property("sum == sum(none)", _sum_is_sum_of_none),
        Property("channel permutation", _loss_channel_permutation),
    ),
    natives=(
        Native("torch", "monai.losses.DiceLoss", _monai_dice_loss,
               "beta = 1 only; labels need a channel axis and to_onehot_y; reduction='none' "
               "keeps singleton spatial axes; weight ignored for one channel; softmax and "
               "include_background=False ignored (with a warning) for one channel, where we "
               "raise"),
        Native("jax", "optax.losses.dice_loss", _optax_dice_loss,
               "channels last; Tversky alpha = 1/(1+b^2), beta = b^2/(1+b^2), smooth = "
               "smooth_nr/(1+b^2) (needs smooth_nr = smooth_dr); softmax (C > 1) or sigmoid "
               "(C = 1) only; no squared or batch"),
    ),
    capabilities=Capabilities(jit=True, differentiable=True),
)

SPECS = (
    INTERSECTION_AND_UNION,
    MEAN_IOU,
    MEAN_IOU_FROM_CONFUSION,
    DICE_FROM_CONFUSION,
    DICE_SCORE,
    DICE_LOSS,
)
