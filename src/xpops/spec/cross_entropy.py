"""Specs of the cross-entropy losses."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import impl
from ._base import Case, InvalidCase, Native, OpSpec, Property, Unsupported, reduce_like_torch
from ._strategies import float_arrays, shapes

# --------------------------------------------------------------------------- oracles


def _log_softmax_rows(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=-1, keepdims=True) if x.shape[-1] else 0.0
    shifted = x - m
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _ratio(num: float, den: float) -> float:
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.float64(num) / np.float64(den))


def cross_entropy_oracle(
    logits, target, axis=-1, weight=None, ignore_index=None, label_smoothing=0.0,
    reduction="mean",
):
    """torch.nn.functional.cross_entropy's definition, one sample at a time."""
    logits = np.asarray(logits, dtype=np.float64)
    num_classes = logits.shape[axis]
    rows = np.moveaxis(logits, axis, -1)
    batch_shape = rows.shape[:-1]
    logp = _log_softmax_rows(rows.reshape(-1, num_classes))
    w = np.ones(num_classes) if weight is None else np.asarray(weight, dtype=np.float64)
    eps = label_smoothing
    target = np.asarray(target)
    if target.dtype.kind in "iu":
        t = target.reshape(-1)
        losses = np.zeros(t.size)
        weight_sum = 0.0
        for i, ti in enumerate(t):
            if ignore_index is not None and ti == ignore_index:
                continue
            nll = -logp[i, ti]
            smooth = -np.sum(w * logp[i])
            losses[i] = (1 - eps) * w[ti] * nll + eps / num_classes * smooth
            weight_sum += w[ti]
        if reduction == "none":
            return losses.reshape(batch_shape)
        if reduction == "sum":
            return np.float64(losses.sum())
        return np.float64(_ratio(losses.sum(), weight_sum))
    p = np.moveaxis(np.asarray(target, dtype=np.float64), axis, -1).reshape(-1, num_classes)
    p = p * (1 - eps) + eps / num_classes
    losses = np.array([-np.sum(logp[i] * p[i] * w) for i in range(p.shape[0])])
    if reduction == "none":
        return losses.reshape(batch_shape)
    if reduction == "sum":
        return np.float64(losses.sum())
    return np.float64(_ratio(losses.sum(), losses.size))


def _reduce(loss: np.ndarray, reduction: str):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.float64(loss.sum())
    return np.float64(_ratio(loss.sum(), loss.size))


