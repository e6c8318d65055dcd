"""Workloads of the distances and the k-nearest-neighbour classifier (float32).

- ``knn_predict``: 20,000 training points, 2,000 queries, 64 features, 10 classes, k=5;
  numpy against ``KNeighborsClassifier(algorithm="brute")`` (fit + predict: a brute fit
  only stores the data), torch against ``torch.cdist`` + ``torch.topk`` + a vote.
- ``pairwise_distances``: 4096 x 4096 points of 128 features, euclidean, against the
  float32 matrix product ``a @ b.T`` of the same shapes (the GEMM it needs) on numpy and
  torch; scikit-learn's ``euclidean_distances`` and ``torch.cdist`` as information.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..peers import Peer, Side
from ._base import Generator, Workload, scale_of, xpops_op

KNN_TRAIN, KNN_QUERIES, KNN_FEATURES, KNN_CLASSES, KNN_K = 20_000, 2_000, 64, 10, 5
PD_ROWS, PD_FEATURES = 4096, 128


def _knn_sizes(size: tuple[int, int]) -> tuple[int, int]:
    scale = scale_of(size)
    return max(2 * KNN_K, round(KNN_TRAIN * scale)), max(1, round(KNN_QUERIES * scale))


def _pd_rows(size: tuple[int, int]) -> int:
    return max(1, round(PD_ROWS * math.sqrt(scale_of(size))))


def _points(rows: Callable[[tuple[int, int]], int], features: int) -> Generator:
    return lambda rng, size: rng.standard_normal((rows(size), features), dtype=np.float32)


INPUTS: dict[str, Generator] = {
    "knn_train": _points(lambda size: _knn_sizes(size)[0], KNN_FEATURES),
    "knn_labels": lambda rng, size: rng.integers(0, KNN_CLASSES, size=_knn_sizes(size)[0],
                                                 dtype=np.int64),
    "knn_queries": _points(lambda size: _knn_sizes(size)[1], KNN_FEATURES),
    "pd_a": _points(_pd_rows, PD_FEATURES),
    "pd_b": _points(_pd_rows, PD_FEATURES),
}
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {}
_KNN_INPUTS = ("knn_train", "knn_labels", "knn_queries")
_PD_INPUTS = ("pd_a", "pd_b")

# --------------------------------------------------------------------- knn_predict


def _xpops_knn() -> Side:
    knn_predict = xpops_op("knn_predict")
    return Side(
        lambda x, y, q: knn_predict(x, y, q, k=KNN_K, num_classes=KNN_CLASSES), _KNN_INPUTS
    )


def _sklearn_knn() -> Side:
    from sklearn.neighbors import KNeighborsClassifier

    def predict(x: Any, y: Any, q: Any) -> Any:
        return KNeighborsClassifier(n_neighbors=KNN_K, algorithm="brute").fit(x, y).predict(q)

    return Side(predict, _KNN_INPUTS)


def _torch_knn() -> Side:
    import torch

    def predict(x: Any, y: Any, q: Any) -> Any:
        _, index = torch.topk(torch.cdist(q, x), KNN_K, dim=1, largest=False)
        votes = torch.nn.functional.one_hot(y[index], KNN_CLASSES).sum(dim=1)
        return votes.argmax(dim=1)

    return Side(predict, _KNN_INPUTS)


# -------------------------------------------------------------- pairwise_distances


def _xpops_pd() -> Side:
    pairwise_distances = xpops_op("pairwise_distances")
    return Side(lambda a, b: pairwise_distances(a, b), _PD_INPUTS)


def _matmul() -> Side:
    return Side(lambda a, b: a @ b.T, _PD_INPUTS)


def _sklearn_pd() -> Side:
    from sklearn.metrics.pairwise import euclidean_distances

    return Side(euclidean_distances, _PD_INPUTS)


def _torch_cdist() -> Side:
    import torch

    return Side(torch.cdist, _PD_INPUTS)


def _describe_knn(size: tuple[int, int]) -> str:
    n, q = _knn_sizes(size)
    return f"f32 {n} train x {q} queries x {KNN_FEATURES}, {KNN_CLASSES} classes, k={KNN_K}"


def _describe_pd(size: tuple[int, int]) -> str:
    n = _pd_rows(size)
    return f"f32 {n} x {n} x {PD_FEATURES}, euclidean"


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        op="knn_predict",
        describe=_describe_knn,
        ours=_xpops_knn,
        peers={
            "numpy": (Peer("sklearn KNeighborsClassifier(algorithm='brute')", 1.0,
                           _sklearn_knn),),
            "torch": (Peer("torch.cdist + torch.topk + vote", 1.5, _torch_knn),),
        },
    ),
    Workload(
        op="pairwise_distances",
        describe=_describe_pd,
        ours=_xpops_pd,
        peers={
            "numpy": (
                Peer("float32 a @ b.T", 1.3, _matmul),
                Peer("sklearn euclidean_distances", None, _sklearn_pd),
            ),
            "torch": (
                Peer("float32 a @ b.T", 1.3, _matmul),
                Peer("torch.cdist", None, _torch_cdist),
            ),
        },
    ),
)
