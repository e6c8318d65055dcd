"""Segmentation metrics and the soft Dice loss against MONAI, scikit-learn and NumPy.

References: MONAI ``DiceMetric`` / ``DiceLoss`` (values and autograd gradients),
scikit-learn ``jaccard_score`` / ``f1_score``, optax-free ``jax.grad`` of a jnp transcription
of the formula, and exact chunk accumulation of the additive statistics.

Documented differences from peers, tested as ours:
- MONAI ``DiceMetric`` returns 0 where every entry of a reduction is NaN; we return NaN.
- MONAI ``DiceLoss(reduction="none")`` keeps singleton spatial axes, ``(N, C, 1, ...)``
  (``(C, 1, ...)`` with ``batch=True``); we return ``(N, C')`` / ``(C',)``.
- MONAI ignores ``weight`` when one channel is kept, and ignores (with a warning)
  ``softmax=True`` and ``include_background=False`` on one channel; we apply the weight
  and raise for the other two.
- A prediction equal to an out-of-range ``ignore_index`` counts for the target only
  (mmsegmentation's rule), so ``mean_iou`` equals ``mean_iou_from_confusion`` only where
  no prediction is ``ignore_index`` at a counted position.
"""

from __future__ import annotations

import doctest
import itertools
import math

import numpy as np
import pytest

import xpops
from xpops.impl import segmentation, segmentation_loss

K = 4
SHAPE = (3, 5, 6)  # (N, H, W); small, so the Dask chunks stay few


def _labels(seed: int = 0, k: int = K, shape=SHAPE, agreement: float = 0.6):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, k, size=shape)
    target[0] = np.where(target[0] == k - 1, 0, target[0])  # class k-1 empty in sample 0
    noise = rng.integers(0, k, size=shape)
    preds = np.where(rng.random(shape) < agreement, target, noise)
    return preds, target


def _one_hot(labels: np.ndarray, k: int = K) -> np.ndarray:
    return np.moveaxis(np.eye(k)[labels], -1, 1)


def _confusion(preds, target, k=K, ignore_index=None):
    p, t = preds.ravel(), target.ravel()
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def _close(got, want, backend, **kw):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, equal_nan=True, **kw)


# ------------------------------------------------------------------------- docs


@pytest.mark.parametrize("module", [segmentation, segmentation_loss],
                         ids=["segmentation", "segmentation_loss"])
def test_docstring_examples(module):
    with np.errstate(all="ignore"):
        failures, tried = doctest.testmod(
            module, optionflags=doctest.NORMALIZE_WHITESPACE
        )
    assert tried > 0 and failures == 0


# ---------------------------------------------------------------------- IoU / mmseg


def test_mmsegmentation_example():
    """VOC-style: 255 is dropped from both sides; a prediction of 255 is a miss."""
    preds = np.array([[0, 1, 1], [2, 255, 0]])
    target = np.array([[0, 1, 2], [255, 1, 0]])
    inter, union, area_pred, area_target = xpops.intersection_and_union(
        preds, target, num_classes=3, ignore_index=255
    )
    np.testing.assert_array_equal(inter, [2, 1, 0])
    np.testing.assert_array_equal(area_pred, [2, 2, 0])  # 2 at an ignored position: gone
    np.testing.assert_array_equal(area_target, [2, 2, 1])
    np.testing.assert_array_equal(union, [2, 3, 1])
    r = xpops.mean_iou(preds, target, num_classes=3, ignore_index=255)
    np.testing.assert_allclose(r.per_class_iou, [1.0, 1 / 3, 0.0])
    np.testing.assert_allclose(r.miou, 4 / 9)
    np.testing.assert_allclose(r.pixel_accuracy, 3 / 5)