def binary_cross_entropy_oracle(probs, target, weight=None, reduction="mean"):
    p = np.asarray(probs, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_1mp = np.maximum(np.log1p(-p), -100.0)
    loss = -(t * log_p + (1 - t) * log_1mp)
    if weight is not None:
        loss = np.asarray(weight, dtype=np.float64) * loss
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits_oracle(
    logits, target, weight=None, pos_weight=None, reduction="mean"
):
    """-w [q t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], logs via logaddexp."""
    x = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    q = 1.0 if pos_weight is None else np.asarray(pos_weight, dtype=np.float64)
    log_sig = -np.logaddexp(0.0, -x)
    log_one_minus_sig = -np.logaddexp(0.0, x)
    with np.errstate(invalid="ignore"):  # 0 * -inf where t is exactly 0 or 1
        pos = np.where(t == 0, 0.0, q * t * log_sig)
        neg = np.where(t == 1, 0.0, (1 - t) * log_one_minus_sig)
    loss = -(pos + neg)
    if weight is not None:
        loss = np.asarray(weight, dtype=np.float64) * loss
    return _reduce(loss, reduction)


# ------------------------------------------------------------------------ strategies

_REDUCTIONS = st.sampled_from(["none", "mean", "sum"])


@st.composite
def _cross_entropy_cases(draw: Any) -> Case:
    batch = draw(shapes(min_dims=0, max_dims=2))
    num_classes = draw(st.one_of(st.integers(1, 6), st.integers(17, 30)))
    axis = draw(st.integers(0, len(batch)))
    shape = batch[:axis] + (num_classes,) + batch[axis:]
    logits = draw(float_arrays(shape, huge=1e3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kwargs: dict[str, Any] = {
        "axis": draw(st.sampled_from([axis, axis - len(shape)])),
        "reduction": draw(_REDUCTIONS),
        "label_smoothing": draw(st.sampled_from([0.0, 0.1, 0.5, 1.0])),
    }
    if draw(st.booleans()):
        kwargs["weight"] = rng.uniform(0.1, 3.0, size=num_classes)
    if draw(st.booleans()):  # class-index targets
        target = rng.integers(0, num_classes, size=batch)
        if draw(st.booleans()):
            ignore = draw(st.sampled_from([-100, 0, num_classes - 1]))
            kwargs["ignore_index"] = ignore
            if ignore == -100 and target.size:
                target[rng.random(target.shape) < 0.3] = -100
    else:  # class probabilities, on the simplex
        target = rng.dirichlet(np.ones(num_classes), size=batch)
        target = np.moveaxis(target, -1, axis)
    return Case((logits, target), kwargs)


@st.composite
def _binary_cases(draw: Any, *, logits: bool) -> Case:
    shape = draw(shapes(min_dims=0, max_dims=3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if logits:
        x = draw(float_arrays(shape, huge=1e3))
    else:
        x = np.asarray(rng.random(shape))
        if x.size and draw(st.booleans()):  # exact 0 and 1 exercise the -100 clamp
            x[rng.random(x.shape) < 0.3] = draw(st.sampled_from([0.0, 1.0]))
    hard = draw(st.booleans())
    target = np.asarray(rng.random(shape))
    if hard:
        target = (target < 0.5).astype(np.float64)
    kwargs: dict[str, Any] = {"reduction": draw(_REDUCTIONS)}
    if draw(st.booleans()):
        wshape = shape[-1:] if shape and draw(st.booleans()) else shape
        kwargs["weight"] = rng.uniform(0.1, 3.0, size=wshape)
    if logits and shape and draw(st.booleans()):
        kwargs["pos_weight"] = rng.uniform(0.1, 5.0, size=shape[-1:])
    return Case((x, target), kwargs)


# ------------------------------------------------------------------------ properties


def _sum_is_sum_of_none(run, case):
    summed = run(case.with_args(*case.args, reduction="sum"))
    unreduced = run(case.with_args(*case.args, reduction="none"))
    return [(summed, np.sum(unreduced))]


def _class_permutation_invariance(run, case):
    """Relabelling classes (permuting logits, weights and targets alike) changes nothing."""
    logits, target = case.args
    axis = case.kwargs.get("axis", -1)
    num_classes = logits.shape[axis]
    ignore = case.kwargs.get("ignore_index")
    if num_classes < 2 or ignore is not None:
        return []
    perm = np.roll(np.arange(num_classes), 1)
    inverse = np.argsort(perm)
    kwargs = {}
    if case.kwargs.get("weight") is not None:
        kwargs["weight"] = case.kwargs["weight"][perm]
    if target.dtype.kind in "iu":
        new_target = inverse[target]
    else:
        new_target = np.take(target, perm, axis=axis)
    permuted = case.with_args(np.take(logits, perm, axis=axis), new_target, **kwargs)
    return [(run(permuted), run(case))]


def _bce_symmetry(run, case):
    """bce(p, t) == bce(1 - p, 1 - t)."""
    p, t = case.args
    return [(run(case.with_args(1.0 - p, 1.0 - t)), run(case))]


def _bce_logits_symmetry(run, case):
    """bce_logits(x, t) == bce_logits(-x, 1 - t) without pos_weight."""
    if case.kwargs.get("pos_weight") is not None:
        return []
    x, t = case.args
    return [(run(case.with_args(-x, 1.0 - t)), run(case))]


# --------------------------------------------------------------------------- natives


def _torch_cross_entropy():
    import torch
    import torch.nn.functional as F

    def native(logits, target, /, *, axis=-1, weight=None, ignore_index=None,
               label_smoothing=0.0, reduction="mean"):
        if logits.ndim > 1:
            logits = torch.movedim(logits, axis, 1)
            if target.is_floating_point():
                target = torch.movedim(target, axis, 1)
        return F.cross_entropy(
            logits, target, weight=weight,
            ignore_index=-100 if ignore_index is None else ignore_index,
            label_smoothing=label_smoothing, reduction=reduction,
        )

    return native


def _optax_cross_entropy():
    import jax.numpy as jnp
    import optax

    def native(logits, target, /, *, axis=-1, weight=None, ignore_index=None,
               label_smoothing=0.0, reduction="mean"):
        if weight is not None or ignore_index is not None or label_smoothing:
            raise Unsupported("weight, ignore_index and label_smoothing")
        if jnp.issubdtype(target.dtype, jnp.integer):
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, target, axis=axis)
        else:
            loss = optax.softmax_cross_entropy(logits, target, axis=axis)
        return reduce_like_torch(jnp, loss, reduction)

    return native


def _torch_bce():
    import torch.nn.functional as F

    def native(probs, target, /, *, weight=None, reduction="mean"):
        return F.binary_cross_entropy(probs, target, weight=weight, reduction=reduction)

    return native


def _torch_bce_logits():
    import torch.nn.functional as F

    def native(logits, target, /, *, weight=None, pos_weight=None, reduction="mean"):
        return F.binary_cross_entropy_with_logits(
            logits, target, weight=weight, pos_weight=pos_weight, reduction=reduction
        )

    return native


def _optax_bce_logits():
    import jax.numpy as jnp
    import optax

    def native(logits, target, /, *, weight=None, pos_weight=None, reduction="mean"):
        if pos_weight is not None:
            raise Unsupported("pos_weight")
        loss = optax.sigmoid_binary_cross_entropy(logits, target)
        if weight is not None:
            loss = weight * loss
        return reduce_like_torch(jnp, loss, reduction)

    return native


# ----------------------------------------------------------------------------- specs

_LOGITS = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])

CROSS_ENTROPY = OpSpec(
    name="cross_entropy",
    family="cross_entropy",
    impl=impl.cross_entropy.cross_entropy,
    oracle=cross_entropy_oracle,
    cases=_cross_entropy_cases,
    signature=(
        "cross_entropy(logits, target, /, *, axis=-1, weight=None, ignore_index=None, "
        "label_smoothing=0.0, reduction='mean')"
    ),
    doc=(
        "Index targets: l_i = (1-e) w_t (-log p_t) + e/C sum_c w_c (-log p_c); 'mean' "
        "divides by the summed weights of non-ignored targets (NaN when all are ignored); "
        "ignored samples are 0 under 'none'. Probability targets (floating, shape of "
        "logits): t <- (1-e) t + e/C, l_i = -sum_c w_c t_c log p_c; 'mean' divides by the "
        "number of samples. Equals torch.nn.functional.cross_entropy with the class axis "
        "at `axis`."
    ),
    edge_cases=(
        Case((_LOGITS, np.array([0, 2])), {"ignore_index": 0}, name="one ignored"),
        Case((_LOGITS, np.array([1, 1])), {"ignore_index": 1}, name="all ignored: NaN mean"),
        Case((_LOGITS, np.array([1, 1])), {"ignore_index": 1, "reduction": "none"},
             name="all ignored: zeros"),
        Case((np.array([[1e4, -1e4, 0.0]]), np.array([1])), name="huge logits"),
        Case((np.zeros((0, 3)), np.zeros((0,), dtype=np.int64)), name="empty batch"),
        Case((np.array([0.5, 1.5, -1.0]), np.array(2)), name="no batch dimension"),
        Case((_LOGITS, np.array([0, 2])),
             {"weight": np.array([1.0, 2.0, 3.0]), "label_smoothing": 0.3},
             name="weight and label smoothing"),
        Case((_LOGITS, np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])),
             {"label_smoothing": 0.2, "reduction": "sum"}, name="probability targets"),
        Case((np.arange(24.0).reshape(2, 3, 4) / 7, np.array([[0, 1, 2, 0], [2, 2, 1, 0]])),
             {"axis": 1}, name="class axis 1 with a spatial dim"),
    ),
    invalid_cases=(
        InvalidCase("integer logits", Case((np.arange(6).reshape(2, 3), np.array([0, 1]))),
                    TypeError, "logits"),
        InvalidCase("target out of range", Case((_LOGITS, np.array([0, 3]))), ValueError,
                    "target", needs_values=True),
        InvalidCase("negative target", Case((_LOGITS, np.array([-1, 0]))), ValueError, "target",
                    needs_values=True),
        InvalidCase("negative int8 target", Case((_LOGITS, np.array([-1, 0], np.int8))),
                    ValueError, "target", needs_values=True),
        InvalidCase("index target shape", Case((_LOGITS, np.array([0, 1, 2]))), ValueError,
                    "target"),
        InvalidCase("probability target shape", Case((_LOGITS, np.full((2, 2), 0.5))),
                    ValueError, "target"),
        InvalidCase("label_smoothing above 1",
                    Case((_LOGITS, np.array([0, 1])), {"label_smoothing": 1.5}), ValueError,
                    "label_smoothing"),
        InvalidCase("label_smoothing below 0",
                    Case((_LOGITS, np.array([0, 1])), {"label_smoothing": -0.1}), ValueError,
                    "label_smoothing"),
        InvalidCase("unknown reduction",
                    Case((_LOGITS, np.array([0, 1])), {"reduction": "avg"}), ValueError,
                    "reduction"),
        InvalidCase("weight length",
                    Case((_LOGITS, np.array([0, 1])), {"weight": np.ones(2)}), ValueError,
                    "weight"),
        InvalidCase("ignore_index with probabilities",
                    Case((_LOGITS, np.full((2, 3), 1 / 3)), {"ignore_index": 0}), ValueError,
                    "ignore_index"),
        InvalidCase("boolean target", Case((_LOGITS, np.array([True, False]))), TypeError,
                    "target"),
    ),
    tolerance={"float32": (5e-5, 5e-5), "float64": (1e-11, 1e-12)},
    properties=(
        Property("sum == sum(none)", _sum_is_sum_of_none),
        Property("class relabelling invariance", _class_permutation_invariance),
    ),
    natives=(
        Native("torch", "torch.nn.functional.cross_entropy", _torch_cross_entropy,
               "class axis fixed at 1; ignore_index default -100"),
        Native("jax", "optax.softmax_cross_entropy_with_integer_labels", _optax_cross_entropy,
               "no weight, ignore_index or label_smoothing; per-sample losses",
               aliases=("optax.losses.softmax_cross_entropy_with_integer_labels",
                        "optax.softmax_cross_entropy", "optax.losses.softmax_cross_entropy")),
    ),
)

