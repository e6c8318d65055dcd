"""Specs of the linear classifiers: SVM and softmax losses, a two-layer net, logistic
regression (each a loss with its analytic gradients) and minibatch SGD training.

The losses return ``(loss, gradient...)`` tuples, so the engine checks the gradients as
outputs against the oracles below, which write the sums out sample by sample (the
course's "naive" versions). The engine's own gradient check (autodiff of the op's
output against the native's autodiff) does not apply to tuple outputs: these specs say
``differentiable=False`` in that sense, and the natives here compute the same loss with
the framework's own functions and take its gradient by torch autograd or ``jax.grad``;
tests/test_linear.py compares them with xpops' analytic gradients on both frameworks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..impl import linear as _impl
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported

# The two-layer net's parameter names and order (CS231n's TwoLayerNet.params), written
# out so that the oracle does not read them from the implementation it judges.
TWO_LAYER_PARAMS = ("W1", "b1", "W2", "b2")

# --------------------------------------------------------------------------- oracles


def _f64(*arrays: Any) -> list[np.ndarray]:
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def svm_loss_oracle(W, X, y, reg=0.0, delta=1.0):
    """Weston-Watkins hinge, one sample and one class at a time."""
    W, X = _f64(W, X)
    n, c = X.shape[0], W.shape[1]
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(n):
        s, yi = X[i] @ W, int(y[i])
        for j in range(c):
            margin = s[j] - s[yi] + delta
            if j != yi and margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, yi] -= X[i]
    return np.float64(loss / n + reg * np.sum(W * W)), dW / n + 2 * reg * W


def _log_softmax(s: np.ndarray) -> np.ndarray:
    shifted = s - s.max()
    return shifted - np.log(np.sum(np.exp(shifted)))


def softmax_loss_oracle(W, X, y, reg=0.0):
    W, X = _f64(W, X)
    n = X.shape[0]
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(n):
        logp, yi = _log_softmax(X[i] @ W), int(y[i])
        loss -= logp[yi]
        p = np.exp(logp)
        p[yi] -= 1.0
        dW += np.outer(X[i], p)
    return np.float64(loss / n + reg * np.sum(W * W)), dW / n + 2 * reg * W


def two_layer_net_oracle(params, X, y=None, reg=0.0):
    """Forward and backward pass of one sample at a time."""
    W1, b1, W2, b2 = _f64(*(params[k] for k in TWO_LAYER_PARAMS))
    (X,) = _f64(X)
    n = X.shape[0]
    scores = np.zeros((n, W2.shape[1]))
    names = TWO_LAYER_PARAMS
    grads = {k: np.zeros_like(v) for k, v in zip(names, (W1, b1, W2, b2), strict=True)}
    loss = 0.0
    for i in range(n):
        pre = X[i] @ W1 + b1
        h = np.maximum(pre, 0.0)
        scores[i] = h @ W2 + b2
        if y is None:
            continue
        logp, yi = _log_softmax(scores[i]), int(y[i])
        loss -= logp[yi]
        ds = np.exp(logp)
        ds[yi] -= 1.0
        grads["W2"] += np.outer(h, ds)
        grads["b2"] += ds
        dpre = (W2 @ ds) * (pre > 0)
        grads["W1"] += np.outer(X[i], dpre)
        grads["b1"] += dpre
    if y is None:
        return scores
    loss = loss / n + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    out = {k: g / n for k, g in grads.items()}
    out["W1"] += 2 * reg * W1
    out["W2"] += 2 * reg * W2
    return (np.float64(loss), *(out[k] for k in TWO_LAYER_PARAMS))


def logistic_regression_loss_oracle(w, b, X, y, reg=0.0):
    """-[y log sigma(z) + (1 - y) log(1 - sigma(z))], the logs via logaddexp."""
    w, b, X = _f64(w, b, X)
    z = X @ w + b
    t = np.asarray(y, dtype=np.float64)
    loss = np.mean(t * np.logaddexp(0.0, -z) + (1 - t) * np.logaddexp(0.0, z))
    residual = (1.0 / (1.0 + np.exp(-z)) - t) / X.shape[0]
    return np.float64(loss + reg * np.sum(w * w)), X.T @ residual + 2 * reg * w, np.sum(residual)


_LOSS_ORACLES = {_impl.svm_loss: svm_loss_oracle, _impl.softmax_loss: softmax_loss_oracle}


def train_linear_classifier_oracle(
    loss_fn, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, seed=0
):
    """The documented SGD loop in float64, with the same NumPy draws."""
    (X,) = _f64(X)
    loss_fn = _LOSS_ORACLES.get(loss_fn, loss_fn)
    rng = np.random.default_rng(seed)
    W = 0.001 * rng.standard_normal((X.shape[1], int(np.max(y)) + 1))
    history = []
    for _ in range(num_iters):
        rows = rng.integers(0, X.shape[0], size=batch_size)
        loss, dW = loss_fn(W, X[rows], y[rows], reg=reg)
        history.append(float(loss))
        W = W - learning_rate * dW
    return W, np.asarray(history, dtype=np.float64)


# ------------------------------------------------------------------------ strategies


@st.composite
def _values(draw: Any, shape: tuple[int, ...], scale: float, kind: str) -> np.ndarray:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "integers":  # exact in float32: margins of exactly 0 and ReLU inputs of 0
        return rng.integers(-3, 4, size=shape).astype(np.float64)
    return rng.normal(scale=scale, size=shape)


@st.composite
def _problem(draw: Any, *, min_classes: int = 1) -> tuple[Any, ...]:
    """(kind, N, D, C, labels) of a classification problem with sizes over 16.

    Few distinct sizes: JAX compiles every operation once per shape, and repeated
    shapes make its eager runs several times cheaper."""
    kind = draw(st.sampled_from(["normal", "integers"]))
    n = draw(st.sampled_from([1, 5, 23]))
    d = draw(st.sampled_from([0, 3, 6]))
    c = draw(st.sampled_from([min_classes, 3, 17]))
    y = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(0, c, size=n)
    return kind, n, d, c, y


_REG = st.sampled_from([0.0, 0.0, 1e-3, 0.5])


@st.composite
def _linear_cases(draw: Any, *, svm: bool) -> Case:
    kind, n, d, c, y = draw(_problem())
    W = draw(_values((d, c), 0.5, kind))
    X = draw(_values((n, d), 2.0, kind))
    kwargs: dict[str, Any] = {"reg": draw(_REG)}
    if svm:
        kwargs["delta"] = draw(st.sampled_from([1.0, 0.0, 2.0, 0.5]))
    return Case((W, X, y), kwargs)


@st.composite
def _two_layer_cases(draw: Any) -> Case:
    kind, n, d, c, y = draw(_problem())
    h = draw(st.integers(1, 8))
    params = {
        "W1": draw(_values((d, h), 0.7, kind)),
        "b1": draw(_values((h,), 0.5, kind)),
        "W2": draw(_values((h, c), 0.7, kind)),
        "b2": draw(_values((c,), 0.5, kind)),
    }
    X = draw(_values((n, d), 1.5, kind))
    if draw(st.booleans()):
        return Case((params, X))
    return Case((params, X, y), {"reg": draw(_REG)})


@st.composite
def _logistic_cases(draw: Any) -> Case:
    kind, n, d, _, _ = draw(_problem())
    y = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(0, 2, size=n)
    w = draw(_values((d,), 1.0, kind))
    b = draw(_values((), 1.0, kind))
    return Case((w, np.asarray(b), draw(_values((n, d), 2.0, kind)), y), {"reg": draw(_REG)})


@st.composite
def _train_cases(draw: Any) -> Case:
    _, n, d, _, y = draw(_problem())
    X = draw(_values((n, d), 1.0, "normal"))
    loss_fn = draw(st.sampled_from([_impl.svm_loss, _impl.softmax_loss]))
    kwargs = {
        "learning_rate": draw(st.sampled_from([1e-3, 1e-2, 0.1])),
        "reg": draw(st.sampled_from([0.0, 1e-5, 0.1])),
        "num_iters": draw(st.integers(0, 4)),
        "batch_size": draw(st.sampled_from([1, 32])),
        "seed": draw(st.integers(0, 2**16)),
    }
    return Case((loss_fn, X, y), kwargs)


# ------------------------------------------------------------------------ properties


def _class_relabelling(run, case):
    """Permuting W's columns and relabelling y alike permutes dW's columns."""
    W, X, y = case.args
    c = W.shape[1]
    perm = np.roll(np.arange(c), 1)
    loss, dW = run(case)
    loss_p, dW_p = run(case.with_args(W[:, perm], X, np.argsort(perm)[y]))
    return [(loss_p, loss), (dW_p, dW[:, perm])]


def _regularisation(run, case):
    """reg adds reg * sum(W * W) to the loss and 2 reg W to the gradient."""
    W = case.args[0]
    loss0, dW0 = run(case.with_args(*case.args, reg=0.0))
    loss, dW = run(case.with_args(*case.args, reg=0.25))
    return [(loss, loss0 + 0.25 * np.sum(W * W)), (dW, dW0 + 0.5 * W)]


def _svm_homogeneity(run, case):
    """Doubling W and delta (no reg) doubles the loss and keeps the subgradient."""
    W, X, y = case.args
    loss, dW = run(case.with_args(W, X, y, reg=0.0))
    delta = case.kwargs.get("delta", 1.0)
    loss2, dW2 = run(case.with_args(2 * W, X, y, reg=0.0, delta=2 * delta))
    return [(loss2, 2 * loss), (dW2, dW)]


def _softmax_shift(run, case):
    """Adding one vector to every column of W shifts each row's scores alike (no reg)."""
    W, X, y = case.args
    shift = np.linspace(-1.0, 1.0, W.shape[0])[:, None]
    loss, dW = run(case.with_args(W, X, y, reg=0.0))
    loss_s, dW_s = run(case.with_args(W + shift, X, y, reg=0.0))
    return [(loss_s, loss), (dW_s, dW)]