@pytest.mark.parametrize("ignore_index", [None, 255, 0])
def test_per_class_iou_matches_sklearn_jaccard(backend, ignore_index):
    from sklearn.metrics import accuracy_score, jaccard_score

    preds, target = _labels(1, k=6)
    if ignore_index is not None:
        target = np.where(np.random.default_rng(3).random(SHAPE) < 0.2, ignore_index, target)
    keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
    t, p = target[keep], preds[keep]
    # jaccard_score's zero_division is 0 or 1 only: NaN marks the empty unions here
    want = jaccard_score(t, p, labels=list(range(6)), average=None, zero_division=0)
    want[[not (np.any(t == c) or np.any(p == c)) for c in range(6)]] = np.nan
    r = xpops.mean_iou(backend.asarray(preds), backend.asarray(target), num_classes=6,
                       ignore_index=ignore_index)
    assert backend.same_device(r.per_class_iou) and tuple(r.miou.shape) == ()
    _close(backend.to_numpy(r.per_class_iou), want, backend, rtol=1e-6)
    _close(backend.to_numpy(r.miou), np.nanmean(want), backend, rtol=1e-6)
    _close(backend.to_numpy(r.pixel_accuracy), accuracy_score(t, p), backend, rtol=1e-6)


def test_mean_iou_float_dtype_is_the_default_float(backend):
    preds, target = _labels(2)
    r = xpops.mean_iou(backend.asarray(preds), backend.asarray(target), num_classes=K)
    want = {"torch": "float32"}.get(backend.library, backend.float_dtypes[-1])
    if backend.name == "array_api_strict:no_x64" or backend.name == "jax:cpu":
        want = "float32"
    for out in (r.per_class_iou, r.miou, r.pixel_accuracy):
        assert backend.dtype_name(out) == want


def test_outputs_stay_on_device1(device1):
    preds, target = _labels(3)
    p, t = device1.asarray(preds), device1.asarray(target)
    r = xpops.mean_iou(p, t, num_classes=K)
    outs = [*xpops.intersection_and_union(p, t, num_classes=K), r.per_class_iou, r.miou,
            xpops.dice_score(p, t, num_classes=K)]
    assert all(device1.same_device(o) for o in outs)


# ------------------------------------------------------------------ chunk accumulation


def test_chunked_statistics_equal_the_one_shot_result(backend):
    """Summing intersection_and_union and confusion matrices over chunks is exact."""
    preds, target = _labels(4, k=5, shape=(6, 7, 9))
    target[1, :3] = 255
    chunks = [slice(0, 1), slice(1, 4), slice(4, 6)]
    one_shot = xpops.intersection_and_union(
        backend.asarray(preds), backend.asarray(target), num_classes=5, ignore_index=255
    )
    summed = [np.zeros(5, np.int64) for _ in range(4)]
    cm = np.zeros((5, 5), np.int64)
    for s in chunks:
        part = xpops.intersection_and_union(
            backend.asarray(preds[s]), backend.asarray(target[s]), num_classes=5,
            ignore_index=255,
        )
        summed = [a + backend.to_numpy(b) for a, b in zip(summed, part, strict=True)]
        cm += _confusion(preds[s], target[s], 5, 255)
    for a, b in zip(summed, one_shot, strict=True):
        np.testing.assert_array_equal(a, backend.to_numpy(b))
    whole = xpops.mean_iou(backend.asarray(preds), backend.asarray(target), num_classes=5,
                           ignore_index=255)
    from_cm = xpops.mean_iou_from_confusion(backend.asarray(cm))
    for a, b in zip((whole.per_class_iou, whole.miou, whole.pixel_accuracy),
                    (from_cm.per_class_iou, from_cm.miou, from_cm.pixel_accuracy), strict=True):
        # the same counts; Dask may sum the per-class floats in another order (1 ulp)
        np.testing.assert_allclose(backend.to_numpy(a), backend.to_numpy(b), rtol=1e-6)
    ok = target != 255  # dice_score has no ignore_index: compare on the kept positions
    dice = xpops.dice_score(backend.asarray(preds[ok][None]), backend.asarray(target[ok][None]),
                            num_classes=5, average=None)
    np.testing.assert_allclose(
        backend.to_numpy(xpops.dice_from_confusion(backend.asarray(cm))),
        backend.to_numpy(dice), rtol=1e-6,
    )


