"""Reductions over sorted segments, which the array API standard lacks.

``segment_max`` reduces contiguous runs of a sorted segment-id array. Native paths:
``np.maximum.reduceat``, ``torch.Tensor.scatter_reduce`` (``amax``) and
``jax.ops.segment_max``, taken only while delegation is on (see :mod:`xpops._lib.native`).
The pure-standard fallback is a segmented prefix maximum by doubling (``ceil(log2 n)``
shifted passes) whose last element per segment is then looked up with ``searchsorted``:
exact, O(n log n) work.
"""

from __future__ import annotations

from typing import Any

import array_api_compat

from .namespace import device
from .native import natives_enabled

__all__ = ["segment_max"]


def segment_max(
    xp: Any, values: Any, segment_ids: Any, /, *, num_segments: int, fill: float
) -> Any:
    """Maximum of ``values`` per segment, ``fill`` for empty segments.

    ``values`` and ``segment_ids`` are 1-D of one length; ``segment_ids`` is an integer
    array sorted ascending with values in ``[0, num_segments)`` (callers guarantee it).
    Returns shape ``(num_segments,)`` in the dtype of ``values``.
    """
    if natives_enabled():
        out = _native_segment_max(xp, values, segment_ids, num_segments, fill)
        if out is not None:
            return out
    return _doubling_segment_max(xp, values, segment_ids, num_segments, fill)


def _native_segment_max(xp: Any, values: Any, ids: Any, num: int, fill: float) -> Any:
    if array_api_compat.is_numpy_array(values):
        import numpy as np

        table = np.full(num, fill, dtype=values.dtype)
        if values.shape[0]:
            starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
            table[ids[starts]] = np.maximum.reduceat(values, starts)
        return table
    if array_api_compat.is_torch_array(values):
        import torch

        base = torch.full((num,), fill, dtype=values.dtype, device=values.device)
        return base.scatter_reduce(0, ids.to(torch.int64), values, "amax", include_self=False)
    if array_api_compat.is_jax_array(values):
        import jax

        best = jax.ops.segment_max(values, ids, num_segments=num, indices_are_sorted=True)
        counts = jax.ops.segment_sum(xp.ones_like(values), ids, num_segments=num)
        return xp.where(counts > 0, best, xp.asarray(fill, dtype=values.dtype))
    return None


def _doubling_segment_max(xp: Any, values: Any, ids: Any, num: int, fill: float) -> Any:
    n = values.shape[0]
    dev = device(values)
    y = values
    shift = 1
    while shift < n:  # a loop over log2(n) passes, not over elements
        same = ids[shift:] == ids[:-shift]
        moved = xp.where(same, xp.maximum(y[shift:], y[:-shift]), y[shift:])
        y = xp.concat((y[:shift], moved))
        shift *= 2
    segments = xp.arange(num, dtype=ids.dtype, device=dev)
    last = xp.searchsorted(ids, segments, side="right") - 1
    safe = xp.clip(last, min=0)
    present = (last >= 0) & (xp.take(ids, safe) == segments) if n else last >= 0
    picked = xp.take(y, safe) if n else xp.zeros((num,), dtype=values.dtype, device=dev)
    return xp.where(present, picked, xp.asarray(fill, dtype=values.dtype, device=dev))