def _hidden_permutation(run, case):
    """Relabelling hidden units changes no score or loss and permutes their gradients."""
    params, *rest = case.args
    h = params["W1"].shape[1]
    perm = np.roll(np.arange(h), 1)
    permuted = {
        "W1": params["W1"][:, perm], "b1": params["b1"][perm],
        "W2": params["W2"][perm], "b2": params["b2"],
    }
    got, want = run(case.with_args(permuted, *rest)), run(case)
    if len(case.args) == 2:
        return [(got, want)]
    loss, dW1, db1, dW2, db2 = want
    return list(zip(got, (loss, dW1[:, perm], db1[perm], dW2[perm], db2), strict=True))


def _logistic_flip(run, case):
    """Negating w and b and flipping the labels keeps the loss and negates the gradients."""
    w, b, X, y = case.args
    loss, dw, db = run(case)
    got = run(case.with_args(-w, -b, X, 1 - y))
    return list(zip(got, (loss, -dw, -db), strict=True))


def _same_seed_same_weights(run, case):
    first, second = run(case), run(case)
    return list(zip(second, first, strict=True))


# --------------------------------------------------------------------------- natives
# Each native computes the loss with the framework's own functions and differentiates
# it with torch autograd or jax.grad: the reference for the analytic gradients.


def _torch_autograd(loss_of):
    """(*arrays) -> (loss, grad per array) by torch autograd of ``loss_of``."""
    import torch

    def native(*arrays: Any) -> tuple[Any, ...]:
        leaves = [a.detach().clone().requires_grad_(True) for a in arrays]
        loss = loss_of(*leaves)
        grads = torch.autograd.grad(loss, leaves)
        return (loss.detach(), *grads)

    return native


