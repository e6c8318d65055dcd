"""Linear classifiers: analytic gradients against torch autograd, jax.grad and finite
differences; the documented differences from peer hinge losses; training on real data."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import numpy as np
import pytest

import xpops
from xpops.impl import linear as linear_impl
from xpops.spec import linear as linear_spec

# ../shared/data relative to the project root; XPOPS_DATA points elsewhere
DATA = Path(os.environ.get("XPOPS_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
LOSS_SPECS = {
    "svm_loss": linear_spec.SVM_LOSS,
    "softmax_loss": linear_spec.SOFTMAX_LOSS,
    "two_layer_net": linear_spec.TWO_LAYER_NET,
    "logistic_regression_loss": linear_spec.LOGISTIC_REGRESSION_LOSS,
}


def test_docstring_examples():
    failures, tried = doctest.testmod(linear_impl, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0


def _problem(op: str, rng: np.random.Generator, n: int = 23, d: int = 5, c: int = 4):
    """NumPy arguments of ``op`` with reg > 0, normal values (no hinge or ReLU kinks)."""
    X = rng.normal(size=(n, d))
    y = rng.integers(0, c, size=n)
    if op == "two_layer_net":
        h = 7
        params = {"W1": rng.normal(size=(d, h)), "b1": rng.normal(size=h),
                  "W2": rng.normal(size=(h, c)), "b2": rng.normal(size=c)}
        return (params, X, y), {"reg": 0.3}
    if op == "logistic_regression_loss":
        return (rng.normal(size=d), np.asarray(0.4), X, y % 2), {"reg": 0.3}
    kwargs = {"reg": 0.3, "delta": 1.5} if op == "svm_loss" else {"reg": 0.3}
    return (rng.normal(size=(d, c)), X, y), kwargs


def _convert(backend, value, dtype):
    if isinstance(value, dict):
        return {k: _convert(backend, v, dtype) for k, v in value.items()}
    value = np.asarray(value)
    return backend.asarray(value, dtype if value.dtype.kind == "f" else None)


def _flat(op: str, result) -> list:
    return list(linear_spec.TWO_LAYER_NET.output_arrays(result)) if op == "two_layer_net" \
        else list(result)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", list(LOSS_SPECS))
def test_analytic_gradients_equal_autodiff(op, dtype, backend, rng):
    """xpops' hand-written gradients equal torch autograd / jax.grad of the same loss."""
    if backend.library not in ("torch", "jax"):
        pytest.skip("autodiff peers are torch and jax")
    if dtype not in backend.float_dtypes:
        pytest.skip(f"{backend.name} has no {dtype}")
    native = LOSS_SPECS[op].native(backend.library)
    if native is None:
        pytest.skip(f"no {backend.library} native")
    try:
        native_fn = native.load()
    except ImportError as exc:
        pytest.skip(str(exc))
    for _ in range(3):
        args, kwargs = _problem(op, rng)
        converted = [_convert(backend, a, dtype) for a in args]
        got = _flat(op, getattr(xpops, op)(*converted, **kwargs))
        want = _flat(op, native_fn(*converted, **kwargs))
        assert len(got) == len(want) >= 2
        rtol, atol = (1e-5, 1e-5) if dtype == "float32" else (1e-12, 1e-12)
        for g, w in zip(got, want, strict=True):
            assert backend.dtype_name(g) == dtype
            g_np, w_np = backend.to_numpy(g), backend.to_numpy(w)
            assert g_np.shape == w_np.shape
            np.testing.assert_allclose(g_np, w_np, rtol=rtol, atol=atol)


def _numeric_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (float(f(x + step)) - float(f(x - step))) / (2 * eps)
    return grad


