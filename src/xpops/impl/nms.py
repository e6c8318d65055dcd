"""Non-maximum suppression: exact greedy NMS, class-aware, fixed-size (jit-able) and soft.

Conventions (every op):

- ``boxes`` are ``(N, 4)`` xyxy, validated and promoted by the box helpers of
  :mod:`xpops.impl.boxes` (integers take the default float dtype, inverted boxes raise
  ValueError, booleans TypeError); ``scores`` are ``(N,)`` real floating; NaN scores
  raise ValueError wherever values are concrete.
- IoU is computed in the boxes' dtype as ``inter / (area_i + area_j - inter)``, widths
  and heights ``x2 - x1 + offset`` (0 where a pair's union is 0), exactly as
  torchvision's kernel for ``offset=0``. A box is suppressed only when its IoU with a
  kept box is strictly greater than ``iou_threshold``; the comparison is the real
  ``iou > iou_threshold`` (float32 IoU against the double threshold, as torchvision),
  not one against the threshold rounded to float32.
- Candidates are visited by decreasing score; equal scores in input order (a stable
  sort), on every backend. ``score_threshold`` discards ``score < score_threshold``
  first.
- Indices are int64 (the default integer dtype where int64 is unavailable: JAX
  without x64), on the device of ``boxes``.

The exact greedy algorithm behind :func:`nms` and :func:`batched_nms` is in
:mod:`xpops.impl.nms_greedy`.
"""

from __future__ import annotations

from typing import Any

from .._lib.elsewhere import compute_elsewhere
from .._lib.indexing import take_nonnegative as _take
from .._lib.inputs import array_op
from .._lib.namespace import (
    array_namespace,
    as_array,
    default_int,
    device,
    is_concrete,
)
from .._lib.validation import (
    check_choice,
    check_count,
    check_integer,
    check_real,
    check_real_floating,
    concrete_true,
    reject_lazy,
)
from .boxes import check_offset, xyxy_boxes
from .nms_blocks import (
    box_columns,
    column_iou,
    earlier_pairs,
    exceeds,
    resolve,
    select_columns,
    strict_threshold,
)
from .nms_greedy import greedy_nms

__all__ = ["nms", "batched_nms", "nms_padded", "soft_nms"]

SOFT_METHODS = ("gaussian", "linear")

# ------------------------------------------------------------------------ validation


def _score_threshold(value: Any) -> float | None:
    """``score_threshold``: a real number (infinities included) or None."""
    return None if value is None else check_real(value, "score_threshold")


def _boxes_scores(xp: Any, boxes: Any, scores: Any) -> tuple[Any, Any]:
    """``(N, 4)`` xyxy floating boxes and ``(N,)`` floating scores without NaN."""
    xyxy = xyxy_boxes(xp, boxes, fmt="xyxy", name="boxes")
    if xyxy.ndim != 2:
        msg = f"`boxes` must have shape (N, 4), got boxes.shape={tuple(boxes.shape)}"
        raise ValueError(msg)
    check_real_floating(xp, scores, "scores")
    n = xyxy.shape[0]
    if tuple(scores.shape) != (n,):
        msg = (
            f"`scores` must have shape (N,) = ({n},) to match boxes.shape="
            f"{tuple(boxes.shape)}, got scores.shape={tuple(scores.shape)}"
        )
        raise ValueError(msg)
    if is_concrete(scores) and n and concrete_true(xp.any(xp.isnan(scores))):
        msg = "`scores` holds NaN; NMS needs an order of the scores"
        raise ValueError(msg)
    return xyxy, scores


def _labels(xp: Any, labels: Any, n: int) -> Any:
    check_integer(xp, labels, "labels")  # bool is not integral
    if tuple(labels.shape) != (n,):
        msg = f"`labels` must have shape ({n},) like scores, got labels.shape={tuple(labels.shape)}"
        raise ValueError(msg)
    return labels


# --------------------------------------------------------------------------- public