def test_confusion_matrix_orientation_matches_sklearn():
    from sklearn.metrics import confusion_matrix, f1_score

    preds, target = _labels(5)
    cm = _confusion(preds, target)
    np.testing.assert_array_equal(cm, confusion_matrix(target.ravel(), preds.ravel()))
    np.testing.assert_allclose(
        xpops.dice_from_confusion(cm),
        f1_score(target.ravel(), preds.ravel(), average=None), rtol=1e-12,
    )


# --------------------------------------------------------------- dice_score vs peers


@pytest.mark.parametrize("zero_division", [math.nan, 0.0, 1.0])
@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
def test_global_dice_score_matches_sklearn_f1(average, zero_division):
    """Global index Dice is scikit-learn's F1 over all positions, labels=range(K)."""
    from sklearn.metrics import f1_score

    preds, target = _labels(6, k=6)
    target = target % 4  # classes 4 and 5 absent from the target; 5 predicted sometimes
    preds = np.where(preds == 4, 3, preds)  # class 4 absent from both
    want = f1_score(target.ravel(), preds.ravel(), labels=list(range(6)), average=average,
                    zero_division=zero_division)
    got = xpops.dice_score(preds, target, num_classes=6, average=average,
                           zero_division=zero_division)
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


def _monai_dice(preds_1h, target_1h, include_background, ignore_empty, reduction):
    torch = pytest.importorskip("torch")
    pytest.importorskip("monai")
    from monai.metrics import DiceMetric

    metric = DiceMetric(include_background=include_background, ignore_empty=ignore_empty,
                        reduction=reduction)
    metric(torch.asarray(preds_1h), torch.asarray(target_1h))
    return metric.aggregate().double().numpy()


MONAI_METRIC_GRID = list(itertools.product(
    (True, False), (True, False), ("mean", "mean_batch"), ("one-hot", "index")
))


@pytest.mark.parametrize(("include_background", "ignore_empty", "reduction", "fmt"),
                         MONAI_METRIC_GRID)
def test_dice_score_matches_monai_dice_metric(include_background, ignore_empty, reduction,
                                              fmt):
    """samplewise macro / None == DiceMetric reduction mean / mean_batch."""
    preds, target = _labels(7)
    want = _monai_dice(_one_hot(preds), _one_hot(target), include_background, ignore_empty,
                       reduction)
    args = (_one_hot(preds), _one_hot(target)) if fmt == "one-hot" else (preds, target)
    got = xpops.dice_score(
        *args, num_classes=K, input_format=fmt, include_background=include_background,
        average="macro" if reduction == "mean" else None, aggregation="samplewise",
        zero_division=1.0, ignore_empty_target=ignore_empty,
    )
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("ignore_empty", [True, False])
def test_global_dice_is_monai_on_the_batch_as_one_sample(ignore_empty):
    preds, target = _labels(8)
    merged = [np.moveaxis(_one_hot(x), 0, 1).reshape(1, K, -1) for x in (preds, target)]
    want = _monai_dice(*merged, True, ignore_empty, "mean_batch")
    got = xpops.dice_score(preds, target, num_classes=K, average=None,
                           zero_division=1.0, ignore_empty_target=ignore_empty)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_dice_score_on_every_backend_matches_numpy(backend):
    preds, target = _labels(9)
    p1, t1 = _one_hot(preds).astype(bool), _one_hot(target).astype(bool)
    for kwargs in (
        {"average": None, "aggregation": "samplewise", "ignore_empty_target": True},
        {"average": "weighted", "include_background": False, "zero_division": 0.0},
        {"average": "micro", "aggregation": "samplewise"},
    ):
        want = xpops.dice_score(preds, target, num_classes=K, **kwargs)
        got = xpops.dice_score(backend.asarray(preds), backend.asarray(target),
                               num_classes=K, **kwargs)
        got_1h = xpops.dice_score(backend.asarray(p1), backend.asarray(t1),
                                  input_format="one-hot", **kwargs)
        for g in (got, got_1h):
            assert backend.same_device(g)
            _close(backend.to_numpy(g), want, backend, rtol=1e-6)


