"""Linear classifiers: multiclass SVM and softmax losses, a two-layer net, logistic
regression, each returning its loss and analytic gradients, and minibatch SGD.

Shapes follow the classic course code: weights ``W (D, C)``, samples ``X (N, D)``,
integer labels ``y (N,)`` in ``[0, C)``. Every loss is the mean data loss over the
``N`` samples plus ``reg * sum(W * W)`` for each weight matrix (biases are not
regularised), whose gradient is ``2 * reg * W``. Gradients are written out by hand
(no autodiff inside), so the functions run on any array-API library; they equal
torch autograd and ``jax.grad`` of the same loss.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import array_api_compat
import numpy as np

from .._lib.inputs import array_op
from .._lib.namespace import (
    array_namespace,
    as_array,
    default_int,
    device,
    is_array_api_obj,
    is_concrete,
)
from .._lib.validation import (
    check_count,
    check_integer,
    check_label_range,
    check_real,
    check_real_floating,
    reject_lazy,
)
from .activations import log_softmax, sigmoid

__all__ = [
    "svm_loss",
    "softmax_loss",
    "two_layer_net",
    "logistic_regression_loss",
    "train_linear_classifier",
    "TWO_LAYER_PARAMS",
]

TWO_LAYER_PARAMS = ("W1", "b1", "W2", "b2")


# ------------------------------------------------------------------------ validation


def _check_matrix(xp: Any, x: Any, name: str, ndim: int = 2) -> None:
    if not is_array_api_obj(x):
        msg = f"`{name}` must be an array, got {type(x).__name__}"
        raise TypeError(msg)
    check_real_floating(xp, x, name)
    if x.ndim != ndim:
        want = {0: "a 0-d array", 1: "a 1-d array", 2: "a 2-d array"}[ndim]
        msg = f"`{name}` must be {want}, got shape {tuple(x.shape)}"
        raise ValueError(msg)


def _check_features(x: Any, w: Any, name_x: str, name_w: str) -> None:
    """``x (N, D)`` against weights whose first axis is ``D``."""
    if x.shape[1] != w.shape[0]:
        msg = (
            f"feature dimension mismatch: `{name_x}` has shape {tuple(x.shape)} "
            f"({x.shape[1]} features) but `{name_w}` has shape {tuple(w.shape)} "
            f"({w.shape[0]} features)"
        )
        raise ValueError(msg)


def _check_labels(xp: Any, X: Any, y: Any, num_classes: int | None) -> None:
    """``y (N,)`` integer labels in ``[0, num_classes)``, or ``>= 0`` when ``num_classes``
    is None (values checked when concrete)."""
    check_integer(xp, y, "y")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        msg = (
            f"`y` must have shape ({X.shape[0]},), one label per row of `X`, "
            f"got shape {tuple(y.shape)}"
        )
        raise ValueError(msg)
    check_label_range(xp, y, "y", num_classes)


def _check_samples(X: Any) -> None:
    if X.shape[0] == 0:
        msg = f"`X` must hold at least one sample, got shape {tuple(X.shape)}"
        raise ValueError(msg)


def _check_linear(xp: Any, W: Any, X: Any, y: Any, reg: Any) -> float:
    _check_matrix(xp, W, "W")
    _check_matrix(xp, X, "X")
    _check_features(X, W, "X", "W")
    if W.shape[1] == 0:
        msg = f"`W` must have at least one class column, got shape {tuple(W.shape)}"
        raise ValueError(msg)
    _check_samples(X)
    _check_labels(xp, X, y, W.shape[1])
    return check_real(reg, "reg", finite=True, low=0.0)


# ------------------------------------------------------------------------- helpers


def _is_label(xp: Any, y: Any, num_classes: int) -> Any:
    """Boolean ``(N, C)``: True at ``(i, y_i)``."""
    return y[:, None] == xp.arange(num_classes, dtype=y.dtype, device=device(y))


def _softmax_data_loss(xp: Any, scores: Any, y: Any) -> tuple[Any, Any]:
    """Mean cross-entropy of ``scores (N, C)`` and its gradient with respect to them."""
    n, c = scores.shape
    logp = log_softmax(scores, axis=-1)
    onehot = xp.astype(_is_label(xp, y, c), scores.dtype)
    loss = -xp.sum(logp * onehot) / n
    dscores = (xp.exp(logp) - onehot) / n
    return loss, dscores


def _t_dot(X: Any, G: Any) -> Any:
    """``X.T @ G`` for ``X (N, D)`` and ``G (N, C)`` or ``(N,)``: a weight gradient."""
    if array_api_compat.is_torch_array(X):
        # torch's CPU matmul is about 3x slower with the transposed (N, D) operand on the
        # left than computing the transposed product (NumPy is the other way round)
        return G @ X if G.ndim == 1 else (G.T @ X).T
    return X.T @ G


def _l2(xp: Any, reg: float, *weights: Any) -> Any:
    """``reg * sum(w * w)`` summed over ``weights``."""
    total = xp.sum(weights[0] * weights[0])
    for w in weights[1:]:
        total = total + xp.sum(w * w)
    return reg * total


# -------------------------------------------------------------------------- losses


@array_op("W", "X", "y", labels=("y",))
def svm_loss(W: Any, X: Any, y: Any, /, *, reg: float = 0.0, delta: float = 1.0) -> tuple[Any, Any]:
    r"""Multiclass (Weston-Watkins) hinge loss of a linear classifier and its gradient.

    With scores :math:`s = X W`,

    .. math:: L = \frac1N \sum_i \sum_{j \ne y_i} \max(0, s_{ij} - s_{i y_i} + \Delta)
              + \lambda \sum W^2

    The subgradient counts the margins strictly greater than 0:
    ``dW = X.T @ G / N + 2 reg W`` with :math:`G_{ij} = [m_{ij} > 0]` for
    :math:`j \ne y_i` and :math:`G_{i y_i} = -\sum_{j \ne y_i} [m_{ij} > 0]`. Unlike
    ``torch.nn.functional.multi_margin_loss`` the sum over classes is not divided by
    ``C``; unlike scikit-learn's ``LinearSVC(multi_class="crammer_singer")`` and optax's
    ``multiclass_hinge_loss`` it sums every violated margin, not only the largest.

    Parameters
    ----------
    W : array
        Real floating weights ``(D, C)``, at least one class column.
    X : array
        Real floating samples ``(N, D)``, at least one row.
    y : array
        Integer labels ``(N,)`` in ``[0, C)``.
    reg : float, default 0.0
        The L2 strength :math:`\lambda`, finite and >= 0.
    delta : float, default 1.0
        The margin :math:`\Delta`, finite.

    Returns
    -------
    tuple of array
        ``(loss, dW)``: a 0-d array and an array of ``W``'s shape, in the result dtype
        of ``W`` and ``X``.

    Raises
    ------
    TypeError
        When ``W`` or ``X`` is not real floating, ``y`` not integer, or ``reg`` or
        ``delta`` not a real number.
    ValueError
        When the shapes do not fit, ``X`` has no rows, ``reg`` or ``delta`` is out of
        range, or a concrete label lies outside ``[0, C)``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import svm_loss
    >>> W = xp.asarray([[1.0, -1.0, 0.0], [0.0, 1.0, 2.0]])
    >>> X = xp.asarray([[1.0, 2.0], [0.5, -1.0]])
    >>> loss, dW = svm_loss(W, X, xp.asarray([0, 2]), reg=0.1)
    >>> loss
    Array(5.7, dtype=array_api_strict.float64)
    >>> dW
    Array([[-0.55,  0.55,  0.  ],
           [-2.5 ,  0.7 ,  2.4 ]], dtype=array_api_strict.float64)
    """
    xp = array_namespace(W, X, y)
    reg = _check_linear(xp, W, X, y, reg)
    delta = check_real(delta, "delta", finite=True)
    n, c = X.shape[0], W.shape[1]
    scores = X @ W
    is_label = _is_label(xp, y, c)
    zero = xp.zeros_like(scores)
    correct = xp.sum(xp.where(is_label, scores, zero), axis=1)
    margins = scores - correct[:, None] + delta
    violated = (margins > 0) & ~is_label
    loss = xp.sum(xp.where(violated, margins, zero)) / n + _l2(xp, reg, W)
    counts = xp.astype(violated, scores.dtype)
    coeff = counts - xp.astype(is_label, scores.dtype) * xp.sum(counts, axis=1)[:, None]
    dW = _t_dot(X, coeff) / n + (2 * reg) * W
    return as_array(xp, loss), dW


@array_op("W", "X", "y", labels=("y",))
def softmax_loss(W: Any, X: Any, y: Any, /, *, reg: float = 0.0) -> tuple[Any, Any]:
    r"""Softmax (cross-entropy) loss of a linear classifier and its gradient.

    .. math:: L = -\frac1N \sum_i \log \operatorname{softmax}(x_i W)_{y_i}
              + \lambda \sum W^2, \qquad
              \frac{\partial L}{\partial W} = \frac1N X^T (P - Y) + 2 \lambda W

    with :math:`P` the row-wise softmax of the scores and :math:`Y` the one-hot labels.
    The log-softmax is computed stably (max subtracted), so large scores do not
    overflow.

    Parameters
    ----------
    W : array
        Real floating weights ``(D, C)``, at least one class column.
    X : array
        Real floating samples ``(N, D)``, at least one row.
    y : array
        Integer labels ``(N,)`` in ``[0, C)``.
    reg : float, default 0.0
        The L2 strength :math:`\lambda`, finite and >= 0.

    Returns
    -------
    tuple of array
        ``(loss, dW)``: a 0-d array and an array of ``W``'s shape, in the result dtype
        of ``W`` and ``X``.

    Raises
    ------
    TypeError, ValueError
        As :func:`svm_loss`.

    Examples
    --------
    Both classes score 1, so the loss is log 2:

    >>> import array_api_strict as xp
    >>> from xpops import softmax_loss
    >>> W = xp.asarray([[1.0, -1.0], [0.0, 2.0]])
    >>> loss, dW = softmax_loss(W, xp.asarray([[1.0, 1.0]]), xp.asarray([1]))
    >>> loss
    Array(0.69314718, dtype=array_api_strict.float64)
    >>> dW
    Array([[ 0.5, -0.5],
           [ 0.5, -0.5]], dtype=array_api_strict.float64)
    """
    xp = array_namespace(W, X, y)
    reg = _check_linear(xp, W, X, y, reg)
    data_loss, dscores = _softmax_data_loss(xp, X @ W, y)
    return as_array(xp, data_loss + _l2(xp, reg, W)), _t_dot(X, dscores) + (2 * reg) * W


def _check_two_layer(params: Any, X: Any) -> tuple[Any, Any, Any, Any, Any]:
    """The namespace and ``(W1, b1, W2, b2)`` of valid ``params`` for ``X``."""
    if not isinstance(params, Mapping):
        msg = f"`params` must be a mapping with keys {TWO_LAYER_PARAMS}, got {type(params)}"
        raise TypeError(msg)
    missing = [k for k in TWO_LAYER_PARAMS if k not in params]
    if missing:
        msg = f"`params` lacks {missing}; it needs {TWO_LAYER_PARAMS}"
        raise ValueError(msg)
    W1, b1, W2, b2 = (params[k] for k in TWO_LAYER_PARAMS)
    xp = array_namespace(X, W1, b1, W2, b2)
    for name, p, ndim in (("W1", W1, 2), ("b1", b1, 1), ("W2", W2, 2), ("b2", b2, 1)):
        _check_matrix(xp, p, f"params['{name}']", ndim)
    _check_matrix(xp, X, "X")
    _check_features(X, W1, "X", "params['W1']")
    hidden, classes = W1.shape[1], W2.shape[1]
    for name, p, want in (
        ("b1", b1, (hidden,)), ("W2", W2, (hidden, classes)), ("b2", b2, (classes,))
    ):
        if tuple(p.shape) != want:
            msg = (
                f"`params['{name}']` must have shape {want} to match W1 {tuple(W1.shape)} "
                f"and W2 {tuple(W2.shape)}, got {tuple(p.shape)}"
            )
            raise ValueError(msg)
    return xp, W1, b1, W2, b2


@array_op("params", "X", "y", labels=("y",), mappings=("params",))
def two_layer_net(
    params: Mapping[str, Any], X: Any, y: Any = None, /, *, reg: float = 0.0
) -> Any:
    r"""Scores, or loss and gradients, of an affine - ReLU - affine - softmax network.

    The scores are :math:`S = \max(0, X W_1 + b_1) W_2 + b_2`. With labels the loss is
    the mean softmax cross-entropy of ``S`` plus :math:`\lambda (\sum W_1^2 + \sum
    W_2^2)` (biases not regularised). The ReLU's derivative at exactly 0 is taken as
    0, as torch and JAX do.

    Parameters
    ----------
    params : mapping
        ``"W1" (D, H)``, ``"b1" (H,)``, ``"W2" (H, C)``, ``"b2" (C,)``, real floating.
    X : array
        Real floating samples ``(N, D)``.
    y : array or None, default None
        Integer labels ``(N,)`` in ``[0, C)``; None returns the scores alone.
    reg : float, default 0.0
        The L2 strength :math:`\lambda`, finite and >= 0.

    Returns
    -------
    array or tuple
        The scores ``(N, C)`` when ``y`` is None; else ``(loss, grads)``: a 0-d array
        and a dict of gradients with the keys and shapes of ``params``.

    Raises
    ------
    TypeError
        When ``params`` is not a mapping, an array is not real floating, ``y`` not
        integer, or ``reg`` not a real number.
    ValueError
        When ``params`` lacks a key, the shapes do not fit, ``X`` has no rows (with
        ``y``), ``reg`` is out of range, or a concrete label lies outside ``[0, C)``.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import two_layer_net
    >>> params = {"W1": xp.asarray([[1.0, -1.0]]), "b1": xp.asarray([0.0, 0.5]),
    ...           "W2": xp.asarray([[1.0, 0.0], [0.0, 1.0]]), "b2": xp.asarray([0.0, 0.0])}
    >>> two_layer_net(params, xp.asarray([[2.0]]))
    Array([[2., 0.]], dtype=array_api_strict.float64)
    >>> loss, grads = two_layer_net(params, xp.asarray([[2.0]]), xp.asarray([0]))
    >>> grads["W1"]
    Array([[-0.23840584,  0.        ]], dtype=array_api_strict.float64)
    """
    xp, W1, b1, W2, b2 = _check_two_layer(params, X)
    pre = X @ W1 + b1
    active = pre > 0
    hidden = xp.where(active, pre, xp.zeros_like(pre))
    scores = hidden @ W2 + b2
    if y is None:
        return scores
    reg = check_real(reg, "reg", finite=True, low=0.0)
    _check_samples(X)
    _check_labels(xp, X, y, W2.shape[1])
    data_loss, dscores = _softmax_data_loss(xp, scores, y)
    dhidden = dscores @ W2.T
    dpre = xp.where(active, dhidden, xp.zeros_like(dhidden))
    grads = {
        "W1": _t_dot(X, dpre) + (2 * reg) * W1,
        "b1": xp.sum(dpre, axis=0),
        "W2": _t_dot(hidden, dscores) + (2 * reg) * W2,
        "b2": xp.sum(dscores, axis=0),
    }
    return as_array(xp, data_loss + _l2(xp, reg, W1, W2)), grads


@array_op("w", "b", "X", "y", labels=("y",))
def logistic_regression_loss(
    w: Any, b: Any, X: Any, y: Any, /, *, reg: float = 0.0
) -> tuple[Any, Any, Any]:
    r"""Binary logistic regression: mean cross-entropy, its gradients for ``w`` and ``b``.

    With :math:`z = X w + b` and labels :math:`y_i \in \{0, 1\}`,

    .. math:: L = \frac1N \sum_i \big(\operatorname{softplus}(z_i) - y_i z_i\big)
              + \lambda \sum w^2

    (the binary cross-entropy of :math:`\sigma(z)`, computed from the logits so that it
    stays finite for any ``z``); :math:`\partial L / \partial w = X^T (\sigma(z) - y) / N +
    2 \lambda w` and :math:`\partial L / \partial b = \operatorname{mean}(\sigma(z) - y)`.

    Parameters
    ----------
    w : array
        Real floating weights ``(D,)``.
    b : array
        Real floating 0-d bias.
    X : array
        Real floating samples ``(N, D)``, at least one row.
    y : array
        Integer labels ``(N,)``, 0 or 1.
    reg : float, default 0.0
        The L2 strength :math:`\lambda` on ``w``, finite and >= 0.

    Returns
    -------
    tuple of array
        ``(loss, dw, db)``: 0-d, ``(D,)`` and 0-d arrays in the result dtype of the
        inputs.

    Raises
    ------
    TypeError
        When an array is not real floating, ``y`` not integer, or ``reg`` not a real
        number.
    ValueError
        When the shapes do not fit, ``X`` has no rows, ``reg`` is out of range, or a
        concrete label is not 0 or 1.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import logistic_regression_loss
    >>> loss, dw, db = logistic_regression_loss(
    ...     xp.asarray([1.0, -1.0]), xp.asarray(0.0), xp.asarray([[1.0, 1.0], [2.0, 0.0]]),
    ...     xp.asarray([1, 0]))
    >>> loss
    Array(1.4100376, dtype=array_api_strict.float64)
    >>> dw
    Array([ 0.63079708, -0.25      ], dtype=array_api_strict.float64)
    >>> db
    Array(0.19039854, dtype=array_api_strict.float64)
    """
    xp = array_namespace(w, b, X, y)
    _check_matrix(xp, w, "w", 1)
    _check_matrix(xp, b, "b", 0)
    _check_matrix(xp, X, "X")
    _check_features(X, w, "X", "w")
    _check_samples(X)
    _check_labels(xp, X, y, 2)
    reg = check_real(reg, "reg", finite=True, low=0.0)
    n = X.shape[0]
    z = X @ w + b
    t = xp.astype(y, z.dtype)
    # softplus(z) = max(z, 0) + log1p(exp(-|z|)): no overflow for large |z|
    softplus = xp.maximum(z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z)))
    loss = xp.sum(softplus - t * z) / n + _l2(xp, reg, w)
    residual = (sigmoid(z) - t) / n
    dw = _t_dot(X, residual) + (2 * reg) * w
    return as_array(xp, loss), dw, as_array(xp, xp.sum(residual))


# ------------------------------------------------------------------------ training


@array_op("X", "y", labels=("y",))
def train_linear_classifier(
    loss_fn: Callable[..., tuple[Any, Any]],
    X: Any,
    y: Any,
    /,
    *,
    learning_rate: float = 1e-3,
    reg: float = 1e-5,
    num_iters: int = 100,
    batch_size: int = 200,
    seed: int = 0,
) -> tuple[Any, Any]:
    r"""Train ``W (D, C)`` by minibatch stochastic gradient descent on ``loss_fn``.

    ``C = max(y) + 1``. A NumPy ``Generator(PCG64(seed))`` draws, in this order, the
    initial weights ``0.001 * standard_normal((D, C))`` and then, per iteration,
    ``batch_size`` row indices with replacement (``integers(0, N, size=batch_size)``);
    they are moved to the device of ``X``, so the same seed gives the same draws on
    every backend and the same weights on a given backend. Each iteration does
    ``W -= learning_rate * dW``. The loop over iterations runs eagerly (it reads
    ``max(y)``), so it is not meant for ``jax.jit``; Dask arrays are rejected.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(W, X_batch, y_batch, reg=reg)`` returns ``(loss, dW)``, as
        :func:`svm_loss` and :func:`softmax_loss` do.
    X : array
        Real floating samples ``(N, D)``, at least one row.
    y : array
        Integer labels ``(N,)``, >= 0, with concrete values.
    learning_rate : float, default 1e-3
        The step size, finite and >= 0.
    reg : float, default 1e-5
        The L2 strength passed to ``loss_fn``, finite and >= 0.
    num_iters : int, default 100
        The number of updates, >= 0.
    batch_size : int, default 200
        Rows drawn per update, >= 1.
    seed : int, default 0
        The seed of the NumPy generator, >= 0.

    Returns
    -------
    tuple of array
        ``(W, loss_history)``: the final weights in ``X``'s dtype and device and a
        ``(num_iters,)`` array of the minibatch losses (before each update).

    Raises
    ------
    TypeError
        When ``loss_fn`` is not callable, ``X`` not real floating, ``y`` not integer or
        not concrete, or an option has the wrong type.
    ValueError
        When ``X`` has no rows, ``y`` does not have one label per row, an option is out
        of range, or a concrete label is negative.
    NotImplementedError
        For Dask arrays.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> from xpops import softmax_loss, train_linear_classifier
    >>> X = xp.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.1, 1.0]])
    >>> W, history = train_linear_classifier(
    ...     softmax_loss, X, xp.asarray([0, 1, 0, 1]), learning_rate=1.0, num_iters=20,
    ...     batch_size=4)
    >>> xp.argmax(X @ W, axis=1)
    Array([0, 1, 0, 1], dtype=array_api_strict.int64)
    >>> bool(history[-1] < history[0])
    True
    """
    reject_lazy("train_linear_classifier",
                "loops over sampled minibatches and reads max(y) to size the weights", X, y)
    xp = array_namespace(X, y)
    if not callable(loss_fn):
        msg = f"`loss_fn` must be callable as loss_fn(W, X, y, reg=reg), got {loss_fn!r}"
        raise TypeError(msg)
    _check_matrix(xp, X, "X")
    _check_samples(X)
    check_integer(xp, y, "y")
    learning_rate = check_real(learning_rate, "learning_rate", finite=True, low=0.0)
    reg = check_real(reg, "reg", finite=True, low=0.0)
    num_iters = check_count(num_iters, "num_iters")
    batch_size = check_count(batch_size, "batch_size", minimum=1)
    seed = check_count(seed, "seed")
    _check_labels(xp, X, y, None)  # the classes come from max(y)
    if not is_concrete(y):
        msg = "`y` must hold concrete values: the number of classes is max(y) + 1"
        raise TypeError(msg)
    n, d = X.shape
    c = int(xp.max(y)) + 1
    dev = device(X)
    rng = np.random.default_rng(seed)
    W = xp.asarray(0.001 * rng.standard_normal((d, c)), dtype=X.dtype, device=dev)
    index_dtype = default_int(xp, dev)
    history = []
    for _ in range(num_iters):
        rows = xp.asarray(rng.integers(0, n, size=batch_size), dtype=index_dtype, device=dev)
        loss, dW = loss_fn(W, xp.take(X, rows, axis=0), xp.take(y, rows, axis=0), reg=reg)
        history.append(loss)
        W = W - learning_rate * dW
    if not history:
        return W, xp.zeros((0,), dtype=X.dtype, device=dev)
    # loss_fn may return its loss as a Python float or a 0-d array of another dtype
    return W, xp.stack([xp.asarray(h, dtype=X.dtype, device=dev) for h in history])