@pytest.mark.parametrize("op", list(LOSS_SPECS))
def test_gradients_equal_finite_differences(op, rng):
    """Central differences in float64 NumPy, independent of any autodiff framework."""
    args, kwargs = _problem(op, rng, n=9, d=3, c=3)
    fn = getattr(xpops, op)
    if op == "two_layer_net":
        params, X, y = args
        _, grads = fn(params, X, y, **kwargs)
        for key in linear_impl.TWO_LAYER_PARAMS:
            def loss_of(v, key=key):
                return fn({**params, key: v}, X, y, **kwargs)[0]

            np.testing.assert_allclose(grads[key], _numeric_gradient(loss_of, params[key]),
                                       rtol=1e-6, atol=1e-7)
        return
    result = fn(*args, **kwargs)
    for pos, grad in enumerate(result[1:]):
        def loss_of(v, pos=pos):
            changed = list(args)
            changed[pos] = v
            return fn(*changed, **kwargs)[0]

        np.testing.assert_allclose(grad, _numeric_gradient(loss_of, np.asarray(args[pos])),
                                   rtol=1e-6, atol=1e-7)


def test_hinge_counts_only_margins_strictly_above_zero():
    # scores (0, -1, 2) with label 0: margins 0 (not counted) and 3 (counted)
    W, X, y = np.array([[0.0, -1.0, 2.0]]), np.array([[1.0]]), np.array([0])
    loss, dW = xpops.svm_loss(W, X, y)
    assert float(loss) == 3.0
    np.testing.assert_array_equal(dW, [[-1.0, 0.0, 1.0]])


def test_hinge_is_c_times_torch_multi_margin_loss(rng):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    W, X, y = rng.normal(size=(5, 4)), rng.normal(size=(30, 5)), rng.integers(0, 4, 30)
    loss, _ = xpops.svm_loss(W, X, y, delta=0.7)
    scores = torch.asarray(X @ W)
    torch_loss = F.multi_margin_loss(scores, torch.asarray(y), margin=0.7).item()
    assert float(loss) == pytest.approx(4 * torch_loss, rel=1e-12)
    assert float(loss) != pytest.approx(torch_loss)


def test_hinge_differs_from_crammer_singer():
    """optax's multiclass hinge (Crammer-Singer) counts only the largest violation."""
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")

    scores = np.array([[0.0, 0.5, 0.8]])  # label 0: margins 1.5 and 1.8
    loss, _ = xpops.svm_loss(np.eye(3), scores, np.array([0]))
    cs = float(optax.losses.multiclass_hinge_loss(jnp.asarray(scores), jnp.asarray([0]))[0])
    assert float(loss) == pytest.approx(3.3)
    assert cs == pytest.approx(1.8)


def test_two_layer_net_scores_and_grad_keys(rng):
    (params, X, y), _ = _problem("two_layer_net", rng)
    scores = xpops.two_layer_net(params, X)
    assert scores.shape == (X.shape[0], params["W2"].shape[1])
    loss, grads = xpops.two_layer_net(params, X, y)
    assert set(grads) == set(linear_impl.TWO_LAYER_PARAMS)
    assert all(grads[k].shape == params[k].shape for k in grads)
    # the loss is the cross-entropy of the scores
    want = xpops.cross_entropy(scores, y)
    assert float(loss) == pytest.approx(float(want), rel=1e-12)


@pytest.mark.parametrize(
    ("call", "exc", "needle"),
    [
        (lambda: xpops.svm_loss(np.ones((3, 2)), np.ones((4, 2)), np.zeros(4, int)),
         ValueError, "`W` has shape (3, 2)"),
        (lambda: xpops.softmax_loss(np.ones((2, 2)), np.ones((4, 2)), np.zeros(4)),
         TypeError, "`y`"),
        (lambda: xpops.softmax_loss(np.ones((2, 2)), np.ones((4, 2)), np.zeros(3, int)),
         ValueError, "`y` must have shape (4,)"),
        (lambda: xpops.svm_loss(np.ones((2, 2)), np.ones((4, 2)), np.zeros(4, int), delta=np.nan),
         ValueError, "`delta`"),
        (lambda: xpops.logistic_regression_loss(np.ones(2), np.asarray(0.0), np.ones((4, 3)),
                                                np.zeros(4, int)), ValueError, "`w`"),
        (lambda: xpops.two_layer_net({"W1": np.ones((2, 3))}, np.ones((4, 2))),
         ValueError, "['b1', 'W2', 'b2']"),
        (lambda: xpops.train_linear_classifier(xpops.svm_loss, np.ones((4, 2)),
                                               np.zeros(4, int), seed=-1), ValueError, "`seed`"),
    ],
)
def test_bad_input_names_the_parameter(call, exc, needle):
    with pytest.raises(exc) as info:
        call()
    assert needle in str(info.value)


