"""Specs of the distance and k-nearest-neighbour family.

Cases avoid *near* ties on purpose: float32 distances differ from the float64 oracle's by
rounding, so two neighbours whose exact distances differ by less than that can come out
in either order on any implementation. Exact ties are exercised (integer-valued points,
duplicated rows), and there the order is normative: training-index order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import impl
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported

_METRICS = ("euclidean", "sqeuclidean", "manhattan", "cosine")
# CS231n's k_choices (assignment 1, knn cross-validation), written out so that the
# oracle does not take its default from the implementation it judges.
K_CHOICES = (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)

# --------------------------------------------------------------------------- oracles


def _distances(a, b, metric):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    diff = a[:, None, :] - b[None, :, :]
    if metric == "euclidean":
        return np.sqrt(np.sum(diff * diff, axis=-1))
    if metric == "sqeuclidean":
        return np.sum(diff * diff, axis=-1)
    if metric == "manhattan":
        return np.sum(np.abs(diff), axis=-1)
    out = np.ones((a.shape[0], b.shape[0]))  # a zero row: similarity 0
    for i, u in enumerate(a):
        for j, v in enumerate(b):
            nu, nv = np.linalg.norm(u), np.linalg.norm(v)
            if nu > 0 and nv > 0:  # 1 - cos, without cancelling for nearly parallel rows
                out[i, j] = np.clip(np.sum((u / nu - v / nv) ** 2) / 2, 0, 2)
    return out


def pairwise_distances_oracle(a, b, metric="euclidean", chunk_size=None):
    return _distances(a, b, metric)


def kneighbors_oracle(x_train, x_query, k, metric="euclidean", chunk_size=None):
    d = _distances(x_query, x_train, metric)
    index = np.argsort(d, axis=1, kind="stable")[:, :k]  # equal distances: index order
    return np.take_along_axis(d, index, axis=1), index


def _votes(x_train, y_train, x_query, k, metric, weights, num_classes):
    d, index = kneighbors_oracle(x_train, x_query, k, metric)
    y = np.asarray(y_train)
    c = int(y.max()) + 1 if num_classes is None else num_classes
    votes = np.zeros((d.shape[0], c))
    for q in range(d.shape[0]):
        exact = d[q] == 0
        for j in range(k):
            if weights == "uniform":
                w = 1.0
            elif exact.any():  # an exact match takes all the weight
                w = float(exact[j])
            else:
                w = 1.0 / d[q, j]
            votes[q, y[index[q, j]]] += w
    return votes


def knn_predict_oracle(x_train, y_train, x_query, k=1, metric="euclidean",
                       weights="uniform", num_classes=None, chunk_size=None):
    votes = _votes(x_train, y_train, x_query, k, metric, weights, num_classes)
    return np.argmax(votes, axis=1)  # the first maximum: the smallest label


def knn_predict_proba_oracle(x_train, y_train, x_query, k=1, metric="euclidean",
                             weights="uniform", num_classes=None, chunk_size=None):
    votes = _votes(x_train, y_train, x_query, k, metric, weights, num_classes)
    return votes / votes.sum(axis=1, keepdims=True)


def knn_cross_validate_oracle(x, y, k_choices=K_CHOICES, num_folds=5,
                              metric="euclidean"):
    x, y = np.asarray(x), np.asarray(y)
    folds = np.array_split(np.arange(x.shape[0]), num_folds)
    num_classes = int(y.max()) + 1
    out = np.zeros((len(k_choices), num_folds))
    for j, fold in enumerate(folds):
        train = np.concatenate([f for i, f in enumerate(folds) if i != j])
        for i, k in enumerate(k_choices):
            predicted = knn_predict_oracle(x[train], y[train], x[fold], k, metric,
                                           num_classes=num_classes)
            out[i, j] = np.mean(predicted == y[fold])
    return out


def best_k_oracle(k_choices, accuracies):
    means = np.asarray(accuracies, dtype=np.float64).mean(axis=1)
    return np.asarray(min(k for k, m in zip(k_choices, means, strict=True)
                          if m == means.max()))


# ------------------------------------------------------------------------ strategies


@st.composite
def _points(draw: Any, n: int, d: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "integers":  # exact ties, exact arithmetic
        return rng.integers(-3, 4, size=(n, d)).astype(np.float64)
    if kind == "offset":  # far from the origin: the expansion must not cancel
        return 1000.0 + rng.random((n, d))
    scale = draw(st.sampled_from([1.0, 4.0, 1e-3]))
    return rng.normal(scale=scale, size=(n, d))


def _size(low: int) -> Any:
    return st.one_of(st.integers(low, 6), st.integers(17, 30))


def _kinds(metric: str, ranked: bool) -> list[str]:
    """Kinds of points for a metric. Ranked outputs (neighbours) under cosine get only
    continuous data: exact cosine ties (parallel integer vectors) and the near ties of
    points offset by 1000 (all nearly parallel) are decided by rounding on every side."""
    if ranked and metric == "cosine":
        return ["normal", "duplicates"]
    return ["normal", "integers", "offset", "duplicates"]


@st.composite
def _point_pair(
    draw: Any, metric: str, *, min_train: int = 0, ranked: bool = True
) -> tuple[np.ndarray, np.ndarray, str]:
    """(train-like, query-like) points of one kind; "duplicates" copies train rows."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(_kinds(metric, ranked)))
    n, q, d = draw(_size(min_train)), draw(_size(0)), draw(st.integers(1, 5))
    train = draw(_points(n, d, "normal" if kind == "duplicates" else kind, rng))
    query = draw(_points(q, d, "normal" if kind == "duplicates" else kind, rng))
    if kind == "duplicates" and n and q:
        query[: q // 2] = train[rng.integers(0, n, size=q // 2)]
    return train, query, kind


@st.composite
def _pairwise_cases(draw: Any) -> Case:
    kwargs: dict[str, Any] = {"metric": draw(st.sampled_from(_METRICS))}
    a, b, _ = draw(_point_pair(kwargs["metric"], ranked=False))
    if draw(st.booleans()):
        kwargs["chunk_size"] = draw(st.sampled_from([5, 16]))
    return Case((a, b), kwargs)


@st.composite
def _kneighbors_cases(draw: Any) -> Case:
    metric = draw(st.sampled_from(_METRICS))
    train, query, _ = draw(_point_pair(metric, min_train=1))
    kwargs: dict[str, Any] = {"k": draw(st.integers(1, train.shape[0])), "metric": metric}
    if draw(st.booleans()):
        kwargs["chunk_size"] = draw(st.sampled_from([5, 16]))
    return Case((train, query), kwargs)


@st.composite
def _labelled(draw: Any) -> Case:
    case = draw(_kneighbors_cases())
    train, query = case.args
    classes = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y = rng.integers(0, classes, size=train.shape[0])
    kwargs = {**case.kwargs, "weights": draw(st.sampled_from(["uniform", "distance"]))}
    num_classes = draw(st.sampled_from([None, classes, classes + 1]))
    if num_classes is not None or y.max() + 1 < classes:
        kwargs["num_classes"] = classes if num_classes is None else num_classes
    return Case((train, y, query), kwargs)


@st.composite
def _cross_validate_cases(draw: Any) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    metric = draw(st.sampled_from(_METRICS))
    kind = draw(st.sampled_from([k for k in _kinds(metric, True) if k != "duplicates"]))
    n, d = draw(st.one_of(st.integers(2, 12), st.integers(17, 30))), draw(st.integers(1, 4))
    x = draw(_points(n, d, kind, rng))
    y = rng.integers(0, draw(st.integers(1, 3)), size=n)
    num_folds = draw(st.integers(2, min(n, 6)))
    largest = n - -(-n // num_folds)
    ks = draw(st.lists(st.integers(1, largest), min_size=1, max_size=4))
    return Case((x, y), {"k_choices": tuple(ks), "num_folds": num_folds, "metric": metric})


@st.composite
def _best_k_cases(draw: Any) -> Case:
    ks = draw(st.lists(st.integers(1, 60), min_size=1, max_size=6, unique=True))
    folds = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    acc = rng.integers(0, 5, size=(len(ks), folds)) / 4  # quarters: exact ties in means
    return Case((tuple(ks), acc))


# ------------------------------------------------------------------------ properties


def _swap_is_transpose(run, case):
    a, b = case.args
    return [(run(case.with_args(b, a)), run(case).T)]


def _translation(run, case):
    a, b = case.args
    if case.kwargs.get("metric", "euclidean") == "cosine" or not a.size or not b.size:
        return []
    shift = np.arange(a.shape[1]) * 2.0 - 3.0  # small integers: exact in every dtype
    return [(run(case.with_args(a + shift, b + shift)), run(case))]


def _row_permutation(run, case):
    a, b = case.args
    perm = np.random.default_rng(a.shape[0]).permutation(a.shape[0])
    return [(run(case.with_args(a[perm], b)), run(case)[perm])]


def _prefix_of_larger_k(run, case):
    """The k nearest are the first k of the k + 1 nearest (ties in index order)."""
    train, query = case.args
    k = case.kwargs["k"]
    if k >= train.shape[0]:
        return []
    d, i = run(case)
    d2, i2 = run(case.with_args(train, query, k=k + 1))
    return [(d2[:, :k], d), (i2[:, :k], i)]


def _query_permutation(run, case):
    *head, query = case.args
    perm = np.random.default_rng(query.shape[0]).permutation(query.shape[0])
    got, want = run(case.with_args(*head, query[perm])), run(case)
    if isinstance(want, tuple):
        return [(g, w[perm]) for g, w in zip(got, want, strict=True)]
    return [(got, want[perm])]


def _chunking_invariance(run, case):
    """Two blocks of queries give the one-block result (few blocks: JAX unrolls them)."""
    rows = max(1, -(-case.args[-1].shape[0] // 2))
    got, want = run(case.with_args(*case.args, chunk_size=rows)), run(case)
    return list(zip(got, want, strict=True)) if isinstance(want, tuple) else [(got, want)]


def _rows_sum_to_one(run, case):
    p = run(case)
    return [(p.sum(axis=1), np.ones(p.shape[0]))]


def _k_choices_permutation(run, case):
    x, y = case.args
    ks = case.kwargs["k_choices"]
    perm = np.random.default_rng(len(ks)).permutation(len(ks))
    got = run(case.with_args(x, y, k_choices=tuple(ks[i] for i in perm)))
    return [(got, run(case)[perm])]


def _best_k_row_order(run, case):
    ks, acc = case.args
    perm = np.random.default_rng(len(ks)).permutation(len(ks))
    return [(run(case.with_args(tuple(ks[i] for i in perm), acc[perm])), run(case)),
            (run(case.with_args(ks, acc * 2)), run(case))]


# --------------------------------------------------------------------------- natives


def _torch_cdist():
    import torch

    def native(a, b, /, *, metric="euclidean", chunk_size=None):
        if metric == "cosine":
            raise Unsupported("torch.cdist has no cosine distance")
        if metric not in ("euclidean", "sqeuclidean", "manhattan"):
            raise Unsupported("metric names: torch.cdist takes a p-norm")
        d = torch.cdist(a, b, p=1.0 if metric == "manhattan" else 2.0)
        return d * d if metric == "sqeuclidean" else d

    return native


_SCIPY_NAMES = {"euclidean": "euclidean", "sqeuclidean": "sqeuclidean",
                "manhattan": "cityblock", "cosine": "cosine"}


def _scipy_cdist():
    from scipy.spatial.distance import cdist

    def native(a, b, /, *, metric="euclidean", chunk_size=None):
        return cdist(np.asarray(a), np.asarray(b), metric=_SCIPY_NAMES[metric])

    return native


def _sklearn_pairwise():
    from sklearn.metrics import pairwise_distances

    def native(a, b, /, *, metric="euclidean", chunk_size=None):
        if metric == "sqeuclidean":
            from sklearn.metrics.pairwise import euclidean_distances

            return euclidean_distances(a, b, squared=True)
        return pairwise_distances(a, b, metric=metric)

    return native


_SKLEARN_METRICS = {"euclidean": "euclidean", "sqeuclidean": "sqeuclidean",
                    "manhattan": "manhattan", "cosine": "cosine"}


def _sklearn_kneighbors():
    from sklearn.neighbors import NearestNeighbors

    def native(x_train, x_query, /, *, k, metric="euclidean", chunk_size=None):
        nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric=metric)
        return nn.fit(np.asarray(x_train)).kneighbors(np.asarray(x_query))

    return native


def _torch_kneighbors():
    import torch

    def native(x_train, x_query, /, *, k, metric="euclidean", chunk_size=None):
        if metric not in ("euclidean", "manhattan"):
            raise Unsupported("torch.cdist: p-norms only")
        d = torch.cdist(x_query, x_train, p=2.0 if metric == "euclidean" else 1.0)
        return torch.topk(d, k, dim=1, largest=False)

    return native


def _sklearn_classifier(proba: bool):
    def load():
        from sklearn.neighbors import KNeighborsClassifier

        def native(x_train, y_train, x_query, /, *, k=1, metric="euclidean",
                   weights="uniform", num_classes=None, chunk_size=None):
            y = np.asarray(y_train)
            if num_classes is not None and len(np.unique(y)) != num_classes:
                raise Unsupported("classes_ holds only the labels present in y_train")
            clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute", metric=metric,
                                       weights=weights).fit(np.asarray(x_train), y)
            q = np.asarray(x_query)
            return clf.predict_proba(q) if proba else clf.predict(q)

        return native

    return load


def _sklearn_cross_validate():
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    def native(x, y, /, *, k_choices=K_CHOICES, num_folds=5,
               metric="euclidean"):
        return np.stack([
            cross_val_score(KNeighborsClassifier(n_neighbors=k, algorithm="brute",
                                                 metric=metric),
                            np.asarray(x), np.asarray(y), cv=KFold(num_folds))
            for k in k_choices
        ])

    return native


def _numpy_best_k():
    def native(k_choices, accuracies, /):
        best = np.argmax(np.asarray(accuracies).mean(axis=1))
        return np.asarray(np.asarray(k_choices)[best])  # a 0-d array, not a NumPy scalar

    return native


# ----------------------------------------------------------------------------- specs

_A = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
_B = np.array([[0.0, 0.0], [1.0, 1.0]])
_OFFSET = 1000.0 + np.random.default_rng(7).random((20, 4))
_INTS = np.random.default_rng(8).integers(-2, 3, size=(24, 3)).astype(np.float64)

_PAIR_INVALID = (
    InvalidCase("feature mismatch", Case((_A, np.ones((2, 3)))), ValueError, "b"),
    InvalidCase("1-D points", Case((_A[0], _B)), ValueError, "a"),
    InvalidCase("integer points", Case((np.ones((2, 2), np.int64), _B)), TypeError, "a"),
    InvalidCase("unknown metric", Case((_A, _B), {"metric": "chebyshev"}), ValueError,
                "metric"),
    InvalidCase("chunk_size 0", Case((_A, _B), {"chunk_size": 0}), ValueError, "chunk_size"),
    InvalidCase("chunk_size float", Case((_A, _B), {"chunk_size": 2.0}), TypeError,
                "chunk_size"),
    InvalidCase("NaN point", Case((np.array([[0.0, np.nan]]), _B)), ValueError, "a",
                needs_values=True),
    InvalidCase("infinite point", Case((_A, np.array([[np.inf, 0.0]]))), ValueError, "b",
                needs_values=True),
)


def _no_coincident_points(case: Case) -> bool:
    a, b = case.args
    return bool(_distances(a, b, "euclidean").min(initial=np.inf) > 1e-3)


PAIRWISE_DISTANCES = OpSpec(
    name="pairwise_distances",
    family="neighbors",
    impl=impl.neighbors.pairwise_distances,
    oracle=pairwise_distances_oracle,
    cases=_pairwise_cases,
    signature="pairwise_distances(a, b, /, *, metric='euclidean', chunk_size=None)",
    doc=(
        "(N, D) x (M, D) -> (N, M), promoted float dtype, never negative. euclidean "
        "sqrt(sum (a_f - b_f)^2), sqeuclidean its square, manhattan sum |a_f - b_f|, cosine "
        "1 - a.b / (|a| |b|) clipped to [0, 2] (a zero row: similarity 0, distance 1, as "
        "scikit-learn; scipy gives NaN). NaN or infinite inputs raise ValueError where values "
        "can be read. Method (euclidean, sqeuclidean): both sets are shifted by one common "
        "per-feature centre (their mean, rounded to an integer where the feature spans >= 1, "
        "so integer data stays exact), then |a|^2 + |b|^2 - 2 a.b comes out of one GEMM with "
        "the norms as two extra columns, clamped at 0. Entries below 1/16 of |a_i - c|^2 + "
        "|b_j - c|^2, where the expansion cancels, are recomputed from their differences "
        "whenever values can be read, so duplicates give exactly 0 and float32 errors stay "
        "within a few times scikit-learn's (which upcasts blocks to float64); under jax.jit "
        "the first max(2 (N + M), 4096) per block are, further ones keep the expansion's "
        "error, about sqrt(eps (|a_i - c|^2 + |b_j - c|^2)) for coincident points. "
        "torch.cdist uses the same expansion without centring (its default "
        "compute_mode switches to it above 25 rows) and errs by O(1) on float32 data offset by "
        "1000. chunk_size: rows of a per block (None: one GEMM; manhattan: blocks of about 4M "
        "differences). The first edge cases have no coincident points: they are the ones "
        "compared under jax.jit."
    ),
    edge_cases=(
        Case((_A, _B), name="3-4-5 triangle"),
        Case((_OFFSET[:12], _OFFSET[12:]), name="offset by 1000: no cancellation"),
        Case((_A, _B), {"metric": "cosine", "chunk_size": 2}, name="cosine, zero row, chunks"),
        Case((_OFFSET, _OFFSET), name="a set against itself: zero diagonal"),
        Case((_INTS, _INTS[::-1]), {"metric": "sqeuclidean", "chunk_size": 5},
             name="integer points: exact"),
        Case((_INTS, _INTS), {"metric": "manhattan", "chunk_size": 7}, name="manhattan"),
        Case((np.zeros((0, 3)), np.ones((4, 3))), name="no rows in a"),
        Case((np.ones((2, 3)), np.zeros((0, 3))), {"metric": "cosine"}, name="no rows in b"),
        Case((np.zeros((2, 0)), np.zeros((3, 0))), name="no features: all 0"),
    ),
    invalid_cases=_PAIR_INVALID,
    tolerance={"float32": (5e-5, 5e-6), "float64": (1e-12, 1e-13)},
    properties=(
        Property("swapping a and b transposes", _swap_is_transpose),
        Property("translation invariance (not cosine)", _translation),
        Property("row permutation equivariance", _row_permutation),
    ),
    natives=(
        Native("torch", "torch.cdist", _torch_cdist,
               "p=2 / p=1; sqeuclidean = cdist ** 2; no cosine. Its mm-based default path "
               "cancels on offset data (O(1) errors on float32 data offset by 1000); "
               "compute_mode='donot_use_mm_for_euclid_dist' is exact but slow"),
        Native("scipy", "scipy.spatial.distance.cdist", _scipy_cdist,
               "direct differences (exact, slow); manhattan is 'cityblock'; cosine of a zero "
               "row is NaN"),
        Native("sklearn", "sklearn.metrics.pairwise_distances", _sklearn_pairwise,
               "float32 blocks upcast to float64; zero diagonal only when X is Y; "
               "sqeuclidean via euclidean_distances(squared=True)"),
    ),
    capabilities=Capabilities(jit=True, differentiable=True),
    grad_argnums=(0, 1),
    differentiable_at=_no_coincident_points,
)

_TRAIN = np.array([[0.0], [3.0], [1.0], [-1.0], [1.0]])
_QUERY = np.array([[0.0], [2.0], [1.0]])
_KNN_INVALID = (
    InvalidCase("k 0", Case((_TRAIN, _QUERY), {"k": 0}), ValueError, "k"),
    InvalidCase("k above the training set", Case((_TRAIN, _QUERY), {"k": 6}), ValueError, "k"),
    InvalidCase("k not an int", Case((_TRAIN, _QUERY), {"k": 2.0}), TypeError, "k"),
    InvalidCase("feature mismatch", Case((_TRAIN, np.ones((2, 2))), {"k": 1}), ValueError,
                "x_query"),
    InvalidCase("unknown metric", Case((_TRAIN, _QUERY), {"k": 1, "metric": "l2"}),
                ValueError, "metric"),
    InvalidCase("integer points", Case((np.ones((3, 1), np.int64), _QUERY), {"k": 1}),
                TypeError, "x_train"),
    InvalidCase("NaN query", Case((_TRAIN, np.array([[np.nan]])), {"k": 1}), ValueError,
                "x_query", needs_values=True),
    InvalidCase("chunk_size -1", Case((_TRAIN, _QUERY), {"k": 1, "chunk_size": -1}),
                ValueError, "chunk_size"),
)

KNEIGHBORS = OpSpec(
    name="kneighbors",
    family="neighbors",
    impl=impl.neighbors.kneighbors,
    oracle=kneighbors_oracle,
    cases=_kneighbors_cases,
    signature="kneighbors(x_train, x_query, /, *, k, metric='euclidean', chunk_size=None)",
    doc=(
        "(distances, indices), each (Q, k): the k training points nearest to each query "
        "under pairwise_distances' metric, distances ascending, equal distances in "
        "training-index order (a stable sort's first k); indices in the default integer "
        "dtype. 1 <= k <= N. Queries go in blocks of chunk_size rows (None: about 4M entries "
        "per block), memory O(chunk_size * N). Candidates are ranked on the centred expansion "
        "(|b|^2 - 2 a.b), the k best found by a top-k with the same tie rule on every backend "
        "(_lib.topk: group-minimum threshold + exact candidate sort on NumPy, torch.topk with "
        "a stable fix-up of boundary ties, jax.lax.top_k, stable argsort elsewhere), and "
        "their distances recomputed from differences: exact to rounding, 0 for duplicates. "
        "scikit-learn (argpartition) and torch.topk order ties arbitrarily."
    ),
    edge_cases=(
        Case((_TRAIN, _QUERY), {"k": 3}, name="ties in index order"),
        Case((_OFFSET[:15], _OFFSET[15:]), {"k": 4}, name="offset by 1000"),
        Case((_INTS, _INTS[:7]), {"k": 24, "chunk_size": 2}, name="k = N, integer points"),
        Case((_INTS, _INTS[::3]), {"k": 5, "metric": "manhattan"}, name="manhattan ties"),
        Case((_A, _B), {"k": 2, "metric": "cosine"}, name="cosine, zero rows"),
        Case((np.ones((20, 2)), np.ones((3, 2))), {"k": 6, "metric": "sqeuclidean"},
             name="all points equal"),
        Case((_TRAIN, np.zeros((0, 1))), {"k": 2}, name="no queries"),
    ),
    invalid_cases=_KNN_INVALID,
    tolerance={"float32": (5e-5, 5e-6), "float64": (1e-12, 1e-13)},
    properties=(
        Property("the k nearest prefix the k + 1 nearest", _prefix_of_larger_k),
        Property("query permutation equivariance", _query_permutation),
        Property("chunk_size changes nothing", _chunking_invariance),
    ),
    natives=(
        Native("sklearn", "sklearn.neighbors.NearestNeighbors(algorithm='brute').kneighbors",
               _sklearn_kneighbors, "argpartition: tied neighbours in an arbitrary order"),
        Native("torch", "torch.cdist + torch.topk(largest=False)", _torch_kneighbors,
               "topk orders ties arbitrarily; cdist's mm path cancels on offset data"),
    ),
    capabilities=Capabilities(jit=True, differentiable=False),
)

_Y = np.array([1, 0, 0, 1, 2])
_KNN_Y_INVALID = (
    *(InvalidCase(c.name, Case((c.case.args[0], _Y, c.case.args[1]), c.case.kwargs),
                  c.raises, c.match, c.needs_values) for c in _KNN_INVALID),
    InvalidCase("float labels", Case((_TRAIN, _Y * 1.0, _QUERY)), TypeError, "y_train"),
    InvalidCase("label count", Case((_TRAIN, _Y[:4], _QUERY)), ValueError, "y_train"),
    InvalidCase("negative label", Case((_TRAIN, _Y - 1, _QUERY), {"num_classes": 3}),
                ValueError, "y_train", needs_values=True),
    InvalidCase("label above num_classes", Case((_TRAIN, _Y, _QUERY), {"num_classes": 2}),
                ValueError, "y_train", needs_values=True),
    InvalidCase("unknown weights", Case((_TRAIN, _Y, _QUERY), {"weights": "inverse"}),
                ValueError, "weights"),
    InvalidCase("num_classes 0", Case((_TRAIN, _Y, _QUERY), {"num_classes": 0}), ValueError,
                "num_classes"),
)
_KNN_Y_EDGES = (  # the first three give num_classes: they also run under jax.jit
    Case((_TRAIN, _Y, _QUERY), {"k": 3, "num_classes": 3}, name="vote with index-order ties"),
    Case((_TRAIN, _Y, _QUERY), {"k": 2, "weights": "distance", "num_classes": 4},
         name="exact match takes all the weight; absent class"),
    Case((_INTS, np.arange(24) % 3, _INTS[::2] + 0.5), {"k": 4, "num_classes": 3,
                                                        "chunk_size": 5},
         name="class ties go to the smallest label"),
    Case((_OFFSET[:15], np.arange(15) % 2, _OFFSET[15:]), {"k": 3, "weights": "distance"},
         name="offset by 1000, distance weights"),
    Case((_TRAIN, _Y, _TRAIN), {"k": 5, "weights": "distance", "metric": "manhattan"},
         name="queries are the training points"),
    Case((_TRAIN, np.zeros(5, np.int64), _QUERY), {"k": 1}, name="one class"),
)

def _with_num_classes(case: Case) -> Case:
    """On Dask: num_classes given, as the op requires where labels cannot be read."""
    y = case.args[1]
    if "num_classes" in case.kwargs or y.size == 0:
        return case
    return case.with_args(*case.args, num_classes=int(y.max()) + 1)


_SEMANTICS = (
    "Neighbours as kneighbors. Each votes 1 (weights='uniform') or 1 / distance "
    "('distance'); a query with exact matches (distance 0) gives them weight 1 and every "
    "other neighbour 0 (scikit-learn's rule). y_train: integer labels in [0, num_classes); "
    "num_classes defaults to max(y_train) + 1 and is required under jax.jit and on Dask. "
)

KNN_PREDICT = OpSpec(
    name="knn_predict",
    family="neighbors",
    impl=impl.neighbors.knn_predict,
    oracle=knn_predict_oracle,
    cases=_labelled,
    signature=(
        "knn_predict(x_train, y_train, x_query, /, *, k=1, metric='euclidean', "
        "weights='uniform', num_classes=None, chunk_size=None)"
    ),
    doc=_SEMANTICS + (
        "Returns (Q,) labels, default integer dtype: the class with the largest vote, ties "
        "to the smallest label (scikit-learn's rule). Equals KNeighborsClassifier("
        "algorithm='brute').predict wherever the k-th and (k+1)-th distances of a query are "
        "not tied (scikit-learn then keeps the neighbours its partition happened to pick)."
    ),
    edge_cases=_KNN_Y_EDGES,
    invalid_cases=_KNN_Y_INVALID,
    properties=(
        Property("query permutation equivariance", _query_permutation),
        Property("chunk_size changes nothing", _chunking_invariance),
    ),
    natives=(
        Native("sklearn", "sklearn.neighbors.KNeighborsClassifier(algorithm='brute').predict",
               _sklearn_classifier(proba=False),
               "ties at the k-th neighbour broken by argpartition, not by index"),
    ),
    capabilities=Capabilities(jit=True, differentiable=False),
    lazy_case=_with_num_classes,
)

KNN_PREDICT_PROBA = OpSpec(
    name="knn_predict_proba",
    family="neighbors",
    impl=impl.neighbors.knn_predict_proba,
    oracle=knn_predict_proba_oracle,
    cases=_labelled,
    signature=(
        "knn_predict_proba(x_train, y_train, x_query, /, *, k=1, metric='euclidean', "
        "weights='uniform', num_classes=None, chunk_size=None)"
    ),
    doc=_SEMANTICS + (
        "Returns (Q, num_classes) in the points' float dtype: each class's vote over the "
        "query's total vote (the fraction of the k neighbours for uniform weights)."
    ),
    # 1 / distance weights carry the relative rounding of small distances
    tolerance={"float32": (1e-4, 1e-6), "float64": (1e-10, 1e-13)},
    edge_cases=_KNN_Y_EDGES,
    invalid_cases=_KNN_Y_INVALID,
    properties=(
        Property("rows sum to 1", _rows_sum_to_one),
        Property("query permutation equivariance", _query_permutation),
        Property("chunk_size changes nothing", _chunking_invariance),
    ),
    natives=(
        Native("sklearn",
               "sklearn.neighbors.KNeighborsClassifier(algorithm='brute').predict_proba",
               _sklearn_classifier(proba=True),
               "columns are classes_, the labels present in y_train only"),
    ),
    capabilities=Capabilities(jit=True, differentiable=False),
    lazy_case=_with_num_classes,
)

_CV_X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2], [0.3]])
_CV_Y = np.array([0, 0, 0, 1, 1, 1, 0])

