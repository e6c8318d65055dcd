"""Average precision: of a precision-recall curve, and of a binary score.

``interpolated_average_precision`` reads AP off a curve the way the detection
benchmarks do: every rule starts from the precision envelope (the suffix maximum of
precision, one :func:`~xpops._lib.scans.reverse_cumulative_max`), then integrates it
(``"all_points"``, PASCAL VOC 2010+) or samples it at fixed recalls (``"voc11"``,
PASCAL VOC 2007; ``"coco101"``, pycocotools). ``average_precision_score`` is
scikit-learn's step-wise AP, with no envelope.
"""

from __future__ import annotations

import math
from typing import Any

from .._lib.elsewhere import compute_elsewhere
from .._lib.inputs import array_op
from .._lib.jax_eager import run_compiled
from .._lib.namespace import array_namespace, as_array, default_int, device, is_concrete
from .._lib.primitives import take_along_last_axis
from .._lib.scans import cumulative_max, reverse_cumulative_max
from .._lib.validation import (
    check_binary_scores,
    check_choice,
    check_real_floating,
    check_same_shape,
    concrete_true,
    reject_lazy,
    size,
)

__all__ = ["interpolated_average_precision", "average_precision_score"]

AP_METHODS = ("all_points", "voc11", "coco101")

# The recalls each sampling rule reads, as Python floats (rounded to the curve's dtype
# when used). voc11: exactly k / 10, as the VOC devkit; coco101: pycocotools'
# np.linspace(0, 1, 101), whose entries are k * 0.01 (0.35 is 0.35000000000000003).
RECALL_POINTS = {
    "voc11": tuple(k / 10 for k in range(11)),
    "coco101": (*(k * 0.01 for k in range(100)), 1.0),
}


def _curve_flags(recall: Any, precision: Any, xp: Any) -> Any:
    """(recall outside [0, 1] or NaN, precision likewise, recall decreasing), one pass."""

    def outside(x: Any) -> Any:
        return xp.any(xp.isnan(x) | (x < 0) | (x > 1))

    decreasing = xp.any(recall[..., 1:] < recall[..., :-1])
    return xp.stack((outside(recall), outside(precision), decreasing))


def _check_curve(xp: Any, recall: Any, precision: Any) -> None:
    check_real_floating(xp, recall, "recall")
    check_real_floating(xp, precision, "precision")
    if recall.ndim < 1:
        msg = "`recall` must have shape (..., N), got a 0-d array"
        raise ValueError(msg)
    check_same_shape(recall, precision, "recall", "precision")
    if not (is_concrete(recall) and is_concrete(precision)) or size(recall) == 0:
        return
    # one compiled pass on eager JAX instead of one compilation per check
    flags = run_compiled(_curve_flags, (recall, precision), xp)
    if not is_concrete(flags):
        return
    bad_recall, bad_precision, decreasing = (bool(flags[i]) for i in range(3))
    for name, x, bad in (("recall", recall, bad_recall),
                         ("precision", precision, bad_precision)):
        if bad:
            msg = (
                f"`{name}` must lie in [0, 1] (no NaN); got values in "
                f"[{float(xp.min(x))}, {float(xp.max(x))}]"
            )
            raise ValueError(msg)
    if decreasing:
        msg = "`recall` must be non-decreasing along its last axis (a curve in rank order)"
        raise ValueError(msg)


def _envelope_kernel(recall: Any, precision: Any, xp: Any, method: str) -> Any:
    return envelope_average_precision(xp, recall, precision, method=method)


def envelope_average_precision(xp: Any, recall: Any, precision: Any, *, method: str) -> Any:
    """AP of validated curves ``(..., N)`` -> ``(...)``; the shared core of both AP ops."""
    envelope = reverse_cumulative_max(xp, precision)
    zero = xp.zeros((*recall.shape[:-1], 1), dtype=recall.dtype, device=device(recall))
    if recall.shape[-1] == 0:
        return xp.zeros(recall.shape[:-1], dtype=recall.dtype, device=device(recall))
    if method == "all_points":
        # sum_i (r_i - r_{i-1}) env_i, r_0 = 0: the devkit's area once its appended
        # (recall 1, precision 0) end point, worth 0, is dropped
        width = recall - xp.concat((zero, recall[..., :-1]), axis=-1)
        return as_array(xp, xp.sum(width * envelope, axis=-1))
    points = RECALL_POINTS[method]
    thresholds = xp.asarray(points, dtype=recall.dtype, device=device(recall))
    # index of the first recall >= t, N when none: a batched searchsorted(side="left")
    below = recall[..., None, :] < thresholds[:, None]
    first = xp.sum(xp.astype(below, xp.int32), axis=-1, dtype=xp.int32)
    padded = xp.concat((envelope, zero), axis=-1)
    sampled = take_along_last_axis(xp, padded, xp.astype(first, default_int(xp, device(padded))))
    return as_array(xp, xp.sum(sampled, axis=-1) / len(points))


