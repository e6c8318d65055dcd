"""What the distance and neighbour ops share: input checks, blocks of rows, and the run
of a whole op as one compiled program on JAX, with its value checks inside.

On concrete JAX arrays (natives enabled) the finite-value and label-range checks would
each compile a program per shape; :func:`run_checked` folds them into the op's own
program and raises from its flags afterwards, with the messages of the eager checks.
"""

from __future__ import annotations

from typing import Any

import array_api_compat

from .._lib.jax_eager import on_jax, run_compiled
from .._lib.namespace import array_namespace, is_concrete, values_readable
from .._lib.native import natives_enabled
from .._lib.validation import (
    check_choice,
    check_count,
    check_integer,
    check_label_range,
    check_num_classes,
    check_real_floating,
    concrete_true,
    size,
)

__all__ = [
    "METRICS",
    "BLOCK_ELEMENTS",
    "check_points",
    "check_finite",
    "check_pair",
    "check_labels",
    "as_float",
    "row_blocks",
    "run_checked",
]

METRICS = ("euclidean", "sqeuclidean", "manhattan", "cosine")

BLOCK_ELEMENTS = 1 << 22  # default bound on the entries of one block's temporaries


# ------------------------------------------------------------------- validation


def check_points(xp: Any, x: Any, name: str) -> None:
    """``x`` is a real floating ``(n_points, n_features)`` array."""
    check_real_floating(xp, x, name)
    if x.ndim != 2:
        msg = f"`{name}` must be a 2-D (n_points, n_features) array, got shape {tuple(x.shape)}"
        raise ValueError(msg)


def _check_features(a: Any, b: Any, name_a: str, name_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        msg = (
            f"`{name_b}` must have the feature dimension of `{name_a}`, got "
            f"{name_b}.shape={tuple(b.shape)} and {name_a}.shape={tuple(a.shape)}"
        )
        raise ValueError(msg)


def _deferred(x: Any) -> bool:
    """True for concrete JAX arrays on the compiled path: their value checks run inside
    the compiled op (see :func:`run_checked`), saving one compilation per check and
    shape."""
    return natives_enabled() and array_api_compat.is_jax_array(x) and is_concrete(x)


def _not_finite(name: str) -> ValueError:
    return ValueError(f"`{name}` holds NaN or infinite values")


def check_finite(xp: Any, x: Any, name: str) -> None:
    """No NaN or infinity in ``x`` where its values can be read (deferred on JAX)."""
    if _deferred(x):
        return
    if is_concrete(x) and size(x) and concrete_true(~xp.all(xp.isfinite(x))):
        raise _not_finite(name)


def check_pair(
    xp: Any, train: Any, query: Any, names: tuple[str, str], metric: str, chunk_size: Any
) -> int | None:
    """Two point sets of one feature dimension, the metric and ``chunk_size`` (returned
    as an int, or None)."""
    check_points(xp, train, names[0])
    check_points(xp, query, names[1])
    _check_features(train, query, *names)
    check_choice(metric, "metric", METRICS)
    chunk_size = check_count(chunk_size, "chunk_size", minimum=1, optional=True)
    check_finite(xp, train, names[0])
    check_finite(xp, query, names[1])
    return chunk_size


def check_labels(xp: Any, y: Any, n: int, num_classes: Any, name: str = "y_train") -> int:
    """Validate integer labels of length ``n``; return the number of classes
    (``max(y) + 1`` when ``num_classes`` is None)."""
    check_integer(xp, y, name)
    if y.ndim != 1 or y.shape[0] != n:
        msg = f"`{name}` must have shape ({n},), one label per point, got {tuple(y.shape)}"
        raise ValueError(msg)
    readable = values_readable(xp, y) and n > 0
    if num_classes is None:
        if not readable:
            msg = f"`num_classes` is required when the values of `{name}` cannot be read"
            raise ValueError(msg)
        top = int(xp.max(y))
        if top < 0:  # every label negative: no count of classes to check them against
            check_label_range(xp, y, name, None)
        num_classes = top + 1
    num_classes = check_num_classes(num_classes)
    if readable and not _deferred(y):
        check_label_range(xp, y, name, num_classes)
    return num_classes


# --------------------------------------------------------------------- helpers


def as_float(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """``a`` and ``b`` in their promoted float dtype."""
    dtype = xp.result_type(a.dtype, b.dtype)
    return (a if a.dtype == dtype else xp.astype(a, dtype)), (
        b if b.dtype == dtype else xp.astype(b, dtype)
    )


def row_blocks(n: int, chunk_size: int | None, per_row: int, *, lazy: bool = False
               ) -> list[tuple[int, int]]:
    """``[start, stop)`` of each block of rows (stops clamped: the standard leaves
    out-of-bounds slice stops unspecified). Without ``chunk_size``, blocks of about
    ``BLOCK_ELEMENTS / per_row`` rows; ``lazy`` (Dask) with no ``chunk_size``: one
    block, since the arrays' own chunks bound the memory of each task."""
    if lazy and chunk_size is None:
        return [(0, n)]
    rows = chunk_size if chunk_size is not None else max(1, BLOCK_ELEMENTS // max(1, per_row))
    return [(s, min(s + rows, n)) for s in range(0, n, rows)]


# ------------------------------------------------------------ the compiled run


def run_checked(
    fn: Any, *arrays: Any, finite: tuple[str, ...] = (), labels: str = "", **static: Any
) -> Any:
    """``fn(*arrays, **static)``, compiled whole on JAX (see ``run_compiled``).

    There the value checks the validation deferred run inside the compiled function and
    raise here: ``finite`` names the leading float arrays, ``labels`` the integer array
    after them (checked against ``static["num_classes"]``).
    """
    if not on_jax(*arrays):
        return fn(*arrays, **static)
    out, flags = run_compiled(
        _checked, arrays, core=fn, finite=len(finite), labels=bool(labels), **static
    )
    xp = array_namespace(flags)
    if values_readable(xp, flags):
        for i, name in enumerate(finite):
            if not bool(flags[i]):
                raise _not_finite(name)
        if labels and not bool(flags[len(finite)]):
            check_label_range(xp, arrays[len(finite)], labels, static["num_classes"])
    return out


def _checked(*arrays: Any, core: Any, finite: int, labels: bool, **static: Any) -> Any:
    """``core``'s result and the value checks of its inputs, as one boolean array."""
    xp = array_namespace(*arrays)
    flags = [xp.all(xp.isfinite(arrays[i])) for i in range(finite)]
    if labels:
        y = arrays[finite]
        flags.append(xp.all((y >= 0) & (y < static["num_classes"])))
    return core(*arrays, **static), xp.stack(flags)
