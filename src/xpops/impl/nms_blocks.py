"""The building blocks of non-maximum suppression that :mod:`xpops.impl.nms_greedy` and
:mod:`xpops.impl.nms` share: the threshold compared exactly as torchvision does, boxes as
``(5, N)`` columns (corners and area) and their IoU, and the steps on a block of candidates:
which pairs suppress one another, which boxes survive a set of kept ones, and the greedy keep
mask of a block, iterated to its fixed point.
"""

from __future__ import annotations

import struct
from typing import Any

from .._lib.control import while_loop
from .._lib.indexing import take_nonnegative as _take
from .._lib.namespace import device
from .boxes import safe_ratio

__all__ = [
    "strict_threshold",
    "box_columns",
    "column_iou",
    "plain_areas",
    "exceeds",
    "survivors",
    "resolve",
    "resolve_all",
    "earlier_pairs",
    "select_columns",
]


def strict_threshold(xp: Any, dtype: Any, t: float) -> float:
    """The value ``c`` of ``dtype`` with ``x > c`` <=> ``x > t`` (real) for every ``x``.

    Namespaces compare a float32 array with a Python float in float32, rounding ``t``;
    torchvision compares in double. Rounding down to the nearest value of ``dtype``
    gives the double comparison's answer in any namespace.
    """
    code = {16: "e", 32: "f"}.get(xp.finfo(dtype).bits)
    if code is None or not -1e4 < t < 1e4:
        return t
    c: float = struct.unpack(code, struct.pack(code, t))[0]
    if c > t:  # step down one unit in the last place of ``dtype``
        bits = struct.unpack({"e": "H", "f": "I"}[code], struct.pack(code, c))[0]
        if c > 0:
            bits -= 1
        elif c < 0:
            bits += 1
        else:  # -smallest subnormal
            bits = 0x8001 if code == "e" else 0x80000001
        c = struct.unpack(code, struct.pack({"e": "H", "f": "I"}[code], bits))[0]
    return c


def box_columns(xp: Any, xyxy: Any, offset: int) -> Any:
    """``(5, N)``: x1, y1, x2, y2 and area as contiguous rows (broadcasting strided
    columns of an ``(N, 4)`` array is several times slower on torch)."""
    x1, y1, x2, y2 = (xyxy[:, i] for i in range(4))
    if offset:
        area = (x2 - x1 + offset) * (y2 - y1 + offset)
    else:
        area = (x2 - x1) * (y2 - y1)
    return xp.stack((x1, y1, x2, y2, area))


def column_iou(xp: Any, a: Any, b: Any, offset: int, *, guard: bool = True) -> Any:
    """IoU of columns ``a (5, ...)`` and ``b (5, ...)`` (broadcast), as torchvision computes
    it: ``inter / (area_a + area_b - inter)``, 0 where the union is 0.

    ``guard=False`` divides outright, for boxes whose areas are all normal positive
    numbers (:func:`plain_areas`): every union is then positive (``inter`` is at most
    the smaller area, the rounding being monotone), so the result is the same.
    """
    zero = xp.zeros((), dtype=a.dtype, device=device(a))
    w = xp.minimum(a[2, ...], b[2, ...]) - xp.maximum(a[0, ...], b[0, ...])
    h = xp.minimum(a[3, ...], b[3, ...]) - xp.maximum(a[1, ...], b[1, ...])
    if offset:
        w, h = w + offset, h + offset
    inter = xp.maximum(w, zero) * xp.maximum(h, zero)
    union = a[4, ...] + b[4, ...] - inter
    return safe_ratio(xp, inter, union) if guard else inter / union


def plain_areas(xp: Any, cols: Any) -> bool:
    """Whether every area is finite and at least ``smallest_normal / eps``: no union can
    then be 0, subnormal (flushed to 0 on some backends) or NaN, so IoUs need no guard."""
    if cols.shape[1] == 0:
        return True
    fi = xp.finfo(cols.dtype)
    area = cols[4, :]
    return bool(xp.min(area) >= fi.smallest_normal / fi.eps) and bool(xp.max(area) <= fi.max)


def exceeds(
    xp: Any, a: Any, b: Any, t: float, offset: int, la: Any, lb: Any, guard: bool = True
) -> Any:
    """``IoU(a_i, b_j) > t`` for columns ``a (5, n)``, ``b (5, m)``; same labels only."""
    hit = column_iou(xp, a[:, :, None], b[:, None, :], offset, guard=guard) > t
    if la is not None:
        hit = hit & (la[:, None] == lb[None, :])
    return hit


def survivors(
    xp: Any, a: Any, b: Any, t: float, offset: int, la: Any, lb: Any, guard: bool
) -> Any:
    """``(m,)`` mask of the boxes of ``b (5, m)`` that no box of ``a (5, k >= 1)``
    suppresses. Without labels and guard, the largest IoU against ``t``: a float
    reduction instead of a boolean matrix (the same answer, as no IoU is NaN then)."""
    if la is None and not guard:
        iou = column_iou(xp, a[:, :, None], b[:, None, :], offset, guard=False)
        return xp.max(iou, axis=0) <= t
    return ~xp.any(exceeds(xp, a, b, t, offset, la, lb, guard), axis=0)


def resolve(xp: Any, suppresses: Any, candidate: Any = None, start: Any = None) -> Any:
    """Greedy keep mask of a block: ``suppresses[j, i]`` (j before i) and candidates
    (None: all).

    Iterates ``keep = candidate & ~any_j(keep[j] & suppresses[j, i])`` from "all kept"
    (or from ``start``, a later round): after round r every box whose suppression chain
    is at most r long is final, so the loop stops at the greedy answer (the map's only
    fixed point). Each round counts a box's kept suppressors with a matrix-vector
    product, several times faster than a boolean ``(b, b)`` pass (the count of 0/1
    terms is 0 exactly when none is 1, whatever the accumulation's precision).
    """
    edges = xp.astype(suppresses, xp.float32)

    def body(state: tuple[Any, Any]) -> tuple[Any, Any]:
        keep, _ = state
        new = xp.matmul(xp.astype(keep, xp.float32), edges) == 0
        if candidate is not None:
            new = candidate & new
        return new, xp.any(new != keep)

    keep = candidate if start is None else start
    changed = xp.asarray(True, device=device(keep))
    keep, _ = while_loop(lambda state: state[1], body, (keep, changed))
    return keep


def resolve_all(xp: Any, suppresses: Any) -> Any:
    """:func:`resolve` of a block whose boxes are all candidates, starting from its
    first round (kept: the boxes nothing in the block suppresses)."""
    return resolve(xp, suppresses, start=~xp.any(suppresses, axis=0))


def earlier_pairs(xp: Any, b: int, dev: Any) -> Any:
    """``(b, b)`` mask of the pairs ``j < i`` (row j, column i)."""
    r = xp.arange(b, device=dev)
    return r[:, None] < r[None, :]


def select_columns(xp: Any, cols: Any, labels: Any, mask: Any) -> tuple[Any, Any, Any]:
    """The columns (and labels) where ``mask`` holds, and their indices."""
    (idx,) = xp.nonzero(mask)
    picked = _take(xp, cols, idx, axis=1)
    return picked, None if labels is None else _take(xp, labels, idx), idx
