"""Sort-based grouping: lexicographic orders, ranks within runs, lookups in sorted tables.

The standard has ``argsort(stable=True)`` and ``searchsorted`` but no ``lexsort`` and no
group-by; these helpers build both from them, so that code grouping rows by id (the
detection evaluations: by image and category) stays vectorised on every backend.
"""

from __future__ import annotations

from typing import Any

from .namespace import device

__all__ = ["stable_order", "ranks_in_runs", "sorted_unique", "lookup", "dense_codes"]


def stable_order(xp: Any, *keys: Any) -> Any:
    """Permutation sorting by ``keys`` lexicographically, first key most significant;
    rows equal in every key keep their input order (``np.lexsort`` of the keys reversed)."""
    perm = None
    for key in reversed(keys):
        k = key if perm is None else xp.take(key, perm)
        step = xp.argsort(k, stable=True)
        perm = step if perm is None else xp.take(perm, step)
    return perm


def ranks_in_runs(xp: Any, sorted_groups: Any) -> Any:
    """Position of each element within its run of equal values (``sorted_groups`` sorted)."""
    n = sorted_groups.shape[0]
    first = xp.searchsorted(sorted_groups, sorted_groups, side="left")
    return xp.arange(n, dtype=first.dtype, device=device(first)) - first


def sorted_unique(xp: Any, x: Any) -> Any:
    """The distinct values of ``x``, ascending (``unique_values`` leaves the order open)."""
    return xp.sort(xp.unique_values(x))


def lookup(xp: Any, table: Any, values: Any) -> tuple[Any, Any]:
    """Positions of ``values`` in the sorted ``table`` and whether they are present there
    (positions of absent values are clipped into range and meaningless)."""
    n = table.shape[0]
    pos = xp.searchsorted(table, values)
    if n == 0:
        return pos, xp.zeros(values.shape, dtype=xp.bool, device=device(values))
    clipped = xp.clip(pos, max=n - 1)
    return clipped, (pos < n) & (xp.take(table, clipped) == values)


def dense_codes(xp: Any, a: Any, b: Any, index: Any) -> tuple[Any, Any, Any]:
    """The sorted distinct values of ``a`` and ``b`` together, and each entry's position
    among them, all in the integer dtype ``index``."""
    values, inverse = xp.unique_inverse(xp.concat((xp.astype(a, index), xp.astype(b, index))))
    inverse = xp.astype(xp.reshape(inverse, (-1,)), index)
    n = a.shape[0]
    return values, inverse[:n], inverse[n:]