def _jax_grad(loss_of):
    import jax

    def native(*arrays: Any) -> tuple[Any, ...]:
        loss, grads = jax.value_and_grad(loss_of, argnums=tuple(range(len(arrays))))(*arrays)
        return (loss, *grads)

    return native


def _torch_svm():
    import torch.nn.functional as F

    def native(W, X, y, /, *, reg=0.0, delta=1.0):
        def loss_of(W, X):
            c = W.shape[1]  # multi_margin_loss divides the sum over classes by C
            return c * F.multi_margin_loss(X @ W, y, margin=delta) + reg * (W * W).sum()

        loss, dW, _ = _torch_autograd(loss_of)(W, X)
        return loss, dW

    return native


def _jax_svm():
    import jax.numpy as jnp

    def native(W, X, y, /, *, reg=0.0, delta=1.0):
        def loss_of(W):
            s = X @ W
            correct = jnp.take_along_axis(s, y[:, None], axis=1)
            margins = jnp.maximum(0.0, s - correct + delta)
            margins = jnp.where(jnp.arange(W.shape[1]) == y[:, None], 0.0, margins)
            return margins.sum() / X.shape[0] + reg * jnp.sum(W * W)

        return _jax_grad(loss_of)(W)

    return native


def _torch_softmax():
    import torch.nn.functional as F

    def native(W, X, y, /, *, reg=0.0):
        def loss_of(W):
            return F.cross_entropy(X @ W, y) + reg * (W * W).sum()

        return _torch_autograd(loss_of)(W)

    return native