def _run(
    xp: Any, xyxy: Any, scores: Any, labels: Any, iou_threshold: Any,
    score_threshold: Any, max_output_size: Any, offset: Any,
) -> Any:
    t = check_real(iou_threshold, "iou_threshold")
    s_thr = _score_threshold(score_threshold)
    limit = check_count(max_output_size, "max_output_size", optional=True)
    offset = check_offset(offset)
    return compute_elsewhere(
        xp, lambda xq, x, s, lab: greedy_nms(xq, x, s, lab, t, s_thr, limit, offset),
        xyxy, scores, labels,
    )


# why NMS cannot stay lazy on Dask (reject_lazy's "it ...")
_SEQUENTIAL = "ranks boxes by sorted score and suppresses them one after another"


@array_op("boxes", "scores")
def nms(
    boxes: Any, scores: Any, /, iou_threshold: float, *, score_threshold: float | None = None,
    max_output_size: int | None = None, offset: int = 0,
) -> Any:
    """Exact greedy non-maximum suppression; kept indices by decreasing score.

    Candidates are visited by decreasing score (equal scores in input order); each is
    kept unless a box kept before it has an IoU strictly greater than
    ``iou_threshold`` with it. The IoU is computed in the boxes' dtype and compared with
    the threshold as a real number (float32 IoU against the double threshold, as
    torchvision). Equal to ``torchvision.ops.nms`` where no scores tie.

    Parameters
    ----------
    boxes : array
        ``(N, 4)`` xyxy boxes, real floating or integer (promoted to the default float
        dtype).
    scores : array
        ``(N,)`` real floating scores, without NaN.
    iou_threshold : float
        A box is suppressed when its IoU with a kept box is strictly greater (1.0 keeps
        identical boxes; a negative threshold keeps one box).
    score_threshold : float or None, default None
        Boxes with ``score < score_threshold`` are discarded first.
    max_output_size : int or None, default None
        At most this many indices (the first ones).
    offset : {0, 1}, default 0
        Added to every width and height (1: the legacy pixel-inclusive convention).

    Returns
    -------
    array
        ``(K,)`` int64 indices into ``boxes`` (the default integer dtype where int64 is
        unavailable), by decreasing score, equal scores in input order, on the device
        of ``boxes``.

    Raises
    ------
    TypeError
        When ``boxes`` are boolean, ``scores`` are not real floating, a threshold is not
        a real number or ``max_output_size`` not an int.
    ValueError
        When the shapes do not match, a box is inverted, a score or threshold is NaN,
        ``max_output_size`` is negative or ``offset`` is neither 0 nor 1.
    NotImplementedError
        For Dask arrays: the boxes are suppressed one after another.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import nms
    >>> boxes = xp.asarray([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
    >>> scores = xp.asarray([0.9, 0.8, 0.7])
    >>> nms(boxes, scores, 0.5)  # IoU(0, 1) = 81 / 119 > 0.5
    Array([0, 2], dtype=array_api_strict.int64)
    >>> nms(boxes, scores, 0.7)
    Array([0, 1, 2], dtype=array_api_strict.int64)
    """
    reject_lazy("nms", _SEQUENTIAL, boxes, scores)
    xp = array_namespace(boxes, scores)
    xyxy, scores = _boxes_scores(xp, boxes, scores)
    return _run(xp, xyxy, scores, None, iou_threshold, score_threshold, max_output_size, offset)