def _binary_flags(scores: Any, target: Any, xp: Any) -> Any:
    """Whether some score is NaN or some target is neither 0 nor 1, in one pass."""
    nan = xp.any(xp.isnan(scores))
    bad = xp.any((target != 0) & (target != 1)) if target.dtype != xp.bool else nan & False
    return xp.stack((nan, bad))


def _validate_binary(xp: Any, scores: Any, target: Any) -> None:
    """The checks of :func:`xpops.fbeta_curve`, its value checks in one compiled pass on
    eager JAX: they run one by one (and raise) only when the pass finds a problem."""
    if (
        xp.isdtype(scores.dtype, "real floating") and tuple(scores.shape) == tuple(
            target.shape) and xp.isdtype(target.dtype, ("bool", "integral", "real floating"))
        and size(scores) and is_concrete(scores) and is_concrete(target)
    ):
        flags = run_compiled(_binary_flags, (scores, target), xp)
        if is_concrete(flags) and not concrete_true(xp.any(flags)):
            return
    check_binary_scores(xp, scores, target)


@array_op("recall", "precision")
def interpolated_average_precision(
    recall: Any, precision: Any, /, *, method: str = "all_points"
) -> Any:
    r"""Average precision of precision-recall curves, with the detection benchmarks' rules.

    All three rules use the envelope :math:`\hat p_i = \max_{j \ge i} p_j`:

    - ``"all_points"`` (PASCAL VOC 2010+ devkit, ``VOCap``): the area under the
      envelope, :math:`\sum_i (r_i - r_{i-1}) \hat p_i` with :math:`r_0 = 0`;
    - ``"voc11"`` (VOC 2007): the mean over :math:`t = 0, 0.1, \dots, 1` of
      :math:`\max \{p_i : r_i \ge t\}` (0 when no recall reaches :math:`t`), with
      :math:`t` exactly :math:`k/10` rounded to the curve's dtype (``np.arange(0, 1.1,
      0.1)``, used by the classic Python ports, has 0.30000000000000004 instead);
    - ``"coco101"`` (pycocotools): the mean over pycocotools' 101 recall thresholds
      ``np.linspace(0, 1, 101)`` of the envelope at the first point whose recall
      reaches the threshold (``searchsorted(side="left")``), 0 past the curve's end.

    An empty curve (``N = 0``) has AP 0. Fixed output shape: jit-able.

    Parameters
    ----------
    recall, precision : array
        Real floating, of one shape ``(..., N)``: one curve per leading index, its
        points in rank order, recall non-decreasing along the last axis, both in [0, 1].
    method : {"all_points", "voc11", "coco101"}, default "all_points"
        The integration rule above.

    Returns
    -------
    array
        Shape ``(...)``, in the common floating dtype of the inputs, on their device.

    Raises
    ------
    TypeError
        When ``recall`` or ``precision`` is not real floating.
    ValueError
        When the shapes differ or are 0-d, ``method`` is unknown, or (where values are
        concrete) a value lies outside [0, 1], is NaN, or recall decreases.
    NotImplementedError
        For Dask arrays: each curve is scanned in rank order.

    Examples
    --------
    The envelope (the best precision at or after each point) is 1, 2/3, 2/3, 0.6, and
    recall grows by 1/4, 0, 1/4, 1/4: all_points gives 1/4 * 1 + 1/4 * 2/3 + 1/4 * 0.6.

    >>> import array_api_strict as xp
    >>> from xpops import interpolated_average_precision
    >>> r = xp.asarray([0.25, 0.25, 0.5, 0.75])
    >>> p = xp.asarray([1.0, 0.5, 2 / 3, 0.6])
    >>> interpolated_average_precision(r, p)
    Array(0.5667, dtype=array_api_strict.float64)
    >>> interpolated_average_precision(r, p, method="voc11")
    Array(0.5636, dtype=array_api_strict.float64)
    """
    reject_lazy("interpolated_average_precision",
                "scans each curve in rank order (a reverse cumulative maximum)", recall, precision)
    xp = array_namespace(recall, precision)
    check_choice(method, "method", AP_METHODS)
    _check_curve(xp, recall, precision)
    dtype = xp.result_type(recall.dtype, precision.dtype)
    recall = xp.astype(recall, dtype, copy=False)
    precision = xp.astype(precision, dtype, copy=False)
    return run_compiled(_envelope_kernel, (recall, precision), xp, method)