def _jax_softmax():
    import jax.numpy as jnp
    import optax

    def native(W, X, y, /, *, reg=0.0):
        def loss_of(W):
            data = optax.softmax_cross_entropy_with_integer_labels(X @ W, y).mean()
            return data + reg * jnp.sum(W * W)

        return _jax_grad(loss_of)(W)

    return native


def _torch_pieces() -> tuple[Any, ...]:
    import torch.nn.functional as F

    return F.relu, F.cross_entropy, lambda w: (w * w).sum(), _torch_autograd


def _jax_pieces() -> tuple[Any, ...]:
    import jax
    import jax.numpy as jnp
    import optax

    def ce(s: Any, y: Any) -> Any:
        return optax.softmax_cross_entropy_with_integer_labels(s, y).mean()

    return jax.nn.relu, ce, lambda w: jnp.sum(w * w), _jax_grad


def _two_layer_native(pieces: Any):
    """relu, mean cross-entropy, sum of squares and autodiff of one framework."""

    def load():
        relu, ce, l2, grad = pieces()

        def native(params, X, y=None, /, *, reg=0.0):
            def scores_of(W1, b1, W2, b2):
                return relu(X @ W1 + b1) @ W2 + b2

            arrays = [params[k] for k in TWO_LAYER_PARAMS]
            if y is None:
                return scores_of(*arrays)

            def loss_of(W1, b1, W2, b2):
                return ce(scores_of(W1, b1, W2, b2), y) + reg * (l2(W1) + l2(W2))

            loss, *grads = grad(loss_of)(*arrays)
            return loss, dict(zip(TWO_LAYER_PARAMS, grads, strict=True))

        return native

    return load


def _torch_logistic():
    import torch.nn.functional as F

    def native(w, b, X, y, /, *, reg=0.0):
        def loss_of(w, b):
            z = X @ w + b
            return F.binary_cross_entropy_with_logits(z, y.to(z.dtype)) + reg * (w * w).sum()

        return _torch_autograd(loss_of)(w, b)

    return native


def _jax_logistic():
    import jax.numpy as jnp
    import optax

    def native(w, b, X, y, /, *, reg=0.0):
        def loss_of(w, b):
            z = X @ w + b
            data = optax.sigmoid_binary_cross_entropy(z, y.astype(z.dtype)).mean()
            return data + reg * jnp.sum(w * w)

        return _jax_grad(loss_of)(w, b)

    return native


def _torch_sgd():
    """The same draws and updates with torch.optim.SGD on torch's own losses."""
    import torch
    import torch.nn.functional as F

    losses = {
        _impl.svm_loss: lambda s, y: s.shape[1] * F.multi_margin_loss(s, y),
        _impl.softmax_loss: F.cross_entropy,
    }

    def native(loss_fn, X, y, /, *, learning_rate=1e-3, reg=1e-5, num_iters=100,
               batch_size=200, seed=0):
        if loss_fn not in losses:
            raise Unsupported("loss functions other than svm_loss and softmax_loss")
        rng = np.random.default_rng(seed)
        w0 = 0.001 * rng.standard_normal((X.shape[1], int(y.max()) + 1))
        W = torch.asarray(w0, dtype=X.dtype, device=X.device).requires_grad_(True)
        opt = torch.optim.SGD([W], lr=learning_rate)
        history = []
        for _ in range(num_iters):
            rows = torch.asarray(rng.integers(0, X.shape[0], size=batch_size), device=X.device)
            loss = losses[loss_fn](X[rows] @ W, y[rows]) + reg * (W * W).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            history.append(loss.detach())
        empty = torch.zeros(0, dtype=X.dtype, device=X.device)
        return W.detach(), torch.stack(history) if history else empty

    return native


