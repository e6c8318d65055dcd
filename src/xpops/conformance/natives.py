"""Native counterparts as implementations under test.

Every spec lists its natives (``torchvision.ops.nms``, ``torch.nn.functional.softmax``,
``sklearn.metrics.fbeta_score``, ...) with an adapter that gives them the xpops
signature. This module finds them by name and runs the engine on them, on the backends
whose arrays they take, so ``xpops conformance --impl torchvision.ops:nms --op nms``
checks torchvision's code against the same spec as xpops' own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..spec import Native, OpSpec
from .backends import Backend
from .engine import check_op
from .results import OpResult, Status

__all__ = ["ARRAY_LIBRARY", "array_library", "find_natives", "native_backends", "check_native"]

# the array library whose arrays each native's library takes
ARRAY_LIBRARY = {
    "torch": "torch",
    "torchvision": "torch",
    "torchmetrics": "torch",
    "monai": "torch",
    "jax": "jax",
    "optax": "jax",
}  # anything else (numpy, scipy, scikit-learn, pycocotools, ...) takes NumPy arrays


def _names(native: Native) -> tuple[str, ...]:
    return (native.name, *native.aliases)


def find_natives(target: str, specs: Iterable[OpSpec]) -> dict[str, Native]:
    """The natives ``target`` names, by op.

    ``MODULE:ATTR`` (or ``MODULE.ATTR``) names one function; ``MODULE`` alone takes, for
    each op, the first native that lives in that module. Ops without one are left out.
    """
    wanted = target.replace(":", ".")
    found = {}
    for spec in specs:
        exact = [n for n in spec.natives if wanted in _names(n)]
        inside = [
            n for n in spec.natives
            if any(name.startswith(wanted + ".") for name in _names(n))
        ]
        if exact or (":" not in target and inside):
            found[spec.name] = (exact or inside)[0]
    return found


def array_library(native: Native) -> str:
    """The array library whose arrays ``native`` takes (the first part of a backend name)."""
    return ARRAY_LIBRARY.get(native.library, "numpy")


def native_backends(native: Native, backends: Sequence[Backend]) -> list[Backend]:
    """Those of ``backends`` whose arrays ``native`` takes."""
    return [b for b in backends if b.library == array_library(native)]


def check_native(
    spec: OpSpec, native: Native, backends: Sequence[Backend], **options: Any
) -> list[OpResult]:
    """The engine's checks of ``native`` on each of ``backends`` it takes arrays of.

    A native whose library is not installed gives one "not installed" result per
    backend; options its adapter does not offer are counted as unsupported, not failed.
    """
    chosen = native_backends(native, backends)
    try:
        fn = native.load()
    except ImportError as exc:
        return [
            OpResult(spec.name, b.name, Status.NOT_INSTALLED, impl=native.name,
                     reason=f"{native.library}: {exc}")
            for b in chosen
        ]
    return [check_op(spec, b, fn, impl_name=native.name, **options) for b in chosen]
