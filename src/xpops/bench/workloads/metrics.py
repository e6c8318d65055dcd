"""Workloads of the classification and segmentation metrics.

- ``confusion_matrix``: 2^24 random labels, 21 and 150 classes; numpy against
  ``sklearn.metrics.confusion_matrix`` and a bare ``np.bincount``, torch against
  ``torch.bincount``.
- ``best_fbeta_threshold``: 10^6 float32 scores; numpy against
  ``sklearn.metrics.precision_recall_curve`` + F-beta + argmax.
- ``dice_loss``: forward + backward on (8, 21, 256, 256) float32 logits with label
  targets; torch against MONAI ``DiceLoss(softmax=True, to_onehot_y=True)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import xpops

from ..peers import Peer, Side
from ._base import Generator, Workload, scale_of, xpops_op

# ------------------------------------------------------------------------ inputs

CM_CLASSES = (21, 150)
CM_LABELS = 1 << 24
SCORES = 10**6
DICE_SHAPE = (8, 21, 256, 256)


def _cm_size(size: tuple[int, int]) -> int:
    return max(1, round(CM_LABELS * scale_of(size)))


def _scores_size(size: tuple[int, int]) -> int:
    return max(2, round(SCORES * scale_of(size)))


def _dice_shape(size: tuple[int, int]) -> tuple[int, int, int, int]:
    side = max(2, round(DICE_SHAPE[2] * math.sqrt(scale_of(size))))
    return (DICE_SHAPE[0], DICE_SHAPE[1], side, side)


def _labels(k: int) -> Generator:
    return lambda rng, size: rng.integers(0, k, size=_cm_size(size), dtype=np.int64)


def _scores_target(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return (rng.random(_scores_size(size)) < 0.3).astype(np.int64)


def _dice_logits(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    return rng.standard_normal(_dice_shape(size), dtype=np.float32)


def _dice_labels(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    n, c, h, w = _dice_shape(size)
    return rng.integers(0, c, size=(n, h, w), dtype=np.int64)


def _noisy_scores(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Scores in (0, 1) from a logistic model: few exact ties, like a classifier's."""
    n = _scores_size(size)
    positive = rng.random(n) < 0.3
    logit = rng.standard_normal(n) + 1.5 * positive
    return np.stack([1 / (1 + np.exp(-logit)), positive]).astype(np.float32)


# Named input generators, each from its own seed stream (its position here), so an
# array is the same whichever workloads are selected. Scores and their target are drawn
# together (as one float32 stack) and split by the named views in DERIVED.
INPUTS: dict[str, Generator] = {
    **{f"cm_preds_{k}": _labels(k) for k in CM_CLASSES},
    **{f"cm_target_{k}": _labels(k) for k in CM_CLASSES},
    "fbeta_pair": _noisy_scores,
    "dice_logits": _dice_logits,
    "dice_labels": _dice_labels,
}
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "scores": ("fbeta_pair", lambda pair: np.ascontiguousarray(pair[0])),
    "score_target": ("fbeta_pair", lambda pair: pair[1].astype(np.int64)),
}

# --------------------------------------------------------------- confusion_matrix


def _xpops_cm(k: int) -> Callable[[], Side]:
    def load() -> Side:
        confusion_matrix = xpops_op("confusion_matrix")
        return Side(
            lambda p, t: confusion_matrix(p, t, num_classes=k),
            (f"cm_preds_{k}", f"cm_target_{k}"),
        )

    return load


def _sklearn_cm(k: int) -> Callable[[], Side]:
    def load() -> Side:
        from sklearn.metrics import confusion_matrix

        labels = np.arange(k)
        return Side(
            lambda p, t: confusion_matrix(t, p, labels=labels),
            (f"cm_preds_{k}", f"cm_target_{k}"),
        )

    return load


def _np_bincount_cm(k: int) -> Callable[[], Side]:
    def load() -> Side:
        return Side(
            lambda p, t: np.bincount(t * k + p, minlength=k * k).reshape(k, k),
            (f"cm_preds_{k}", f"cm_target_{k}"),
        )

    return load


def _torch_bincount_cm(k: int) -> Callable[[], Side]:
    def load() -> Side:
        import torch

        return Side(
            lambda p, t: torch.bincount(t * k + p, minlength=k * k).reshape(k, k),
            (f"cm_preds_{k}", f"cm_target_{k}"),
        )

    return load


def _cm_workload(k: int) -> Workload:
    return Workload(
        op="confusion_matrix",
        describe=lambda size: f"{_cm_size(size)} int64 labels, K={k}",
        ours=_xpops_cm(k),
        peers={
            "numpy": (
                Peer("sklearn.metrics.confusion_matrix", 0.2, _sklearn_cm(k)),
                Peer("np.bincount(t * K + p)", 1.5, _np_bincount_cm(k)),
            ),
            "torch": (Peer("torch.bincount(t * K + p)", 1.5, _torch_bincount_cm(k)),),
        },
    )


# ---------------------------------------------------------- best_fbeta_threshold


def _xpops_best() -> Side:
    return Side(lambda s, t: xpops.best_fbeta_threshold(s, t), ("scores", "score_target"))


def _sklearn_best() -> Side:
    from sklearn.metrics import precision_recall_curve

    def best(s: Any, t: Any) -> Any:
        precision, recall, thresholds = precision_recall_curve(t, s)
        denominator = precision + recall
        f = 2 * precision * recall / np.where(denominator > 0, denominator, 1)
        i = int(np.argmax(f[:-1]))
        return thresholds[i], f[i]

    return Side(best, ("scores", "score_target"))


# --------------------------------------------------------------------- dice_loss


def _xpops_dice() -> Side:
    import torch

    dice_loss = xpops_op("dice_loss")

    def forward_backward(x: Any, t: Any) -> Any:
        x = x.detach().requires_grad_(True)
        loss = dice_loss(x, t, activation="softmax")
        return torch.autograd.grad(loss, x)[0]

    return Side(forward_backward, ("dice_logits", "dice_labels"))


def _monai_dice() -> Side:
    import torch
    from monai.losses import DiceLoss

    dice = DiceLoss(softmax=True, to_onehot_y=True)

    def forward_backward(x: Any, t: Any) -> Any:
        x = x.detach().requires_grad_(True)
        loss = dice(x, t[:, None])
        return torch.autograd.grad(loss, x)[0]

    return Side(forward_backward, ("dice_logits", "dice_labels"))


def _describe_dice(size: tuple[int, int]) -> str:
    return f"f32 {_dice_shape(size)} softmax, label target, forward + backward"


WORKLOADS: tuple[Workload, ...] = (
    *(_cm_workload(k) for k in CM_CLASSES),
    Workload(
        op="best_fbeta_threshold",
        describe=lambda size: f"{_scores_size(size)} f32 scores, 0/1 target, F1",
        ours=_xpops_best,
        peers={
            "numpy": (
                Peer("sklearn precision_recall_curve + F1 + argmax", 1.5, _sklearn_best),
            ),
        },
    ),
    Workload(
        op="dice_loss",
        describe=_describe_dice,
        ours=_xpops_dice,
        peers={"torch": (Peer("monai.losses.DiceLoss(softmax=True)", 1.5, _monai_dice),)},
    ),
)