# ----------------------------------------------------------------------------- specs

# tuple outputs (loss, gradients): the engine's autodiff check does not apply, see above
_LOSS_CAPS = Capabilities(jit=True, differentiable=False)

_W = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, 2.0]])
_X = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]])
_Y = np.array([0, 2, 1])


def _linear_invalid(extra: dict[str, Any]) -> tuple[InvalidCase, ...]:
    return (
        InvalidCase("feature dimension mismatch", Case((_W, _X[:, :1], _Y), extra),
                    ValueError, "X"),
        InvalidCase("float labels", Case((_W, _X, _Y.astype(np.float64)), extra), TypeError,
                    "y"),
        InvalidCase("y length mismatch", Case((_W, _X, _Y[:2]), extra), ValueError, "y"),
        InvalidCase("label out of range", Case((_W, _X, np.array([0, 3, 1])), extra),
                    ValueError, "y", needs_values=True),
        InvalidCase("negative label", Case((_W, _X, np.array([0, -1, 1])), extra),
                    ValueError, "y", needs_values=True),
        InvalidCase("integer W", Case((_W.astype(np.int64), _X, _Y), extra), TypeError, "W"),
        InvalidCase("1-d X", Case((_W, _X[0], _Y[:1]), extra), ValueError, "X"),
        InvalidCase("no samples", Case((_W, _X[:0], _Y[:0]), extra), ValueError, "X"),
        InvalidCase("negative reg", Case((_W, _X, _Y), {**extra, "reg": -1.0}), ValueError,
                    "reg"),
    )


def _linear_edges(extra: dict[str, Any]) -> tuple[Case, ...]:
    return (
        Case((_W, _X, _Y), {**extra, "reg": 0.1}, name="course-sized example with reg"),
        Case((np.array([[2.0], [-1.0]]), _X, np.zeros(3, dtype=np.int64)), extra,
             name="one class: only the regulariser"),
        Case((np.zeros((0, 3)), np.zeros((4, 0)), np.array([0, 1, 2, 2])), extra,
             name="no features"),
        Case((_W * 300, _X, _Y), extra, name="large scores"),
        Case((_W, _X[:1], _Y[:1]), extra, name="one sample"),
    )


SVM_LOSS = OpSpec(
    name="svm_loss",
    family="linear",
    impl=_impl.svm_loss,
    oracle=svm_loss_oracle,
    cases=lambda: _linear_cases(svm=True),
    signature="svm_loss(W, X, y, /, *, reg=0.0, delta=1.0)",
    doc=(
        "Multiclass (Weston-Watkins) hinge: with s = X W, L = (1/N) sum_i sum_{j != y_i} "
        "max(0, s_ij - s_iy_i + delta) + reg * sum(W * W); returns (loss, dW), dW = X^T G / N "
        "+ 2 reg W where G_ij = [m_ij > 0] for j != y_i (margins strictly > 0 count; a margin "
        "of exactly 0 contributes nothing) and G_iy_i = -sum_j G_ij. W (D, C), X (N, D) "
        "floating, y (N,) integer in [0, C), N >= 1. Porting: "
        "torch.nn.functional.multi_margin_loss(X @ W, y, margin=delta) divides each "
        "sample's sum over classes by C (this loss is C times it, reg aside); scikit-learn's "
        "LinearSVC(multi_class='crammer_singer') and optax.losses.multiclass_hinge_loss are the "
        "Crammer-Singer hinge max(0, max_{j != y} s_j - s_y + 1), which counts only the "
        "largest violation, not the sum. Gradients: the engine's autodiff check does not "
        "apply to (loss, dW) outputs; dW is checked against this oracle as an output, and "
        "tests compare it with torch autograd and jax.grad of the loss."
    ),
    edge_cases=(
        *_linear_edges({}),
        Case((np.array([[0.0, -1.0, 2.0]]), np.array([[1.0]]), np.array([0])),
             name="margin exactly 0 is not counted"),
        Case((_W, _X, _Y), {"delta": 0.0}, name="delta 0"),
    ),
    invalid_cases=(
        *_linear_invalid({}),
        InvalidCase("delta not a number", Case((_W, _X, _Y), {"delta": "1"}), TypeError,
                    "delta"),
    ),
    tolerance={"float32": (5e-5, 5e-5), "float64": (1e-11, 1e-12)},
    properties=(
        Property("class relabelling permutes dW", _class_relabelling),
        Property("reg adds reg sum(W^2) and 2 reg W", _regularisation),
        Property("svm(2W, 2 delta) == 2 svm(W, delta)", _svm_homogeneity),
    ),
    natives=(
        Native("torch", "torch.nn.functional.multi_margin_loss + torch.autograd", _torch_svm,
               "multiplied by C: torch divides the sum over classes by C"),
        Native("jax", "jax.grad of the hinge in jax.numpy", _jax_svm,
               "optax.losses.multiclass_hinge_loss is Crammer-Singer, a different loss"),
    ),
    capabilities=_LOSS_CAPS,
)