BINARY_CROSS_ENTROPY = OpSpec(
    name="binary_cross_entropy",
    family="cross_entropy",
    impl=impl.cross_entropy.binary_cross_entropy,
    oracle=binary_cross_entropy_oracle,
    cases=lambda: _binary_cases(logits=False),
    signature="binary_cross_entropy(probs, target, /, *, weight=None, reduction='mean')",
    doc=(
        "l = -w [t max(log p, -100) + (1 - t) max(log(1 - p), -100)], as torch. probs and "
        "target must lie in [0, 1] (checked when concrete); NaN propagates (torch raises)."
    ),
    edge_cases=(
        Case((np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])),
             {"reduction": "none"}, name="clamp at -100"),
        Case((np.zeros((0,)), np.zeros((0,))), name="empty: NaN mean"),
    ),
    invalid_cases=(
        InvalidCase("probs above 1", Case((np.array([0.5, 1.5]), np.array([0.0, 1.0]))),
                    ValueError, "probs", needs_values=True),
        InvalidCase("target below 0", Case((np.array([0.5, 0.5]), np.array([-1.0, 1.0]))),
                    ValueError, "target", needs_values=True),
        InvalidCase("shape mismatch", Case((np.full(3, 0.5), np.ones(2))), ValueError, "target"),
        InvalidCase("integer probs", Case((np.array([0, 1]), np.array([0.0, 1.0]))), TypeError,
                    "probs"),
        InvalidCase("unknown reduction",
                    Case((np.full(2, 0.5), np.ones(2)), {"reduction": "avg"}), ValueError,
                    "reduction"),
        InvalidCase("weight does not broadcast",
                    Case((np.full(2, 0.5), np.ones(2)), {"weight": np.ones(3)}), ValueError,
                    "weight"),
    ),
    properties=(
        Property("sum == sum(none)", _sum_is_sum_of_none),
        Property("bce(p, t) == bce(1 - p, 1 - t)", _bce_symmetry),
    ),
    # at p = 0 or 1 the loss is clamped; torch's gradient there is (p - t) / 1e-12
    differentiable_at=lambda case: bool(np.all((case.args[0] > 0) & (case.args[0] < 1))),
    natives=(
        Native("torch", "torch.nn.functional.binary_cross_entropy", _torch_bce,
               "raises on NaN probs"),
    ),
)