KNN_CROSS_VALIDATE = OpSpec(
    name="knn_cross_validate",
    family="neighbors",
    impl=impl.neighbors.knn_cross_validate,
    oracle=knn_cross_validate_oracle,
    cases=_cross_validate_cases,
    signature=(
        "knn_cross_validate(x, y, /, *, k_choices=(1, 3, 5, 8, 10, 12, 15, 20, 50, 100), "
        "num_folds=5, metric='euclidean')"
    ),
    doc=(
        "(len(k_choices), num_folds) accuracies of knn_predict (uniform votes, num_classes = "
        "max(y) + 1) in the float dtype of x. Folds are contiguous and unshuffled, split like "
        "numpy.array_split: the first N % num_folds folds are one longer (scikit-learn "
        "KFold(shuffle=False) agrees; torch.chunk gives ceil(N / num_folds)-long folds and "
        "possibly fewer of them). Fold j is predicted from the other folds in their order. "
        "2 <= num_folds <= N; every k must fit the smallest training split. Eager."
    ),
    edge_cases=(
        Case((_CV_X, _CV_Y), {"k_choices": (1, 3), "num_folds": 3}, name="uneven folds"),
        Case((_CV_X, _CV_Y), {"k_choices": (5, 1, 5), "num_folds": 7},
             name="leave-one-out, repeated k"),
        Case((_INTS, np.arange(24) % 2), {"num_folds": 4, "k_choices": (1, 2, 18),
                                          "metric": "manhattan"},
             name="integer points, k up to the training split"),
        Case((_OFFSET, np.arange(20) % 3), {"k_choices": (1, 3, 5, 8, 10, 12, 15)},
             name="offset by 1000, default folds"),
    ),
    invalid_cases=(
        InvalidCase("num_folds 1", Case((_CV_X, _CV_Y), {"num_folds": 1, "k_choices": (1,)}),
                    ValueError, "num_folds"),
        InvalidCase("num_folds above N",
                    Case((_CV_X, _CV_Y), {"num_folds": 8, "k_choices": (1,)}), ValueError,
                    "num_folds"),
        InvalidCase("k larger than a training split",
                    Case((_CV_X, _CV_Y), {"num_folds": 2, "k_choices": (1, 4)}), ValueError,
                    "k_choices"),
        InvalidCase("default k_choices on 7 samples", Case((_CV_X, _CV_Y)), ValueError,
                    "k_choices"),
        InvalidCase("k 0", Case((_CV_X, _CV_Y), {"k_choices": (0, 1)}), ValueError,
                    "k_choices"),
        InvalidCase("float labels", Case((_CV_X, _CV_Y * 1.0), {"k_choices": (1,)}),
                    TypeError, "y"),
        InvalidCase("label count", Case((_CV_X, _CV_Y[:6]), {"k_choices": (1,)}), ValueError,
                    "y"),
        InvalidCase("unknown metric", Case((_CV_X, _CV_Y), {"k_choices": (1,),
                                                            "metric": "hamming"}),
                    ValueError, "metric"),
    ),
    properties=(Property("permuting k_choices permutes rows", _k_choices_permutation),),
    natives=(
        Native("sklearn", "sklearn.model_selection.cross_val_score(KNeighborsClassifier, "
               "cv=KFold(num_folds))", _sklearn_cross_validate,
               "one fit per k; KFold folds equal array_split's"),
    ),
    capabilities=Capabilities(jit=False, differentiable=False, lazy=False),
)