SOFTMAX_LOSS = OpSpec(
    name="softmax_loss",
    family="linear",
    impl=_impl.softmax_loss,
    oracle=softmax_loss_oracle,
    cases=lambda: _linear_cases(svm=False),
    signature="softmax_loss(W, X, y, /, *, reg=0.0)",
    doc=(
        "Softmax cross-entropy of a linear classifier: L = -(1/N) sum_i log softmax(x_i W)"
        "_{y_i} + reg * sum(W * W); dW = X^T (P - Y) / N + 2 reg W with P the row softmax "
        "and Y the one-hot labels. Shapes as svm_loss. Equals "
        "torch.nn.functional.cross_entropy(X @ W, y) + reg * sum(W * W) and its autograd "
        "gradient; optax.softmax_cross_entropy_with_integer_labels(...).mean() likewise. "
        "Gradients: checked as an output against the oracle; the engine's autodiff check "
        "does not apply to (loss, dW) outputs, tests compare with torch and jax autodiff."
    ),
    edge_cases=_linear_edges({}),
    invalid_cases=_linear_invalid({}),
    tolerance={"float32": (5e-5, 5e-5), "float64": (1e-11, 1e-12)},
    properties=(
        Property("class relabelling permutes dW", _class_relabelling),
        Property("reg adds reg sum(W^2) and 2 reg W", _regularisation),
        Property("same shift of every column changes nothing", _softmax_shift),
    ),
    natives=(
        Native("torch", "torch.nn.functional.cross_entropy + torch.autograd", _torch_softmax),
        Native("jax", "optax.softmax_cross_entropy_with_integer_labels + jax.grad",
               _jax_softmax),
    ),
    capabilities=_LOSS_CAPS,
)


def _two_layer_outputs(result: Any) -> tuple[Any, ...]:
    if isinstance(result, tuple):
        loss, grads = result
        return (loss, *(grads[k] for k in TWO_LAYER_PARAMS))
    return (result,)


_PARAMS = {
    "W1": np.array([[1.0, -1.0, 0.5], [0.0, 2.0, -0.5]]),
    "b1": np.array([0.0, 0.5, -1.0]),
    "W2": np.array([[1.0, 0.0], [0.0, 1.0], [-2.0, 1.0]]),
    "b2": np.array([0.1, -0.1]),
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**_PARAMS, **changes}


