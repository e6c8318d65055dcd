"""The pairwise IoU family (IoU, GIoU, DIoU, CIoU) and the box regression losses.

The four pairwise ops compare every box of ``boxes1 (..., N, 4)`` with every box of
``boxes2 (..., M, 4)``; the three losses compare matching boxes elementwise and reduce.
All seven run one kernel (:func:`_iou_family`) under
:func:`~xpops._lib.jax_eager.run_compiled`, on the validation, format conversion and
intersection helpers of :mod:`xpops.impl.boxes`, whose module docstring states the
conventions they share (formats, ``offset``, integer boxes, inverted boxes, zero
denominators).
"""

from __future__ import annotations

import math
from typing import Any

from .._lib.inputs import array_op
from .._lib.jax_eager import run_compiled
from .._lib.namespace import array_namespace, as_array
from .._lib.primitives import stop_gradient
from .._lib.validation import REDUCTIONS, check_choice, check_same_shape, size
from .boxes import (
    DEFAULT_EPS,
    check_batch_broadcast,
    check_eps,
    check_offset,
    float_box_pair,
    intersection_union,
    pair_columns,
    plus,
    safe_ratio,
    to_xyxy,
)

__all__ = [
    "box_iou",
    "generalized_box_iou",
    "distance_box_iou",
    "complete_box_iou",
    "generalized_box_iou_loss",
    "distance_box_iou_loss",
    "complete_box_iou_loss",
]


# ------------------------------------------------------------------------ validation


def _pairwise_args(xp: Any, boxes1: Any, boxes2: Any, fmt: str, offset: Any) -> tuple:
    """Validated ``(..., N, 4)`` and ``(..., M, 4)`` boxes (in ``fmt``) and the offset."""
    offset = check_offset(offset)
    for boxes, name in ((boxes1, "boxes1"), (boxes2, "boxes2")):
        if boxes.ndim < 2:
            msg = f"`{name}` must have shape (..., N, 4), got {name}.shape={tuple(boxes.shape)}"
            raise ValueError(msg)
    a, b = float_box_pair(xp, boxes1, boxes2, fmt=fmt)
    check_batch_broadcast(a, b)
    return a, b, offset


def _loss_args(
    xp: Any, boxes1: Any, boxes2: Any, fmt: str, offset: Any, reduction: str, eps: Any
) -> tuple:
    offset = check_offset(offset)
    check_choice(reduction, "reduction", REDUCTIONS)
    eps = check_eps(eps)
    a, b = float_box_pair(xp, boxes1, boxes2, fmt=fmt)
    check_same_shape(boxes1, boxes2, "boxes1", "boxes2")
    return a, b, offset, eps


# ------------------------------------------------------------------------- compute



def _iou_family(
    xp: Any, a: tuple, b: tuple, offset: int, kind: str, *, iou_eps: float, eps: float
) -> Any:
    """IoU, GIoU, DIoU or CIoU of the columns ``a`` and ``b`` (broadcast against each other).

    ``iou_eps`` goes into the IoU's denominator (torchvision's losses add it there, its
    pairwise ops do not); ``eps`` into the GIoU, DIoU and CIoU denominators where
    torchvision has one.
    """
    inter, union = intersection_union(xp, a, b, offset)
    iou = safe_ratio(xp, inter, plus(union, iou_eps))
    if kind == "iou":
        return iou
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    enclose_w = plus(xp.maximum(ax2, bx2) - xp.minimum(ax1, bx1), offset)
    enclose_h = plus(xp.maximum(ay2, by2) - xp.minimum(ay1, by1), offset)
    if kind == "giou":
        enclose = enclose_w * enclose_h
        return iou - safe_ratio(xp, enclose - union, plus(enclose, eps))
    dx = (ax1 + ax2) / 2 - (bx1 + bx2) / 2
    dy = (ay1 + ay2) / 2 - (by1 + by2) / 2
    diagonal = enclose_w * enclose_w + enclose_h * enclose_h
    diou = iou - safe_ratio(xp, dx * dx + dy * dy, plus(diagonal, eps))
    if kind == "diou":
        return diou
    # atan2(w, h) is atan(w / h) for h > 0 and stays finite on zero-height boxes
    angle_a = xp.atan2(plus(ax2 - ax1, offset), plus(ay2 - ay1, offset))
    angle_b = xp.atan2(plus(bx2 - bx1, offset), plus(by2 - by1, offset))
    v = (4 / math.pi**2) * (angle_a - angle_b) ** 2
    # alpha is a constant for autodiff, as in torchvision (under torch.no_grad)
    alpha = stop_gradient(safe_ratio(xp, v, plus(1 - iou + v, eps)))
    return diou - alpha * v


