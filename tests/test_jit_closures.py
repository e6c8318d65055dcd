"""Ops stay jit-able when concrete label arrays are closed over by the traced function.

Inside ``jax.jit`` even a concrete array gives traced results, so value checks must be
skipped there rather than read (which raises a concretization error).
"""

from __future__ import annotations

import numpy as np
import pytest

import xpops

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

LABELS = np.array([0, 2, 1, 2, 0, 1])
OTHER = np.array([0, 1, 1, 2, 2, 1])


def _cases():
    t, p = jnp.asarray(LABELS), jnp.asarray(OTHER)
    binary = jnp.asarray(LABELS % 2)
    return {
        "cross_entropy": lambda x: xpops.cross_entropy(x, t),
        "confusion_matrix": lambda x: xpops.confusion_matrix(p, t, num_classes=3) + 0 * x[0, 0],
        "f1_score": lambda x: xpops.f1_score(
            p, t, task="multiclass", num_classes=3, average="macro"
        ) + 0 * x[0, 0],
        "mean_iou": lambda x: xpops.mean_iou(p, t, num_classes=3).miou + 0 * x[0, 0],
        "best_fbeta_threshold": lambda x: xpops.best_fbeta_threshold(x[:, 0], binary)[1],
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_closed_over_labels_under_jit(name):
    fn = _cases()[name]
    x = jnp.asarray(np.random.default_rng(0).normal(size=(6, 3)), dtype=jnp.float32)
    np.testing.assert_allclose(np.asarray(jax.jit(fn)(x)), np.asarray(fn(x)), rtol=1e-6)


def test_closed_over_out_of_range_labels_are_dropped_not_misplaced():
    bad = jnp.asarray(np.array([0, 3]))  # 3 is out of range for num_classes=3
    target = jnp.asarray(np.array([0, 0]))
    cm = jax.jit(lambda: xpops.confusion_matrix(bad, target, num_classes=3))()
    np.testing.assert_array_equal(np.asarray(cm), [[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="preds"):
        xpops.confusion_matrix(bad, target, num_classes=3)  # eager: raises