BINARY_CROSS_ENTROPY_WITH_LOGITS = OpSpec(
    name="binary_cross_entropy_with_logits",
    family="cross_entropy",
    impl=impl.cross_entropy.binary_cross_entropy_with_logits,
    oracle=binary_cross_entropy_with_logits_oracle,
    cases=lambda: _binary_cases(logits=True),
    signature=(
        "binary_cross_entropy_with_logits(logits, target, /, *, weight=None, "
        "pos_weight=None, reduction='mean')"
    ),
    doc=(
        "l = -w [q t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], q = pos_weight "
        "(broadcast along the last axis); computed as w [(1 - t) x + (1 + (q - 1) t) "
        "softplus(-x)], stable for any finite logits."
    ),
    edge_cases=(
        Case((np.array([1000.0, -1000.0, 0.0]), np.array([0.0, 1.0, 0.5])),
             {"reduction": "none"}, name="huge logits"),
        Case((np.array([[1.0, -2.0], [3.0, 0.5]]), np.array([[1.0, 0.0], [0.0, 1.0]])),
             {"pos_weight": np.array([2.0, 0.5]), "weight": np.array([1.0, 3.0])},
             name="pos_weight and weight"),
    ),
    invalid_cases=(
        InvalidCase("integer logits", Case((np.array([0, 1]), np.array([0.0, 1.0]))),
                    TypeError, "logits"),
        InvalidCase("shape mismatch", Case((np.zeros(3), np.ones(2))), ValueError, "target"),
        InvalidCase("pos_weight does not broadcast",
                    Case((np.zeros((2, 3)), np.ones((2, 3))), {"pos_weight": np.ones(2)}),
                    ValueError, "pos_weight"),
        InvalidCase("unknown reduction",
                    Case((np.zeros(2), np.ones(2)), {"reduction": "avg"}), ValueError,
                    "reduction"),
    ),
    tolerance={"float32": (2e-5, 2e-5), "float64": (1e-12, 1e-13)},
    properties=(
        Property("sum == sum(none)", _sum_is_sum_of_none),
        Property("bce(x, t) == bce(-x, 1 - t)", _bce_logits_symmetry),
    ),
    natives=(
        Native("torch", "torch.nn.functional.binary_cross_entropy_with_logits",
               _torch_bce_logits),
        Native("jax", "optax.sigmoid_binary_cross_entropy", _optax_bce_logits,
               "no pos_weight", aliases=("optax.losses.sigmoid_binary_cross_entropy",)),
    ),
)

SPECS = (CROSS_ENTROPY, BINARY_CROSS_ENTROPY, BINARY_CROSS_ENTROPY_WITH_LOGITS)