def _kernel(
    a: Any, b: Any, *, xp: Any, kind: str, fmt: str, offset: int, eps: float, loss: str | None
) -> Any:
    """The pairwise op (``loss`` None) or the loss with reduction ``loss`` of boxes in
    ``fmt``: one program under :func:`~xpops._lib.jax_eager.run_compiled`."""
    a, b = to_xyxy(xp, a, fmt), to_xyxy(xp, b, fmt)
    if loss is None:  # torchvision's pairwise IoU takes no eps
        cols_a, cols_b = pair_columns(a, b, pairwise=True)
        return _iou_family(xp, cols_a, cols_b, offset, kind, iou_eps=0.0, eps=eps)
    cols_a, cols_b = pair_columns(a, b, pairwise=False)
    value = 1 - _iou_family(xp, cols_a, cols_b, offset, kind, iou_eps=eps, eps=eps)
    if loss == "none":
        return value
    if loss == "sum" or size(value) == 0:  # the mean of no boxes is 0, as in torchvision
        return xp.sum(value)
    return xp.mean(value)


def _pairwise(
    kind: str, boxes1: Any, boxes2: Any, fmt: str, offset: Any, eps: Any = 0.0
) -> Any:
    xp = array_namespace(boxes1, boxes2)
    eps = check_eps(eps)
    a, b, offset = _pairwise_args(xp, boxes1, boxes2, fmt, offset)
    return run_compiled(
        _kernel, (a, b), xp=xp, kind=kind, fmt=fmt, offset=offset, eps=eps, loss=None
    )


def _loss(
    kind: str, boxes1: Any, boxes2: Any, fmt: str, offset: Any, reduction: str, eps: Any
) -> Any:
    xp = array_namespace(boxes1, boxes2)
    a, b, offset, eps = _loss_args(xp, boxes1, boxes2, fmt, offset, reduction, eps)
    out = run_compiled(
        _kernel, (a, b), xp=xp, kind=kind, fmt=fmt, offset=offset, eps=eps, loss=reduction
    )
    return as_array(xp, out)  # NumPy hands back scalars for one box pair and reductions


# --------------------------------------------------------------------------- public


@array_op("boxes1", "boxes2")
def box_iou(boxes1: Any, boxes2: Any, /, *, fmt: str = "xyxy", offset: int = 0) -> Any:
    """Pairwise intersection over union, ``(..., N, 4) x (..., M, 4) -> (..., N, M)``.

    ``IoU = inter / (area1 + area2 - inter)``, with every width and height taken as
    ``x2 - x1 + offset``; a pair whose union is 0 has IoU 0. Equal to
    ``torchvision.ops.box_iou`` for valid boxes with ``offset=0``.

    Parameters
    ----------
    boxes1 : array
        ``(..., N, 4)`` in ``fmt``, real floating or integer (integer boxes take the
        floating dtype of ``boxes2``, or the default float dtype).
    boxes2 : array
        ``(..., M, 4)`` in ``fmt``; the leading (batch) dimensions broadcast against
        those of ``boxes1``.
    fmt : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Format of both box arrays.
    offset : {0, 1}, default 0
        Added to every width and height: 0 for continuous coordinates, 1 for the
        pixel-inclusive convention (PASCAL VOC).

    Returns
    -------
    array
        ``(..., N, M)`` over the broadcast batch dimensions, in [0, 1], of the
        floating dtype of the boxes.

    Raises
    ------
    TypeError
        When a box array is boolean or ``offset`` is not an int.
    ValueError
        When a box array is not ``(..., N, 4)``, the batch dimensions do not
        broadcast, ``fmt`` is unknown, ``offset`` is not 0 or 1, or (where values
        are concrete) a box is inverted.

    Examples
    --------
    Two 2 x 2 squares overlapping in a unit square (1 / 7), and a disjoint point:

    >>> import array_api_strict as xp
    >>> from xpops import box_iou
    >>> a = xp.asarray([[0.0, 0.0, 2.0, 2.0]])
    >>> b = xp.asarray([[1.0, 1.0, 3.0, 3.0], [5.0, 5.0, 5.0, 5.0]])
    >>> box_iou(a, b)
    Array([[0.1429, 0.    ]], dtype=array_api_strict.float64)
    """
    return _pairwise("iou", boxes1, boxes2, fmt, offset)


