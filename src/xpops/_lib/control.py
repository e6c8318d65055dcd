"""Control flow the array API standard lacks: a while loop that also runs under ``jax.jit``.

Native path: ``jax.lax.while_loop`` when the loop state holds JAX tracers (inside
``jit``), where a Python ``while`` cannot read its condition. Fallback: a plain Python
loop on concrete values, for every other namespace and for eager JAX. The native path is
no fast path but the only form of a traced loop, so ``natives_disabled()`` keeps it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

from .namespace import is_concrete

__all__ = ["while_loop"]

State = TypeVar("State", bound=tuple)


def while_loop(
    cond: Callable[[State], Any], body: Callable[[State], State], state: State
) -> State:
    """``while cond(state): state = body(state)``; ``cond`` returns a 0-d boolean array.

    ``body`` must keep the shapes and dtypes of the state's arrays (as
    ``jax.lax.while_loop`` requires), so the same code runs eagerly and traced.
    """
    flag = cond(state)
    if any(_traced(x) for x in (flag, *state)):
        import jax

        return jax.lax.while_loop(cond, body, state)
    while bool(flag):
        state = body(state)
        flag = cond(state)
    return state


def _traced(flag: Any) -> bool:
    """True for a JAX tracer: its value cannot be read in a Python ``while``."""
    if "jax" not in sys.modules:
        return False
    import jax

    return isinstance(flag, jax.Array) and not is_concrete(flag)