@array_op("scores", "target", labels=("target",))
def average_precision_score(scores: Any, target: Any, /) -> Any:
    r"""scikit-learn's average precision of a binary score: step-wise, no interpolation.

    With one threshold per distinct score (a sample is predicted positive when
    ``score >= t``), :math:`AP = \sum_t (R_t - R_{t'}) P_t`, over thresholds in
    descending order, :math:`t'` the next higher threshold (:math:`R = 0` above the
    highest). Tied scores form one threshold, so their order never matters. This is
    ``sklearn.metrics.average_precision_score(target, scores)`` for binary targets:
    without positives it is 0 (scikit-learn sets recall to 1 and warns); every
    threshold predicts at least one sample, so precision is never 0/0. Empty input
    raises ValueError. Computed as :math:`\frac1P \sum_i y_i P_{t(i)}` over samples
    :math:`i`, :math:`t(i)` the threshold equal to sample :math:`i`'s score: one sort,
    one cumulative sum and one cumulative maximum; fixed output shape, jit-able.

    Parameters
    ----------
    scores : array
        Real floating, any shape (flattened), non-empty, without NaN.
    target : array
        Binary labels of the same shape: bool, integer or floating 0/1.

    Returns
    -------
    array
        0-d, in the dtype of ``scores``, on its device.

    Raises
    ------
    TypeError
        When ``scores`` is not real floating or ``target`` not bool, integer or floating.
    ValueError
        When the shapes differ, the input is empty, or (where values are concrete) a
        score is NaN or a target neither 0 nor 1.
    NotImplementedError
        For Dask arrays: the scores are sorted.

    Examples
    --------
    By descending score: 0.8 (positive, precision 1), 0.4 (negative), 0.35 (positive,
    precision 2/3). AP = 1/2 * 1 + 1/2 * 2/3.

    >>> import array_api_strict as xp
    >>> from xpops import average_precision_score
    >>> average_precision_score(xp.asarray([0.1, 0.4, 0.35, 0.8]), xp.asarray([0, 0, 1, 1]))
    Array(0.8333, dtype=array_api_strict.float64)
    """
    reject_lazy("average_precision_score", "sorts the scores", scores, target)
    xp = array_namespace(scores, target)
    _validate_binary(xp, scores, target)
    if math.prod(scores.shape) == 0:
        msg = f"`scores` must not be empty, got shape {tuple(scores.shape)}"
        raise ValueError(msg)
    # fixed shapes: compiled once per shape on JAX, so only a device without int64 moves
    return compute_elsewhere(
        xp, lambda xq, s, t: run_compiled(_step_average_precision, (s, t), xq),
        scores, target, jax_on_host=False,
    )


def _step_average_precision(scores: Any, target: Any, xp: Any) -> Any:
    """The sum over samples of ``y_i P_{t(i)} / P``, for validated non-empty inputs."""
    dev = device(scores)
    s = xp.reshape(scores, (-1,))
    t = xp.reshape(target, (-1,))
    n = s.shape[0]
    index = default_int(xp, dev)
    order = xp.argsort(s)  # ascending; ties need no order: a run is one threshold
    s_sorted = xp.take(s, order)
    t_sorted = xp.astype(xp.take(t, order), index)
    # ascending, the threshold at position j predicts j..n-1: n - j samples, tp of them
    # positive; a threshold sits at the first position of each run of tied scores
    seen = xp.cumulative_sum(t_sorted)
    positives = seen[-1:]
    tp = xp.astype(positives - seen + t_sorted, s.dtype)
    precision = tp / xp.arange(n, 0, -1, dtype=s.dtype, device=dev)
    positions = xp.arange(n, dtype=index, device=dev)
    first = xp.concat((xp.ones((1,), dtype=xp.bool, device=dev), s_sorted[1:] != s_sorted[:-1]))
    run_start = cumulative_max(xp, xp.where(first, positions, xp.zeros_like(positions)))
    total = xp.sum(xp.where(t_sorted > 0, xp.take(precision, run_start), xp.zeros_like(tp)))
    p = xp.astype(positives, s.dtype)
    ap = xp.where(p > 0, total / xp.maximum(p, xp.ones_like(p)), xp.zeros_like(p))
    return xp.reshape(ap, ())