TWO_LAYER_NET = OpSpec(
    name="two_layer_net",
    family="linear",
    impl=_impl.two_layer_net,
    oracle=two_layer_net_oracle,
    cases=_two_layer_cases,
    signature="two_layer_net(params, X, y=None, /, *, reg=0.0)",
    doc=(
        "params: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,). Scores S = relu(X W1 + b1) W2 + b2 "
        "(N, C), returned when y is None. With y (N,) integer in [0, C): (loss, grads), "
        "loss = mean softmax cross-entropy of S + reg (sum W1^2 + sum W2^2) (biases not "
        "regularised), grads a dict with params' keys and shapes. relu'(0) = 0, as torch "
        "and JAX. Equals torch.nn.functional.cross_entropy of the torch forward pass and "
        "its autograd gradients. The engine's autodiff check does not apply to the "
        "(loss, grads) output; the grads are outputs checked against the oracle's "
        "per-sample backward pass, and tests compare them with torch and jax autodiff."
    ),
    edge_cases=(
        Case((_PARAMS, _X), name="scores"),
        Case((_PARAMS, _X, np.array([0, 1, 1])), {"reg": 0.1}, name="loss with reg"),
        Case((_PARAMS, np.array([[0.0, 0.0], [1.0, 0.5]]), np.array([1, 0])),
             name="a ReLU input of exactly 0"),
        Case((_with(b1=np.array([-9.0, -9.0, -9.0])), _X, np.array([0, 1, 1])),
             name="every hidden unit dead"),
        Case((_with(W2=_PARAMS["W2"] * 100), _X, np.array([1, 1, 0])), name="large scores"),
    ),
    invalid_cases=(
        InvalidCase("feature dimension mismatch", Case((_PARAMS, _X[:, :1])), ValueError, "X"),
        InvalidCase("missing b2", Case(({k: v for k, v in _PARAMS.items() if k != "b2"}, _X)),
                    ValueError, "params"),
        InvalidCase("b1 shape", Case((_with(b1=np.zeros(2)), _X)), ValueError, "b1"),
        InvalidCase("W2 rows", Case((_with(W2=np.zeros((2, 2))), _X)), ValueError, "W2"),
        InvalidCase("params not a dict", Case((list(_PARAMS.values()), _X)), TypeError,
                    "params"),
        InvalidCase("float labels", Case((_PARAMS, _X, np.zeros(3))), TypeError, "y"),
        InvalidCase("y length mismatch", Case((_PARAMS, _X, np.zeros(2, dtype=np.int64))),
                    ValueError, "y"),
        InvalidCase("label out of range", Case((_PARAMS, _X, np.array([0, 2, 1]))),
                    ValueError, "y", needs_values=True),
        InvalidCase("negative reg", Case((_PARAMS, _X, _Y % 2), {"reg": -0.1}), ValueError,
                    "reg"),
    ),
    tolerance={"float32": (5e-5, 5e-5), "float64": (1e-11, 1e-12)},
    properties=(Property("hidden-unit relabelling", _hidden_permutation),),
    natives=(
        Native("torch", "torch.nn.functional.relu/cross_entropy + torch.autograd",
               _two_layer_native(_torch_pieces)),
        Native("jax", "jax.nn.relu + optax + jax.grad", _two_layer_native(_jax_pieces)),
    ),
    capabilities=_LOSS_CAPS,
    outputs=_two_layer_outputs,
)

_w, _b = np.array([1.0, -1.0]), np.array(0.25)

LOGISTIC_REGRESSION_LOSS = OpSpec(
    name="logistic_regression_loss",
    family="linear",
    impl=_impl.logistic_regression_loss,
    oracle=logistic_regression_loss_oracle,
    cases=_logistic_cases,
    signature="logistic_regression_loss(w, b, X, y, /, *, reg=0.0)",
    doc=(
        "z = X w + b; L = mean_i [softplus(z_i) - y_i z_i] + reg * sum(w * w) (the binary "
        "cross-entropy of sigmoid(z), finite for any z); dw = X^T (sigmoid(z) - y) / N + "
        "2 reg w, db = mean(sigmoid(z) - y). w (D,), b 0-d, X (N, D) floating, y (N,) "
        "integer in {0, 1}. Equals torch.nn.functional.binary_cross_entropy_with_logits "
        "and optax.sigmoid_binary_cross_entropy (mean) plus reg sum(w^2). The engine's "
        "autodiff check does not apply to (loss, dw, db); tests compare with autodiff."
    ),
    edge_cases=(
        Case((_w, _b, _X, np.array([1, 0, 1])), {"reg": 0.1}, name="with reg"),
        Case((_w * 400, _b, _X, np.array([0, 1, 0])), name="huge logits"),
        Case((np.zeros(0), np.array(0.0), np.zeros((3, 0)), np.array([1, 0, 1])),
             name="no features: the bias alone"),
    ),
    invalid_cases=(
        InvalidCase("feature dimension mismatch", Case((_w, _b, _X[:, :1], _Y % 2)),
                    ValueError, "X"),
        InvalidCase("b not 0-d", Case((_w, np.array([0.0]), _X, _Y % 2)), ValueError, "b"),
        InvalidCase("float labels", Case((_w, _b, _X, np.array([1.0, 0.0, 1.0]))), TypeError,
                    "y"),
        InvalidCase("label 2", Case((_w, _b, _X, np.array([1, 2, 0]))), ValueError, "y",
                    needs_values=True),
        InvalidCase("y length mismatch", Case((_w, _b, _X, np.array([1, 0]))), ValueError,
                    "y"),
        InvalidCase("w 2-d", Case((_w[:, None], _b, _X, _Y % 2)), ValueError, "w"),
    ),
    tolerance={"float32": (5e-5, 5e-5), "float64": (1e-11, 1e-12)},
    properties=(Property("negate w, b and flip labels", _logistic_flip),),
    natives=(
        Native("torch", "torch.nn.functional.binary_cross_entropy_with_logits + autograd",
               _torch_logistic),
        Native("jax", "optax.sigmoid_binary_cross_entropy + jax.grad", _jax_logistic),
    ),
    capabilities=_LOSS_CAPS,
)

