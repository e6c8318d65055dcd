"""Threshold curves of a binary score: the F-beta curve and its best threshold.

Both ops sort the scores once and read every count off one cumulative sum: a threshold
``t`` predicts ``score >= t``, so in ascending order the threshold at position ``j``
predicts positions ``j, ..., n - 1`` positive, and a distinct score is the first position
of its run of tied scores. Cost O(n log n) whatever the number of distinct scores.

Semantics are those of ``sklearn.metrics.precision_recall_curve``: tied scores form one
point, precision ``tp / (tp + fp)``, recall ``tp / P`` (1 when there are no positives).
"""

from __future__ import annotations

import math
from typing import Any

from .._lib.elsewhere import compute_elsewhere
from .._lib.inputs import array_op
from .._lib.jax_eager import run_compiled
from .._lib.namespace import array_namespace, default_int, device
from .._lib.validation import check_beta, check_binary_scores, reject_lazy

__all__ = ["fbeta_curve", "best_fbeta_threshold"]


def _counts(scores: Any, target: Any, xp: Any, beta: float) -> tuple[Any, Any, Any, Any, Any]:
    """Ascending scores, run-start mask, tp, predicted-positive counts k, F-beta.

    With the scores sorted ascending, the threshold at position ``j`` predicts positions
    ``j, ..., n - 1`` positive: ``k = n - j`` samples, ``tp`` the positives among them.
    Only the first position of each run of tied scores is a threshold (``first``); the
    order inside a run does not matter there (its ``tp`` counts the whole run), so the
    sort need not be stable.
    """
    dev = device(scores)
    s = xp.reshape(scores, (-1,))
    t = xp.reshape(target, (-1,))
    n = s.shape[0]
    order = xp.argsort(s)
    s_sorted = xp.take(s, order)
    t_sorted = xp.astype(xp.take(t, order), default_int(xp, dev))
    # integer counts stay exact whatever n; one rounding when cast to the score dtype
    seen = xp.cumulative_sum(t_sorted)  # positives at positions <= j
    positives = seen[-1:]  # (1,): broadcasts, and stays an array under jit
    tp = xp.astype(positives - seen + t_sorted, s.dtype)
    k = xp.arange(n, 0, -1, dtype=s.dtype, device=dev)
    first = xp.concat(
        (xp.ones((1,), dtype=xp.bool, device=dev), s_sorted[1:] != s_sorted[:-1])
    )
    b2 = beta * beta
    # F = (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp) = (1 + b^2) tp / (k + b^2 P):
    # one division of exact counts (for dyadic beta), so equal F are equal floats
    fbeta = ((1.0 + b2) * tp) / (k + b2 * xp.astype(positives, s.dtype))
    return s_sorted, first, tp, k, fbeta


@array_op("scores", "target", labels=("target",))
def fbeta_curve(scores: Any, target: Any, /, *, beta: float = 1.0) -> tuple[Any, Any, Any, Any]:
    r"""Precision, recall and F-beta at every distinct score, thresholds ascending.

    At threshold :math:`t` a sample is predicted positive when ``score >= t``. With
    :math:`tp, fp` counted there and :math:`P` the positives,
    precision :math:`= tp / (tp + fp)`, recall :math:`= tp / P` (1 for every threshold when
    :math:`P = 0`, as scikit-learn), and
    :math:`F_\beta = (1 + \beta^2)\,tp / ((1 + \beta^2)\,tp + \beta^2 fn + fp)`,
    which is 0 wherever :math:`tp = 0` (never NaN: every threshold predicts a sample).

    Differences from ``sklearn.metrics.precision_recall_curve``: ours returns ``fbeta``,
    takes ``(scores, target)``, and has no extra end point (scikit-learn appends
    precision 1, recall 0 without a threshold, so its precision and recall are one longer
    than its thresholds). Empty input gives empty arrays. The output length depends on
    the values, so this op runs eagerly (not under ``jax.jit``, not lazily on Dask).

    Parameters
    ----------
    scores : array
        Real floating, any shape (flattened), without NaN.
    target : array
        Binary labels of the same shape: bool, integer or floating 0/1.
    beta : float, default 1.0
        The weight of recall, finite and > 0 (``beta=1`` is F1).

    Returns
    -------
    thresholds, precision, recall, fbeta : array
        1-D arrays of one length, the number of distinct scores, in the dtype of
        ``scores`` and on its device; ``thresholds`` ascending.

    Raises
    ------
    TypeError
        When ``scores`` is not real floating, ``target`` not bool, integer or floating,
        or ``beta`` not a real number.
    ValueError
        When the shapes differ, ``beta`` is not finite and > 0, or (where values are
        concrete) a score is NaN or a target neither 0 nor 1.
    NotImplementedError
        For Dask arrays: the scores are sorted and the length depends on them.

    Examples
    --------
    At threshold 0.35 three samples are predicted positive, both positives among them:
    precision 2/3, recall 1, F1 = 2 * 2 / (3 + 2) = 0.8.

    >>> import array_api_strict as xp
    >>> from xpops import fbeta_curve
    >>> t, p, r, f = fbeta_curve(xp.asarray([0.1, 0.4, 0.35, 0.8]), xp.asarray([0, 0, 1, 1]))
    >>> t
    Array([0.1 , 0.35, 0.4 , 0.8 ], dtype=array_api_strict.float64)
    >>> f
    Array([0.66666667, 0.8       , 0.5       ,
           0.66666667], dtype=array_api_strict.float64)
    """
    reject_lazy("fbeta_curve", "sorts the scores; its length depends on their values",
                scores, target)
    xp = array_namespace(scores, target)
    beta = check_beta(beta)
    check_binary_scores(xp, scores, target)
    if math.prod(scores.shape) == 0:
        empty = xp.zeros((0,), dtype=scores.dtype, device=device(scores))
        return empty, empty, empty, empty
    # the output length depends on the values: eager JAX would compile every call anew
    return compute_elsewhere(xp, lambda xq, s, t: _curve(xq, s, t, beta), scores, target)


