"""The implementation under test, named on the command line: ``MODULE`` or ``MODULE:ATTR``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["load_impls"]


def load_impls(target: str, ops: Sequence[str]) -> dict[str, Callable[..., Any]]:
    """Implementations from ``MODULE`` (attributes named like ops) or ``MODULE:ATTR``.

    ``MODULE:ATTR`` names one callable and needs exactly one op.
    """
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        msg = f"--impl: cannot import {module_name!r}: {exc}"
        raise SystemExit(msg) from exc
    if attr:
        if len(ops) != 1:
            msg = f"--impl {target} names one callable: give exactly one --op (got {list(ops)})"
            raise SystemExit(msg)
        fn: Any = module
        for part in attr.split("."):
            fn = getattr(fn, part, None)
            if fn is None:
                raise SystemExit(f"--impl: {module_name!r} has no attribute {attr!r}")
        return {ops[0]: fn}
    found = {op: getattr(module, op) for op in ops if callable(getattr(module, op, None))}
    if not found:
        raise SystemExit(f"--impl: {module_name!r} defines none of the ops {list(ops)}")
    return found