@array_op("boxes", "scores", "labels", labels=("labels",))
def batched_nms(
    boxes: Any, scores: Any, labels: Any, /, iou_threshold: float, *,
    score_threshold: float | None = None, max_output_size: int | None = None, offset: int = 0,
) -> Any:
    """Class-aware NMS: boxes suppress only boxes of the same label.

    Equal to :func:`nms` run on each label's boxes, the kept indices merged by decreasing
    score (equal scores in input order). Labels are compared, never folded into the
    coordinates, so large coordinates lose no precision. Equal to
    ``torchvision.ops.batched_nms`` where no scores tie.

    Parameters
    ----------
    boxes : array
        ``(N, 4)`` xyxy boxes, real floating or integer (promoted to the default float
        dtype).
    scores : array
        ``(N,)`` real floating scores, without NaN.
    labels : array
        ``(N,)`` integer class labels, any values (negative ones included).
    iou_threshold : float
        A box is suppressed when its IoU with a kept box of its label is strictly
        greater.
    score_threshold : float or None, default None
        Boxes with ``score < score_threshold`` are discarded first.
    max_output_size : int or None, default None
        At most this many indices of the merged list (the first ones).
    offset : {0, 1}, default 0
        Added to every width and height (1: the legacy pixel-inclusive convention).

    Returns
    -------
    array
        ``(K,)`` int64 indices into ``boxes`` (the default integer dtype where int64 is
        unavailable), by decreasing score, equal scores in input order.

    Raises
    ------
    TypeError
        When ``boxes`` are boolean, ``scores`` are not real floating, ``labels`` are not
        integers, a threshold is not a real number or ``max_output_size`` not an int.
    ValueError
        When the shapes do not match, a box is inverted, a score or threshold is NaN,
        ``max_output_size`` is negative or ``offset`` is neither 0 nor 1.
    NotImplementedError
        For Dask arrays: the boxes are suppressed one after another.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import batched_nms
    >>> boxes = xp.asarray([[0.0, 0, 10, 10], [1, 1, 11, 11], [1, 1, 11, 11]])
    >>> scores = xp.asarray([0.9, 0.8, 0.7])
    >>> labels = xp.asarray([0, 0, 1])
    >>> batched_nms(boxes, scores, labels, 0.5)  # box 2 has a label of its own
    Array([0, 2], dtype=array_api_strict.int64)
    """
    reject_lazy("batched_nms", _SEQUENTIAL, boxes, scores, labels)
    xp = array_namespace(boxes, scores, labels)
    xyxy, scores = _boxes_scores(xp, boxes, scores)
    labels = _labels(xp, labels, xyxy.shape[0])
    return _run(xp, xyxy, scores, labels, iou_threshold, score_threshold, max_output_size,
                offset)


