"""The implementation under test, named by a target: ``MODULE`` or ``MODULE:ATTR``.

The command line (``--impl``), the pytest plugin (``--xpops-impl``) and the worker
processes resolve targets here; a target that does not resolve raises
:class:`TargetError`, which each caller reports in its own terms.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["TargetError", "load_impls"]


class TargetError(ValueError):
    """A target that names no implementation: the message names the target and why."""


def load_impls(target: str, ops: Sequence[str]) -> dict[str, Callable[..., Any]]:
    """Implementations from ``MODULE`` (attributes named like ops) or ``MODULE:ATTR``.

    ``MODULE:ATTR`` names one callable and needs exactly one op. Raises
    :class:`TargetError` when the module does not import, the attribute is missing,
    ``MODULE:ATTR`` comes with several ops, or the module defines none of ``ops``.
    """
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        msg = f"cannot import {module_name!r}: {exc}"
        raise TargetError(msg) from exc
    if attr:
        if len(ops) != 1:
            msg = f"{target} names one callable: give exactly one op (got {list(ops)})"
            raise TargetError(msg)
        fn: Any = module
        for part in attr.split("."):
            fn = getattr(fn, part, None)
            if fn is None:
                raise TargetError(f"{module_name!r} has no attribute {attr!r}")
        return {ops[0]: fn}
    found = {op: getattr(module, op) for op in ops if callable(getattr(module, op, None))}
    if not found:
        raise TargetError(f"{module_name!r} defines none of the ops {list(ops)}")
    return found