@array_op("boxes1", "boxes2")
def generalized_box_iou(
    boxes1: Any, boxes2: Any, /, *, fmt: str = "xyxy", offset: int = 0
) -> Any:
    """Pairwise generalized IoU (Rezatofighi et al. 2019), ``(..., N, M)``, in [-1, 1].

    ``GIoU = IoU - (C - U) / C`` with ``U`` the union and ``C`` the area of the smallest
    box enclosing both (widths and heights plus ``offset``). Where ``C`` is 0 (both boxes
    the same degenerate point or segment) the penalty is 0; a pair of distinct zero-area
    boxes has GIoU -1. Equal to ``torchvision.ops.generalized_box_iou`` for valid boxes
    with ``offset=0`` (which is NaN where U = 0).

    Parameters
    ----------
    boxes1 : array
        ``(..., N, 4)`` in ``fmt``, real floating or integer (integer boxes take the
        floating dtype of ``boxes2``, or the default float dtype).
    boxes2 : array
        ``(..., M, 4)`` in ``fmt``; the leading (batch) dimensions broadcast against
        those of ``boxes1``.
    fmt : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Format of both box arrays.
    offset : {0, 1}, default 0
        Added to every width and height: 0 for continuous coordinates, 1 for the
        pixel-inclusive convention (PASCAL VOC).

    Returns
    -------
    array
        ``(..., N, M)`` over the broadcast batch dimensions, of the floating dtype of
        the boxes.

    Raises
    ------
    TypeError
        When a box array is boolean or ``offset`` is not an int.
    ValueError
        When a box array is not ``(..., N, 4)``, the batch dimensions do not
        broadcast, ``fmt`` is unknown, ``offset`` is not 0 or 1, or (where values
        are concrete) a box is inverted.

    Examples
    --------
    Two unit squares one unit apart: IoU 0, enclosing box 3, union 2:

    >>> import array_api_strict as xp
    >>> from xpops import generalized_box_iou
    >>> a = xp.asarray([[0.0, 0.0, 1.0, 1.0]])
    >>> b = xp.asarray([[0.0, 0.0, 1.0, 1.0], [2.0, 0.0, 3.0, 1.0]])
    >>> generalized_box_iou(a, b)
    Array([[ 1.    , -0.3333]], dtype=array_api_strict.float64)
    """
    return _pairwise("giou", boxes1, boxes2, fmt, offset)


@array_op("boxes1", "boxes2")
def distance_box_iou(
    boxes1: Any, boxes2: Any, /, *, fmt: str = "xyxy", offset: int = 0, eps: float = DEFAULT_EPS
) -> Any:
    """Pairwise distance IoU (Zheng et al. 2020), ``(..., N, M)``.

    ``DIoU = IoU - d^2 / (c^2 + eps)``: ``d`` the distance between the box centres, ``c``
    the diagonal of the smallest enclosing box (widths and heights plus ``offset``). The
    IoU takes no ``eps`` (0 where the union is 0). Equal to
    ``torchvision.ops.distance_box_iou`` for valid boxes with ``offset=0``.

    Parameters
    ----------
    boxes1 : array
        ``(..., N, 4)`` in ``fmt``, real floating or integer (integer boxes take the
        floating dtype of ``boxes2``, or the default float dtype).
    boxes2 : array
        ``(..., M, 4)`` in ``fmt``; the leading (batch) dimensions broadcast against
        those of ``boxes1``.
    fmt : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Format of both box arrays.
    offset : {0, 1}, default 0
        Added to every width and height: 0 for continuous coordinates, 1 for the
        pixel-inclusive convention (PASCAL VOC).
    eps : float, default 1e-7
        Finite and >= 0; see the formula above for where it goes.

    Returns
    -------
    array
        ``(..., N, M)`` over the broadcast batch dimensions, of the floating dtype of
        the boxes.

    Raises
    ------
    TypeError
        When a box array is boolean, ``offset`` is not an int or ``eps`` is not a real
        number.
    ValueError
        When a box array is not ``(..., N, 4)``, the batch dimensions do not
        broadcast, ``fmt`` is unknown, ``offset`` is not 0 or 1, ``eps`` is
        negative, infinite or NaN, or (where values are concrete) a box is inverted.

    Examples
    --------
    Unit squares with centres 2 apart inside a 3 x 1 enclosing box: ``0 - 4 / 10``.

    >>> import array_api_strict as xp
    >>> from xpops import distance_box_iou
    >>> a = xp.asarray([[0.0, 0.0, 1.0, 1.0]])
    >>> b = xp.asarray([[2.0, 0.0, 3.0, 1.0]])
    >>> distance_box_iou(a, b, eps=0.0)
    Array([[-0.4]], dtype=array_api_strict.float64)
    """
    return _pairwise("diou", boxes1, boxes2, fmt, offset, eps)


