"""Hypothesis building blocks shared by the specs."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

__all__ = ["float_arrays", "shapes", "masks_for", "SPECIALS"]

SPECIALS = (np.inf, -np.inf, np.nan)


@st.composite
def shapes(draw: Any, *, min_dims: int = 1, max_dims: int = 3, long_axis: int | None = None):
    """Array shapes whose dimensions include 0 and lengths beyond 16 on ``long_axis``.

    Lengths over 16 matter because several backends switch to vectorised or
    non-stable code paths there.
    """
    ndim = draw(st.integers(min_dims, max_dims))
    dims = [draw(st.integers(0, 6)) for _ in range(ndim)]
    if ndim and long_axis is not None:
        axis = long_axis % ndim
        dims[axis] = draw(st.one_of(st.integers(1, 8), st.integers(17, 40)))
    return tuple(dims)


@st.composite
def float_arrays(
    draw: Any,
    shape: tuple[int, ...],
    *,
    scale: float = 20.0,
    huge: float = 1e4,
    specials: tuple[float, ...] = (),
) -> np.ndarray:
    """Float64 arrays of moderate values, with a few huge ones and optional specials.

    Values come from a seeded NumPy generator (drawn by hypothesis) so large arrays are
    cheap to generate; hypothesis still controls, shrinks and replays the seed and the
    sprinkled extremes.
    """
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["normal", "integers", "constant"]))
    if kind == "normal":
        x = rng.normal(scale=scale / 4, size=shape)
    elif kind == "integers":  # many exact ties
        x = rng.integers(-3, 4, size=shape).astype(np.float64)
    else:
        x = np.full(shape, draw(st.sampled_from([0.0, 1.0, -7.5, 1000.0])))
    x = np.asarray(x, dtype=np.float64)  # size=() gives a Python float
    n = x.size
    if n:
        for value in (huge, -huge, *specials):
            if draw(st.integers(0, 5)) == 0:  # rare, so most rows stay ordinary
                count = draw(st.integers(1, max(1, n // 4)))
                x.flat[rng.choice(n, size=count, replace=False)] = value
    return x


@st.composite
def masks_for(draw: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Boolean masks broadcastable to ``shape`` (some dimensions may be 1)."""
    mshape = tuple(d if draw(st.booleans()) else 1 for d in shape) if shape else ()
    seed = draw(st.integers(0, 2**32 - 1))
    density = draw(st.sampled_from([0.0, 0.3, 0.8, 1.0]))
    return np.random.default_rng(seed).random(mshape) < density
