"""Pairwise distances and k-nearest neighbours: search, vote, cross-validation.

The family's public names, from the modules that hold them:

- :mod:`~xpops.impl.neighbors_distances`: :func:`pairwise_distances` and the distance
  kernels (the centred matrix-product expansion and its refinement);
- :mod:`~xpops.impl.neighbors_search`: :func:`kneighbors`, the blocked top-k search;
- :mod:`~xpops.impl.neighbors_vote`: :func:`knn_predict` and :func:`knn_predict_proba`;
- :mod:`~xpops.impl.neighbors_cv`: :func:`knn_cross_validate` and :func:`best_k`;
- :mod:`~xpops.impl.neighbors_common`: the input checks, blocks of rows and the
  compiled run on JAX that they share.
"""

from __future__ import annotations

from .neighbors_common import METRICS
from .neighbors_cv import DEFAULT_K_CHOICES, best_k, knn_cross_validate
from .neighbors_distances import pairwise_distances
from .neighbors_search import kneighbors
from .neighbors_vote import WEIGHTS, knn_predict, knn_predict_proba

__all__ = [
    "pairwise_distances",
    "kneighbors",
    "knn_predict",
    "knn_predict_proba",
    "knn_cross_validate",
    "best_k",
    "METRICS",
    "WEIGHTS",
    "DEFAULT_K_CHOICES",
]