@array_op("boxes1", "boxes2")
def complete_box_iou(
    boxes1: Any, boxes2: Any, /, *, fmt: str = "xyxy", offset: int = 0, eps: float = DEFAULT_EPS
) -> Any:
    """Pairwise complete IoU (Zheng et al. 2020), ``(..., N, M)``.

    ``CIoU = DIoU - alpha v`` with ``v = 4 / pi^2 (atan2(w1, h1) - atan2(w2, h2))^2``
    (widths and heights plus ``offset``; ``atan2(w, h) = atan(w / h)`` for ``h > 0``, and
    a 0 x 0 box has angle 0) and ``alpha = v / (1 - IoU + v + eps)`` (0 where that
    denominator is 0), a constant for autodiff as in torchvision. Equal to
    ``torchvision.ops.complete_box_iou`` for valid boxes with ``offset=0``.

    Parameters
    ----------
    boxes1 : array
        ``(..., N, 4)`` in ``fmt``, real floating or integer (integer boxes take the
        floating dtype of ``boxes2``, or the default float dtype).
    boxes2 : array
        ``(..., M, 4)`` in ``fmt``; the leading (batch) dimensions broadcast against
        those of ``boxes1``.
    fmt : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Format of both box arrays.
    offset : {0, 1}, default 0
        Added to every width and height: 0 for continuous coordinates, 1 for the
        pixel-inclusive convention (PASCAL VOC).
    eps : float, default 1e-7
        Finite and >= 0; see the formula above for where it goes.

    Returns
    -------
    array
        ``(..., N, M)`` over the broadcast batch dimensions, of the floating dtype of
        the boxes.

    Raises
    ------
    TypeError
        When a box array is boolean, ``offset`` is not an int or ``eps`` is not a real
        number.
    ValueError
        When a box array is not ``(..., N, 4)``, the batch dimensions do not
        broadcast, ``fmt`` is unknown, ``offset`` is not 0 or 1, ``eps`` is
        negative, infinite or NaN, or (where values are concrete) a box is inverted.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import complete_box_iou
    >>> a = xp.asarray([[0.0, 0.0, 2.0, 2.0]])
    >>> b = xp.asarray([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 1.0]])
    >>> complete_box_iou(a, b, eps=0.0)
    Array([[1.    , 0.4655]], dtype=array_api_strict.float64)
    """
    return _pairwise("ciou", boxes1, boxes2, fmt, offset, eps)


@array_op("boxes1", "boxes2")
def generalized_box_iou_loss(
    boxes1: Any, boxes2: Any, /, *, fmt: str = "xyxy", offset: int = 0,
    reduction: str = "none", eps: float = DEFAULT_EPS,
) -> Any:
    """``1 - GIoU`` of matching boxes, with ``(C - U) / (C + eps)`` as the penalty.

    Elementwise, with the conventions of the module docstring; the IoU is
    ``inter / (union + eps)``. Equal to ``torchvision.ops.generalized_box_iou_loss`` for
    valid boxes with ``offset=0``.

    Parameters
    ----------
    boxes1, boxes2 : array
        ``(..., 4)`` of the same shape in ``fmt``, matched elementwise; real floating or
        integer (integer boxes take the floating dtype of the other, or the default
        float dtype).
    fmt : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Format of both box arrays.
    offset : {0, 1}, default 0
        Added to every width and height: 0 for continuous coordinates, 1 for the
        pixel-inclusive convention (PASCAL VOC).
    reduction : {"none", "mean", "sum"}, default "none"
        ``"mean"`` of no boxes is 0.
    eps : float, default 1e-7
        Finite and >= 0; see the formula above for where it goes.

    Returns
    -------
    array
        ``boxes1.shape[:-1]`` with ``reduction="none"``, else 0-d; the floating dtype of
        the boxes.

    Raises
    ------
    TypeError
        When a box array is boolean, ``offset`` is not an int or ``eps`` is not a real
        number.
    ValueError
        When a box array is not ``(..., 4)`` or the shapes differ, ``fmt`` or
        ``reduction`` is unknown, ``offset`` is not 0 or 1, ``eps`` is negative,
        infinite or NaN, or (where values are concrete) a box is inverted.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import generalized_box_iou_loss
    >>> a = xp.asarray([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    >>> b = xp.asarray([[0.0, 0.0, 1.0, 1.0], [2.0, 0.0, 3.0, 1.0]])
    >>> generalized_box_iou_loss(a, b, eps=0.0)
    Array([0.    , 1.3333], dtype=array_api_strict.float64)
    >>> generalized_box_iou_loss(a, b, reduction="mean", eps=0.0)
    Array(0.6667, dtype=array_api_strict.float64)
    """
    return _loss("giou", boxes1, boxes2, fmt, offset, reduction, eps)