# ------------------------------------------------------------------------- training


def test_same_seed_same_weights_different_seed_different_weights(backend, rng):
    X = backend.asarray(rng.normal(size=(50, 6)), backend.float_dtypes[-1])
    y = backend.asarray(rng.integers(0, 3, size=50))
    kwargs = {"learning_rate": 0.05, "num_iters": 15, "batch_size": 16}
    W1, h1 = xpops.train_linear_classifier(xpops.svm_loss, X, y, seed=3, **kwargs)
    W2, h2 = xpops.train_linear_classifier(xpops.svm_loss, X, y, seed=3, **kwargs)
    W3, _ = xpops.train_linear_classifier(xpops.svm_loss, X, y, seed=4, **kwargs)
    np.testing.assert_array_equal(backend.to_numpy(W1), backend.to_numpy(W2))
    np.testing.assert_array_equal(backend.to_numpy(h1), backend.to_numpy(h2))
    assert not np.array_equal(backend.to_numpy(W1), backend.to_numpy(W3))
    assert W1.shape == (6, 3) and h1.shape == (15,)
    assert backend.same_device(W1) and W1.dtype == X.dtype == h1.dtype


def test_training_equals_torch_sgd(rng):
    """Same draws, same updates: torch.optim.SGD on torch's losses gives the same W."""
    torch = pytest.importorskip("torch")
    native = linear_spec.TRAIN_LINEAR_CLASSIFIER.native("torch").load()
    X = torch.asarray(rng.normal(size=(60, 5)))
    y = torch.asarray(rng.integers(0, 4, size=60))
    for loss_fn in (xpops.svm_loss, xpops.softmax_loss):
        kwargs = {"learning_rate": 0.05, "reg": 1e-2, "num_iters": 20, "batch_size": 25,
                  "seed": 7}
        W, history = xpops.train_linear_classifier(loss_fn, X, y, **kwargs)
        W_t, history_t = native(loss_fn, X, y, **kwargs)
        torch.testing.assert_close(W, W_t, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(history, history_t, rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def digits():
    path = DATA / "classic" / "digits.csv.gz"
    if not path.exists():
        pytest.skip(f"real data not found at {path} (set XPOPS_DATA)")
    data = np.loadtxt(path, delimiter=",")
    return data[:, :64] / 16.0, data[:, 64].astype(np.int64)


@pytest.mark.parametrize("loss_fn", [xpops.softmax_loss, xpops.svm_loss],
                         ids=["softmax", "svm"])
def test_training_on_digits_reduces_loss_and_classifies(loss_fn, digits, backend):
    """First 1000 digits train, the other 797 test: a linear classifier gets about 90%."""
    X, y = digits
    dtype = backend.float_dtypes[0]
    X_train, y_train = backend.asarray(X[:1000], dtype), backend.asarray(y[:1000])
    W, history = xpops.train_linear_classifier(
        loss_fn, X_train, y_train, learning_rate=0.1, reg=1e-4, num_iters=200, batch_size=100,
    )
    history = backend.to_numpy(history)
    assert history.shape == (200,)
    assert history[-20:].mean() < 0.5 * history[:5].mean()
    predicted = np.argmax(X[1000:] @ backend.to_numpy(W).astype(np.float64), axis=1)
    accuracy = float(np.mean(predicted == y[1000:]))
    assert accuracy >= 0.85, accuracy