BEST_K = OpSpec(
    name="best_k",
    family="neighbors",
    impl=impl.neighbors.best_k,
    oracle=best_k_oracle,
    cases=_best_k_cases,
    signature="best_k(k_choices, accuracies, /)",
    doc=(
        "The k of k_choices with the highest mean accuracy over folds (axis 1 of accuracies, "
        "shape (len(k_choices), num_folds)); ties go to the smallest k whatever the order of "
        "k_choices. A 0-d array of the default integer dtype on the device of accuracies."
    ),
    edge_cases=(
        Case(((1, 3, 5), np.array([[0.5, 1.0], [1.0, 0.5], [0.25, 0.25]])),
             name="tie: smallest k"),
        Case(((8, 2), np.array([[0.75], [0.75]])), name="tie, k_choices descending"),
        Case(((4,), np.array([[0.1, 0.2, 0.3]])), name="one choice"),
    ),
    invalid_cases=(
        InvalidCase("row count", Case(((1, 3), np.ones((3, 2)))), ValueError, "accuracies"),
        InvalidCase("1-D accuracies", Case(((1, 3), np.ones(2))), ValueError, "accuracies"),
        InvalidCase("empty k_choices", Case(((), np.ones((0, 2)))), ValueError, "k_choices"),
        InvalidCase("k not an int", Case(((1.5,), np.ones((1, 2)))), TypeError, "k_choices"),
        InvalidCase("integer accuracies", Case(((1,), np.ones((1, 2), np.int64))), TypeError,
                    "accuracies"),
    ),
    properties=(Property("row order and scale do not matter", _best_k_row_order),),
    natives=(
        Native("numpy", "k_choices[np.argmax(accuracies.mean(axis=1))]", _numpy_best_k,
               "ties go to the first listed k (the smallest when k_choices ascend, as "
               "GridSearchCV's rank_test_score)"),
    ),
    capabilities=Capabilities(jit=False, differentiable=False),
)

SPECS = (
    PAIRWISE_DISTANCES,
    KNEIGHBORS,
    KNN_PREDICT,
    KNN_PREDICT_PROBA,
    KNN_CROSS_VALIDATE,
    BEST_K,
)