def test_all_empty_is_nan_where_monai_gives_zero():
    target = np.zeros((2, 1, 5), bool)
    got = xpops.dice_score(target, target, input_format="one-hot", aggregation="samplewise",
                           ignore_empty_target=True)
    assert np.isnan(got)
    assert _monai_dice(target, target, True, True, "mean") == 0.0


# ------------------------------------------------------------------ dice_loss vs MONAI


def _loss_case(seed=0, n=2, c=3, spatial=(4, 5)):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(n, c, *spatial))
    labels = rng.integers(0, c, size=(n, *spatial))
    labels[0, 0] = 0  # keep every class possible but leave room for an empty one
    return logits, labels


def _monai_tol(squared: bool) -> dict:
    """MONAI 1.6 computes the squared form from vector norms of its float32 one-hot
    target: exact in value, but rounded to float32 there."""
    return {"rtol": 1e-6, "atol": 1e-7} if squared else {"rtol": 1e-10, "atol": 1e-12}


LOSS_GRID = list(itertools.product(
    ("softmax", "sigmoid", None), (True, False), (False, True), (False, True),
    ("mean", "sum", "none"),
))


def _monai_loss(torch, x, target, act, include_background, squared, batch, reduction,
                weight=None, smooth=(1e-5, 1e-5), labels=True):
    from monai.losses import DiceLoss

    fn = DiceLoss(include_background=include_background, to_onehot_y=labels,
                  softmax=act == "softmax", sigmoid=act == "sigmoid", squared_pred=squared,
                  batch=batch, reduction=reduction, weight=weight,
                  smooth_nr=smooth[0], smooth_dr=smooth[1])
    return fn(x, target[:, None] if labels else target)


@pytest.mark.parametrize(("act", "include_background", "squared", "batch", "reduction"),
                         LOSS_GRID)
def test_dice_loss_matches_monai(act, include_background, squared, batch, reduction):
    torch = pytest.importorskip("torch")
    pytest.importorskip("monai")
    logits, labels = _loss_case()
    x_np = logits if act else 1 / (1 + np.exp(-logits))
    x, t = torch.asarray(x_np), torch.asarray(labels)
    kept = 3 if include_background else 2
    weight = torch.asarray([0.5, 2.0, 1.0][:kept], dtype=torch.float64)
    for w in (None, weight):
        want = _monai_loss(torch, x, t, act, include_background, squared, batch, reduction, w)
        got = xpops.dice_loss(x, t, activation=act, include_background=include_background,
                              squared=squared, batch=batch, weight=w, reduction=reduction)
        if reduction == "none":  # MONAI: (N, C, 1, 1) or (C, 1, 1); ours (N, C) or (C,)
            assert tuple(want.shape) == ((kept,) if batch else (2, kept)) + (1, 1)
            want = want.reshape(got.shape)
        assert got.dtype == torch.float64
        np.testing.assert_allclose(got.numpy(), want.numpy(), **_monai_tol(squared))


def test_dice_loss_one_hot_and_probability_targets_match_monai():
    torch = pytest.importorskip("torch")
    pytest.importorskip("monai")
    logits, labels = _loss_case(1)
    x = torch.asarray(logits)
    for target in (_one_hot(labels, 3), np.random.default_rng(2).random(logits.shape)):
        t = torch.asarray(target)
        want = _monai_loss(torch, x, t, "softmax", True, False, False, "mean",
                           smooth=(0.3, 2.0), labels=False)
        got = xpops.dice_loss(x, t, activation="softmax", smooth_nr=0.3, smooth_dr=2.0)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_dice_loss_on_every_backend_matches_numpy(backend):
    logits, labels = _loss_case(3)
    want = xpops.dice_loss(logits, labels, activation="softmax", beta=2.0,
                           weight=np.array([1.0, 0.5, 2.0]), reduction="none")
    for dt in backend.float_dtypes:
        x = backend.asarray(logits, dt)
        got = xpops.dice_loss(x, backend.asarray(labels), activation="softmax", beta=2.0,
                              weight=backend.asarray(np.array([1.0, 0.5, 2.0]), dt),
                              reduction="none")
        assert backend.dtype_name(got) == dt and backend.same_device(got)
        _close(backend.to_numpy(got), want, backend, rtol=1e-5 if dt == "float32" else 1e-12)