def _padded_block(n: int) -> int:
    return max(64, -(-n // 64))  # at most 64 blocks: unrolled when traced


@array_op("boxes", "scores")
def nms_padded(
    boxes: Any, scores: Any, /, iou_threshold: float, *, max_output_size: int,
    score_threshold: float | None = None, offset: int = 0,
) -> tuple[Any, Any]:
    """Greedy NMS with a static output size, for ``jax.jit``.

    The first ``num_valid`` indices equal
    ``nms(boxes, scores, iou_threshold, score_threshold=..., offset=...)[:max_output_size]``
    and the rest are ``-1``. Shapes depend only on ``N`` and ``max_output_size``, so the
    op runs under ``jax.jit`` (TensorFlow's ``non_max_suppression_padded``). Each block
    of sorted boxes is compared with every earlier box (O(N^2) work, O(N * block)
    memory).

    Parameters
    ----------
    boxes : array
        ``(N, 4)`` xyxy boxes, real floating or integer (promoted to the default float
        dtype).
    scores : array
        ``(N,)`` real floating scores, without NaN (checked where values can be read).
    iou_threshold : float
        A box is suppressed when its IoU with a kept box is strictly greater.
    max_output_size : int
        The length of ``indices``, at least 0.
    score_threshold : float or None, default None
        Boxes with ``score < score_threshold`` are discarded first.
    offset : {0, 1}, default 0
        Added to every width and height (1: the legacy pixel-inclusive convention).

    Returns
    -------
    indices : array
        ``(max_output_size,)`` int64 (the default integer dtype where int64 is
        unavailable): the kept indices by decreasing score, then ``-1``.
    num_valid : array
        0-d integer array, the number of kept indices in ``indices``.

    Raises
    ------
    TypeError
        When ``boxes`` are boolean, ``scores`` are not real floating, a threshold is not
        a real number or ``max_output_size`` not an int (None included).
    ValueError
        When the shapes do not match, a box is inverted, a score or threshold is NaN,
        ``max_output_size`` is negative or ``offset`` is neither 0 nor 1.
    NotImplementedError
        For Dask arrays: the boxes are suppressed one after another.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import nms_padded
    >>> boxes = xp.asarray([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
    >>> scores = xp.asarray([0.9, 0.8, 0.7])
    >>> idx, num_valid = nms_padded(boxes, scores, 0.5, max_output_size=3)
    >>> idx, num_valid
    (Array([ 0,  2, -1], dtype=array_api_strict.int64), Array(2, dtype=array_api_strict.int64))
    """
    reject_lazy("nms_padded", _SEQUENTIAL, boxes, scores)
    xp = array_namespace(boxes, scores)
    xyxy, scores = _boxes_scores(xp, boxes, scores)
    t = check_real(iou_threshold, "iou_threshold")
    s_thr = _score_threshold(score_threshold)
    size = check_count(max_output_size, "max_output_size")
    offset = check_offset(offset)
    return compute_elsewhere(
        xp, lambda xq, x, sc: _padded(xq, x, sc, t, s_thr, size, offset), xyxy, scores
    )


def _padded(
    xp: Any, xyxy: Any, scores: Any, t: float, s_thr: float | None, size: int, offset: int
) -> tuple[Any, Any]:
    dev = device(xyxy)
    int_dtype = default_int(xp, dev)
    n = xyxy.shape[0]
    if n == 0 or size == 0:
        return (xp.full((size,), -1, dtype=int_dtype, device=dev),
                xp.zeros((), dtype=int_dtype, device=dev))
    t = strict_threshold(xp, xyxy.dtype, t)
    order = xp.argsort(scores, descending=True, stable=True)
    cols = box_columns(xp, _take(xp, xyxy, order, axis=0), offset)
    valid = (_take(xp, scores, order) >= s_thr if s_thr is not None
             else xp.ones((n,), dtype=xp.bool, device=dev))
    block = _padded_block(n)
    keep_parts: list[Any] = []
    for start in range(0, n, block):  # a static loop over blocks
        stop = min(start + block, n)
        head = cols[:, start:stop]
        candidate = valid[start:stop]
        if start:
            earlier = xp.concat(keep_parts)
            hit = exceeds(xp, cols[:, :start], head, t, offset, None, None)
            candidate = candidate & ~xp.any(hit & earlier[:, None], axis=0)
        within = (exceeds(xp, head, head, t, offset, None, None)
                  & earlier_pairs(xp, stop - start, dev))
        keep_parts.append(resolve(xp, within, candidate))
    keep = xp.concat(keep_parts)
    ranks = xp.cumulative_sum(xp.astype(keep, int_dtype))
    total = ranks[-1]
    slots = xp.arange(size, dtype=int_dtype, device=dev)
    at = xp.astype(xp.searchsorted(ranks, slots + 1, side="left"), int_dtype)
    picked = _take(xp, order, xp.clip(at, max=n - 1))
    pad = xp.asarray(-1, dtype=int_dtype, device=dev)
    indices = xp.where(slots < total, xp.astype(picked, int_dtype), pad)
    return indices, as_array(xp, xp.minimum(total, xp.asarray(size, dtype=int_dtype, device=dev)))


@array_op("boxes", "scores")
def soft_nms(
    boxes: Any, scores: Any, /, *, sigma: float = 0.5, iou_threshold: float = 0.3,
    score_threshold: float = 0.001, method: str = "gaussian", offset: int = 0,
) -> tuple[Any, Any]:
    """Soft-NMS (Bodla et al., 2017): decay overlapping scores instead of dropping boxes.

    Boxes with ``score < score_threshold`` are discarded first. Then repeatedly the box
    with the highest current score is selected (equal scores: the lowest input index)
    and every remaining box's score is multiplied by ``exp(-iou**2 / sigma)``
    (``"gaussian"``) or, only where ``iou > iou_threshold``, by ``1 - iou``
    (``"linear"``), IoU with the selected box; a box whose decayed score falls below
    ``score_threshold`` is dropped. The loop runs once per kept box.

    Parameters
    ----------
    boxes : array
        ``(N, 4)`` xyxy boxes, real floating or integer (promoted to the default float
        dtype).
    scores : array
        ``(N,)`` real floating scores, without NaN.
    sigma : float, default 0.5
        The Gaussian decay's width, > 0 (``"gaussian"`` only).
    iou_threshold : float, default 0.3
        The IoU above which ``"linear"`` decays a score.
    score_threshold : float, default 0.001
        Boxes whose (decayed) score falls below it are dropped.
    method : {"gaussian", "linear"}, default "gaussian"
        The decay.
    offset : {0, 1}, default 0
        Added to every width and height (1: the legacy pixel-inclusive convention).

    Returns
    -------
    indices : array
        ``(K,)`` int64 indices (the default integer dtype where int64 is unavailable)
        in selection order, which is by decreasing decayed score.
    scores : array
        ``(K,)`` their decayed scores, in the dtype of ``scores``.

    Raises
    ------
    TypeError
        When ``boxes`` are boolean, ``scores`` are not real floating or ``sigma`` or a
        threshold is not a real number.
    ValueError
        When the shapes do not match, a box is inverted, a score or threshold is NaN,
        ``sigma <= 0``, ``method`` is unknown or ``offset`` is neither 0 nor 1.
    NotImplementedError
        For Dask arrays: the boxes are selected one after another.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import soft_nms
    >>> boxes = xp.asarray([[0.0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30]])
    >>> scores = xp.asarray([0.9, 0.8, 0.7])
    >>> idx, s = soft_nms(boxes, scores, method="linear")  # IoU(0, 1) = 0.5
    >>> idx
    Array([0, 2, 1], dtype=array_api_strict.int64)
    >>> s  # box 1: 0.8 * (1 - 0.5)
    Array([0.9, 0.7, 0.4], dtype=array_api_strict.float64)
    """
    reject_lazy("soft_nms", _SEQUENTIAL, boxes, scores)
    xp = array_namespace(boxes, scores)
    xyxy, scores = _boxes_scores(xp, boxes, scores)
    sigma = check_real(sigma, "sigma", low=0.0, low_open=True)
    t = check_real(iou_threshold, "iou_threshold")
    s_thr = check_real(score_threshold, "score_threshold")
    check_choice(method, "method", SOFT_METHODS)
    offset = check_offset(offset)
    return compute_elsewhere(
        xp, lambda xq, x, sc: _soft(xq, x, sc, sigma, t, s_thr, method, offset), xyxy, scores
    )


def _soft(
    xp: Any, xyxy: Any, scores: Any, sigma: float, t: float, s_thr: float, method: str,
    offset: int,
) -> tuple[Any, Any]:
    dev = device(xyxy)
    int_dtype = default_int(xp, dev)
    (idx,) = xp.nonzero(scores >= s_thr)
    idx = xp.astype(idx, int_dtype)
    current, live = _take(xp, scores, idx), box_columns(xp, _take(xp, xyxy, idx, axis=0), offset)
    picked, picked_scores = [], []
    t = strict_threshold(xp, xyxy.dtype, t)
    while idx.shape[0] > 0:  # one round per kept box
        i = int(xp.argmax(current))  # the first maximum: ties go to the lowest index
        picked.append(idx[i:i + 1])
        picked_scores.append(current[i:i + 1])
        best = live[:, i:i + 1]
        live, _, rest = select_columns(xp, live, None, xp.arange(idx.shape[0], device=dev) != i)
        current, idx = _take(xp, current, rest), _take(xp, idx, rest)
        iou = column_iou(xp, best, live, offset)
        over = iou > t
        iou = xp.astype(iou, current.dtype)
        if method == "gaussian":
            current = current * xp.exp(-(iou * iou) / sigma)
        else:
            current = xp.where(over, current * (1 - iou), current)
        live, _, alive = select_columns(xp, live, None, current >= s_thr)
        current, idx = _take(xp, current, alive), _take(xp, idx, alive)
    if not picked:
        return xp.zeros((0,), dtype=int_dtype, device=dev), scores[:0]
    return xp.concat(picked), xp.concat(picked_scores)