TRAIN_LINEAR_CLASSIFIER = OpSpec(
    name="train_linear_classifier",
    family="linear",
    impl=_impl.train_linear_classifier,
    oracle=train_linear_classifier_oracle,
    cases=_train_cases,
    signature=(
        "train_linear_classifier(loss_fn, X, y, /, *, learning_rate=1e-3, reg=1e-5, "
        "num_iters=100, batch_size=200, seed=0)"
    ),
    doc=(
        "Minibatch SGD on loss_fn(W, X_batch, y_batch, reg=reg) -> (loss, dW), C = max(y) + "
        "1. rng = numpy.random.default_rng(seed) draws W0 = 0.001 standard_normal((D, C)), "
        "then per iteration rows = rng.integers(0, N, size=batch_size) (with replacement); "
        "W <- W - learning_rate dW. Returns (W, loss_history), history (num_iters,) of the "
        "minibatch losses before each update, in X's dtype and device. Same seed, same "
        "weights on a given backend. Equals torch.optim.SGD on torch's loss with the same "
        "draws. Runs eagerly (reads max(y)); not jit-able."
    ),
    edge_cases=(
        Case((_impl.softmax_loss, _X, _Y), {"num_iters": 0}, name="no iterations"),
        Case((_impl.svm_loss, _X, _Y), {"num_iters": 5, "batch_size": 10,
                                        "learning_rate": 0.1}, name="batch larger than N"),
        Case((_impl.softmax_loss, _X, np.zeros(3, dtype=np.int64)), {"num_iters": 3},
             name="one class"),
    ),
    invalid_cases=(
        InvalidCase("loss_fn not callable", Case(("svm", _X, _Y)), TypeError, "loss_fn"),
        InvalidCase("integer X", Case((_impl.svm_loss, _X.astype(np.int64), _Y)), TypeError,
                    "X"),
        InvalidCase("float labels", Case((_impl.svm_loss, _X, _Y * 1.0)), TypeError, "y"),
        InvalidCase("y length mismatch", Case((_impl.svm_loss, _X, _Y[:2])), ValueError, "y"),
        InvalidCase("negative label", Case((_impl.svm_loss, _X, -_Y)), ValueError, "y",
                    needs_values=True),
        InvalidCase("batch_size 0", Case((_impl.svm_loss, _X, _Y), {"batch_size": 0}),
                    ValueError, "batch_size"),
        InvalidCase("num_iters float", Case((_impl.svm_loss, _X, _Y), {"num_iters": 2.0}),
                    TypeError, "num_iters"),
        InvalidCase("negative learning_rate",
                    Case((_impl.svm_loss, _X, _Y), {"learning_rate": -1.0}), ValueError,
                    "learning_rate"),
    ),
    tolerance={"float32": (2e-4, 2e-5), "float64": (1e-10, 1e-12)},
    properties=(Property("same seed, same weights", _same_seed_same_weights),),
    natives=(Native("torch", "torch.optim.SGD", _torch_sgd,
                    "svm_loss and softmax_loss only, through torch's own losses"),),
    capabilities=Capabilities(jit=False, differentiable=False, lazy=False),
)

SPECS = (SVM_LOSS, SOFTMAX_LOSS, TWO_LAYER_NET, LOGISTIC_REGRESSION_LOSS, TRAIN_LINEAR_CLASSIFIER)
