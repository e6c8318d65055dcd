"""Gathers by indices known to be non-negative, without the wrappers' negative-index fix.

array-api-compat's ``take`` on torch rewrites every index with a ``where`` (torch's
``index_select`` rejects negative indices, pytorch/pytorch#146211), which costs more
than the gather itself on the millions of pair indices NMS generates. Native path:
``torch.index_select``; fallback: the namespace's standard ``take``.
"""

from __future__ import annotations

from typing import Any

from .native import native_torch

__all__ = ["take_nonnegative"]


def take_nonnegative(xp: Any, x: Any, indices: Any, /, *, axis: int = 0) -> Any:
    """``xp.take(x, indices, axis=axis)`` for ``indices`` in ``[0, x.shape[axis])``."""
    torch = native_torch(x, indices)
    if torch is not None:
        return torch.index_select(x, axis, indices)
    return xp.take(x, indices, axis=axis)