@pytest.mark.parametrize(("act", "squared", "batch", "include_background"), [
    ("softmax", False, False, True), ("sigmoid", True, False, False),
    (None, False, True, True), ("softmax", True, True, False),
])
def test_dice_loss_gradients_match_monai_autograd(act, squared, batch, include_background):
    torch = pytest.importorskip("torch")
    pytest.importorskip("monai")
    logits, labels = _loss_case(4)
    x_np = logits if act else 1 / (1 + np.exp(-logits))
    t = torch.asarray(labels)
    grads = []
    for fn in ("monai", "xpops"):
        x = torch.asarray(x_np).requires_grad_(True)
        if fn == "monai":
            loss = _monai_loss(torch, x, t, act, include_background, squared, batch, "sum")
        else:
            loss = xpops.dice_loss(x, t, activation=act, squared=squared, batch=batch,
                                   include_background=include_background, reduction="sum")
        (g,) = torch.autograd.grad(loss, x)
        grads.append(g.numpy())
    tol = _monai_tol(squared)
    np.testing.assert_allclose(grads[1], grads[0], rtol=tol["rtol"] * 10, atol=tol["atol"])


def _jnp_dice_loss(jnp, x, labels, squared, beta):
    """The formula in jnp: softmax over axis 1, one-hot labels, spatial sums."""
    p = jnp.exp(x - x.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    g = (labels[:, None] == jnp.arange(x.shape[1])[None, :, None, None]).astype(x.dtype)
    k = 2 if squared else 1
    b2 = beta * beta
    inter = (p * g).sum(axis=(2, 3))
    score = ((1 + b2) * inter + 1e-5) / ((p**k).sum(axis=(2, 3)) + b2 * (g**k).sum(axis=(2, 3))
                                          + 1e-5)
    return jnp.mean(1 - score)


def test_dice_loss_jax_grad_and_jit():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    from xpops.conformance.backends import jax_x64

    logits, labels = _loss_case(5)
    with jax_x64():
        x, t = jnp.asarray(logits), jnp.asarray(labels)
        for squared, beta in ((False, 1.0), (True, 0.5)):
            def ours(v, squared=squared, beta=beta):
                return xpops.dice_loss(v, t, activation="softmax", squared=squared, beta=beta)

            def ref(v, squared=squared, beta=beta):
                return _jnp_dice_loss(jnp, v, t, squared, beta)

            np.testing.assert_allclose(ours(x), ref(x), rtol=1e-12)
            np.testing.assert_allclose(jax.grad(ours)(x), jax.grad(ref)(x), rtol=1e-9,
                                       atol=1e-14)
            np.testing.assert_allclose(jax.jit(ours)(x), ref(x), rtol=1e-12)


def test_metrics_under_jax_jit():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    preds, target = _labels(10)
    p, t = jnp.asarray(preds), jnp.asarray(target)
    want = xpops.mean_iou(preds, target, num_classes=K, ignore_index=3)
    def fields(a, b):  # MeanIoU is not a pytree: return its arrays from a jitted function
        r = xpops.mean_iou(a, b, num_classes=K, ignore_index=3)
        return r.per_class_iou, r.miou, r.pixel_accuracy

    got = jax.jit(fields)(p, t)
    for g, w in zip(got, (want.per_class_iou, want.miou, want.pixel_accuracy), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6)
    dice = jax.jit(lambda a, b: xpops.dice_score(a, b, num_classes=K, average=None,
                                                 aggregation="samplewise"))(p, t)
    np.testing.assert_allclose(
        dice, xpops.dice_score(preds, target, num_classes=K, average=None,
                               aggregation="samplewise"), rtol=1e-6)


# ----------------------------------------------------------------------- bad input


_P = np.array([[0, 1, 2, 1]])
_X = np.full((1, 2, 4), 0.5)
BAD = [
    ("intersection_and_union", (_P, _P[:, :3]), {"num_classes": 3}, ValueError, "shape", False),
    ("intersection_and_union", (_P, _P + 1), {"num_classes": 3}, ValueError,
     "`target` holds labels outside [0, 3): first bad value 3 at index (0, 2)", True),
    ("intersection_and_union", (_P, _P * 1.0), {"num_classes": 3}, TypeError, "target", False),
    ("mean_iou", (_P, _P), {"num_classes": -2}, ValueError, "num_classes", False),
    ("mean_iou", (_P - 1, _P), {"num_classes": 3, "ignore_index": 255}, ValueError, "preds",
     True),
    ("mean_iou_from_confusion", (np.ones((2, 3), np.int64),), {}, ValueError, "(2, 3)", False),
    ("dice_from_confusion", (np.eye(2, dtype=np.int64),), {"zero_division": "warn"}, ValueError,
     "zero_division", False),
    ("dice_score", (_P, _P), {"num_classes": 3, "average": "samples"}, ValueError, "average",
     False),
    ("dice_score", (_P, _P), {"num_classes": 3, "zero_division": 0.5}, ValueError,
     "zero_division", False),
    ("dice_score", (_P, _P), {}, ValueError, "num_classes", False),
    ("dice_score", (_X * 3, _X * 0), {"input_format": "one-hot"}, ValueError, "preds", True),
    ("dice_loss", (_X * 3, _P[:, :4] % 2), {}, ValueError, "inputs", True),
    ("dice_loss", (_X, _P[:, :4] + 1), {}, ValueError, "target", True),
    ("dice_loss", (_X, _P[:, :4] % 2), {"beta": -1.0}, ValueError, "beta", False),
    ("dice_loss", (_X, _P[:, :4] % 2), {"weight": np.ones(3)}, ValueError, "(2,)", False),
    ("dice_loss", (_X, _P[:, :4] % 2), {"weight": -np.ones(2)}, ValueError, "weight", True),
    ("dice_loss", (_X, np.ones((1, 3, 4))), {}, ValueError, "target.shape", False),
]


@pytest.mark.parametrize(("op", "args", "kwargs", "exc", "match", "values"), BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_raises(backend, op, args, kwargs, exc, match, values):
    if values and backend.library == "dask":
        pytest.skip("value checks are deferred on Dask by design")
    dt = backend.float_dtypes[-1]

    def conv(v):
        if isinstance(v, np.ndarray):
            return backend.asarray(v, dt if v.dtype.kind == "f" else None)
        return v

    with pytest.raises(exc, match=match.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        getattr(xpops, op)(*(conv(a) for a in args), **{k: conv(v) for k, v in kwargs.items()})


def test_value_checks_are_skipped_under_jit():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    x = jnp.asarray(_X * 3)  # outside [0, 1]: not checkable on a tracer
    out = jax.jit(lambda v: xpops.dice_loss(v, jnp.asarray(_P[:, :4] % 2)))(x)
    assert np.isfinite(out)


def test_mean_iou_result_is_returned_through_jax_jit_and_vmap():
    """MeanIoU is a JAX pytree, so jax.jit and jax.vmap of mean_iou can return it."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    preds = jnp.asarray([[0, 1, 2, 1], [1, 1, 0, 2]])
    target = jnp.asarray([[0, 1, 1, 1], [1, 0, 0, 2]])

    def run(p, t):
        return xpops.mean_iou(p, t, num_classes=3)

    jitted = jax.jit(run)(preds[0], target[0])
    eager = run(preds[0], target[0])
    assert isinstance(jitted, xpops.MeanIoU)
    for field in ("per_class_iou", "miou", "pixel_accuracy"):
        np.testing.assert_allclose(np.asarray(getattr(jitted, field)),
                                   np.asarray(getattr(eager, field)), rtol=1e-6)
    batched = jax.vmap(run)(preds, target)
    assert batched.per_class_iou.shape == (2, 3)
    np.testing.assert_allclose(np.asarray(batched.miou),
                               [float(run(preds[i], target[i]).miou) for i in range(2)],
                               rtol=1e-6)