def _curve(xp: Any, scores: Any, target: Any, beta: float) -> tuple[Any, Any, Any, Any]:
    """:func:`fbeta_curve` of validated non-empty inputs."""
    s_sorted, first, tp, k, fbeta = _counts(scores, target, xp, beta)
    (starts,) = xp.nonzero(first)
    positives = tp[:1]  # the lowest threshold predicts every sample positive
    tp = xp.take(tp, starts)
    one = xp.ones((1,), dtype=tp.dtype, device=device(tp))
    recall = xp.where(positives > 0, tp / xp.maximum(positives, one), one)
    return (
        xp.take(s_sorted, starts),
        tp / xp.take(k, starts),
        recall,
        xp.take(fbeta, starts),
    )


@array_op("scores", "target", labels=("target",))
def best_fbeta_threshold(scores: Any, target: Any, /, *, beta: float = 1.0) -> tuple[Any, Any]:
    r"""The threshold that maximises F-beta when predicting ``score >= threshold``.

    Ties in F-beta go to the **highest** threshold (the fewest predicted positives).
    ``thresholds[np.argmax(f)]`` over scikit-learn's ``precision_recall_curve`` picks the
    lowest instead; the two agree whenever the maximum is unique. Without positives every
    threshold has F-beta 0, so the result is ``(max(scores), 0)``.

    O(n log n): one sort and one cumulative sum, F-beta at every position, all but
    one position of each run of tied scores masked, and an argmax. The output shape is fixed, so it
    runs under ``jax.jit`` (value checks are skipped for tracers; NaN scores are then
    undefined).

    Parameters
    ----------
    scores : array
        Real floating, any shape (flattened), non-empty, without NaN.
    target : array
        Binary labels of the same shape: bool, integer or floating 0/1.
    beta : float, default 1.0
        The weight of recall, finite and > 0.

    Returns
    -------
    threshold, fbeta : array
        0-d arrays in the dtype of ``scores``, on its device: a score of ``scores`` and
        the F-beta it gives, the maximum over :func:`fbeta_curve`.

    Raises
    ------
    TypeError
        When ``scores`` is not real floating, ``target`` not bool, integer or floating,
        or ``beta`` not a real number.
    ValueError
        When the input is empty, the shapes differ, ``beta`` is not finite and > 0, or
        (where values are concrete) a score is NaN or a target neither 0 nor 1.
    NotImplementedError
        For Dask arrays: the scores are sorted.

    Examples
    --------
    At threshold 0.2 all four positives and five of the seven negatives are predicted
    positive: precision 4/9, recall 1, F1 = 2 * 4 / (9 + 4) = 8/13.

    >>> import array_api_strict as xp
    >>> from xpops import best_fbeta_threshold
    >>> s = xp.asarray([.6, .5, .7, .2, .1, .3, .4, .12, .64, .8, .9])
    >>> t = xp.asarray([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    >>> best_fbeta_threshold(s, t)  # F1 = 8/13
    (Array(0.2, dtype=array_api_strict.float64), Array(0.61538462, dtype=array_api_strict.float64))
    """
    reject_lazy("best_fbeta_threshold", "sorts the scores", scores, target)
    xp = array_namespace(scores, target)
    beta = check_beta(beta)
    check_binary_scores(xp, scores, target)
    if math.prod(scores.shape) == 0:
        msg = f"`scores` must not be empty, got shape {tuple(scores.shape)}"
        raise ValueError(msg)
    # fixed shapes: compiled once per shape on JAX, so only a device without int64 moves
    return compute_elsewhere(
        xp, lambda xq, s, t: run_compiled(_best, (s, t), xq, beta), scores, target,
        jax_on_host=False,
    )


def _best(scores: Any, target: Any, xp: Any, beta: float) -> tuple[Any, Any]:
    s_sorted, first, _, _, fbeta = _counts(scores, target, xp, beta)
    # F >= 0 at every threshold, so -1 never wins; argmax takes the first maximum, so
    # searching the reversed (descending) order picks the highest threshold among ties
    minus_one = xp.asarray(-1.0, dtype=fbeta.dtype, device=device(fbeta))
    candidates = xp.flip(xp.where(first, fbeta, minus_one))
    best = (s_sorted.shape[0] - 1) - xp.reshape(xp.argmax(candidates), (1,))
    return (
        xp.reshape(xp.take(s_sorted, best), ()),
        xp.reshape(xp.take(fbeta, best), ()),
    )