@array_op("boxes1", "boxes2")
def distance_box_iou_loss(
    boxes1: Any, boxes2: Any, /, *, fmt: str = "xyxy", offset: int = 0,
    reduction: str = "none", eps: float = DEFAULT_EPS,
) -> Any:
    """``1 - DIoU`` of matching boxes: ``1 - IoU + d^2 / (c^2 + eps)``.

    Elementwise, with the conventions of the module docstring; the IoU is
    ``inter / (union + eps)``. Equal to ``torchvision.ops.distance_box_iou_loss`` for
    valid boxes with ``offset=0``.

    Parameters
    ----------
    boxes1, boxes2 : array
        ``(..., 4)`` of the same shape in ``fmt``, matched elementwise; real floating or
        integer (integer boxes take the floating dtype of the other, or the default
        float dtype).
    fmt : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Format of both box arrays.
    offset : {0, 1}, default 0
        Added to every width and height: 0 for continuous coordinates, 1 for the
        pixel-inclusive convention (PASCAL VOC).
    reduction : {"none", "mean", "sum"}, default "none"
        ``"mean"`` of no boxes is 0.
    eps : float, default 1e-7
        Finite and >= 0; see the formula above for where it goes.

    Returns
    -------
    array
        ``boxes1.shape[:-1]`` with ``reduction="none"``, else 0-d; the floating dtype of
        the boxes.

    Raises
    ------
    TypeError
        When a box array is boolean, ``offset`` is not an int or ``eps`` is not a real
        number.
    ValueError
        When a box array is not ``(..., 4)`` or the shapes differ, ``fmt`` or
        ``reduction`` is unknown, ``offset`` is not 0 or 1, ``eps`` is negative,
        infinite or NaN, or (where values are concrete) a box is inverted.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import distance_box_iou_loss
    >>> a = xp.asarray([[0.0, 0.0, 1.0, 1.0]])
    >>> b = xp.asarray([[2.0, 0.0, 3.0, 1.0]])
    >>> distance_box_iou_loss(a, b, reduction="sum", eps=0.0)
    Array(1.4, dtype=array_api_strict.float64)
    """
    return _loss("diou", boxes1, boxes2, fmt, offset, reduction, eps)


@array_op("boxes1", "boxes2")
def complete_box_iou_loss(
    boxes1: Any, boxes2: Any, /, *, fmt: str = "xyxy", offset: int = 0,
    reduction: str = "none", eps: float = DEFAULT_EPS,
) -> Any:
    """``1 - CIoU`` of matching boxes: ``1 - IoU + d^2 / (c^2 + eps) + alpha v``.

    Elementwise, with the conventions of the module docstring; the IoU is
    ``inter / (union + eps)``. Equal to ``torchvision.ops.complete_box_iou_loss`` for
    valid boxes with ``offset=0``.

    Parameters
    ----------
    boxes1, boxes2 : array
        ``(..., 4)`` of the same shape in ``fmt``, matched elementwise; real floating or
        integer (integer boxes take the floating dtype of the other, or the default
        float dtype).
    fmt : {"xyxy", "xywh", "cxcywh"}, default "xyxy"
        Format of both box arrays.
    offset : {0, 1}, default 0
        Added to every width and height: 0 for continuous coordinates, 1 for the
        pixel-inclusive convention (PASCAL VOC).
    reduction : {"none", "mean", "sum"}, default "none"
        ``"mean"`` of no boxes is 0.
    eps : float, default 1e-7
        Finite and >= 0; see the formula above for where it goes.

    Returns
    -------
    array
        ``boxes1.shape[:-1]`` with ``reduction="none"``, else 0-d; the floating dtype of
        the boxes.

    Raises
    ------
    TypeError
        When a box array is boolean, ``offset`` is not an int or ``eps`` is not a real
        number.
    ValueError
        When a box array is not ``(..., 4)`` or the shapes differ, ``fmt`` or
        ``reduction`` is unknown, ``offset`` is not 0 or 1, ``eps`` is negative,
        infinite or NaN, or (where values are concrete) a box is inverted.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import complete_box_iou_loss
    >>> a = xp.asarray([[0.0, 0.0, 2.0, 2.0]])
    >>> b = xp.asarray([[0.0, 0.0, 2.0, 1.0]])
    >>> complete_box_iou_loss(a, b, eps=0.0)
    Array([0.5345], dtype=array_api_strict.float64)
    """
    return _loss("ciou", boxes1, boxes2, fmt, offset, reduction, eps)

