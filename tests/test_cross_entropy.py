"""cross_entropy, binary_cross_entropy and binary_cross_entropy_with_logits.

torch.nn.functional is the reference for values (an exhaustive option grid, on torch
tensors and then on every backend), optax a second one under JAX; gradients are checked
against torch autograd and ``jax.grad`` of optax.

Documented differences from peers, tested as ours:
- NaN ``probs`` in ``binary_cross_entropy``: torch raises ("all elements of input should
  be between 0 and 1"); we propagate NaN (only values outside [0, 1] raise).
- Under ``jax.jit`` and on Dask no value checks run (class-index range, [0, 1] ranges):
  the op must stay traceable / lazy. Eager JAX arrays are checked.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from array_api_compat import array_namespace

import xpops
from xpops.conformance.backends import jax_x64

C = 5  # classes
IGNORE = 2  # the class used as ignore_index
LAYOUTS = {
    # name: (logits shape, class axis)
    "NC": ((6, C), -1),
    "NHC": ((3, 2, C), -1),
    "NCHW": ((2, C, 2, 1), 1),  # small: the Dask backend chunks every axis by N // 2
    "C": ((C,), -1),  # no batch: 0-d index target
}
REDUCTIONS = ("none", "mean", "sum")
SMOOTHINGS = (0.0, 0.2, 1.0)


# --------------------------------------------------------------------------- helpers



def _softmax_np(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def make_case(layout: str, kind: str, seed: int = 0) -> dict:
    """Float64 logits (one pair of huge logits for stability), target, weight and axis."""
    shape, axis = LAYOUTS[layout]
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape) * 3
    logits.flat[0], logits.flat[-1] = 300.0, -300.0
    batch_shape = tuple(np.delete(np.array(shape), axis))
    if kind == "index":
        target = rng.integers(0, C, size=batch_shape)
        if target.size > 1:
            target.flat[0] = IGNORE  # something to ignore, but not everything
            target.flat[-1] = (IGNORE + 1) % C
        else:
            target = np.array(IGNORE + 1)
    else:
        target = _softmax_np(rng.normal(size=shape) * 2, axis)
    weight = rng.uniform(0.3, 2.0, size=C)
    return {"logits": logits, "target": target, "weight": weight, "axis": axis}


def torch_cross_entropy(logits, target, axis, weight, ignore_index, label_smoothing, reduction):
    """F.cross_entropy on float64 NumPy inputs, with the class axis moved to torch's."""
    torch = pytest.importorskip("torch")
    cls = 0 if logits.ndim == 1 else 1
    lt = torch.asarray(np.moveaxis(logits, axis, cls).astype(np.float64))
    if np.issubdtype(target.dtype, np.floating):
        tt = torch.asarray(np.moveaxis(target, axis, cls).astype(np.float64))
    else:
        tt = torch.asarray(target.astype(np.int64))
    out = torch.nn.functional.cross_entropy(
        lt,
        tt,
        weight=None if weight is None else torch.asarray(weight.astype(np.float64)),
        ignore_index=-100 if ignore_index is None else ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
    return out.numpy()


def grid(kind: str):
    """Every option combination torch accepts for this target kind."""
    ignores = (None, IGNORE) if kind == "index" else (None,)
    return list(itertools.product((False, True), ignores, SMOOTHINGS, REDUCTIONS))


def grid_id(use_weight, ignore_index, ls, reduction) -> str:
    return f"w{int(use_weight)}-ign{ignore_index}-ls{ls}-{reduction}"


def check_meta(backend, out, like, shape) -> None:
    assert array_namespace(out) is array_namespace(like)
    if isinstance(like, np.ndarray) and not shape:
        # NumPy's full reductions return NumPy scalars, which array-api-compat accepts
        assert isinstance(out, (np.ndarray, np.generic))
    else:
        assert type(out) is type(like)
    assert out.dtype == like.dtype
    assert tuple(out.shape) == tuple(shape)
    assert backend.same_device(out)


def rtol_for(dtype_name: str) -> dict:
    if dtype_name == "float64":
        return {"rtol": 1e-12, "atol": 1e-12}
    return {"rtol": 1e-5, "atol": 1e-5}


# --------------------------------------------------------------------------- grid: torch


GRID_PARAMS = [
    pytest.param(layout, kind, *opts, id=f"{layout}-{kind}-{grid_id(*opts)}")
    for layout in LAYOUTS
    for kind in ("index", "prob")
    for opts in grid(kind)
]


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize(
    ("layout", "kind", "use_weight", "ignore_index", "label_smoothing", "reduction"),
    GRID_PARAMS,
)
def test_cross_entropy_grid_on_torch(
    layout, kind, use_weight, ignore_index, label_smoothing, reduction
):
    """xpops on torch float64 tensors equals F.cross_entropy for every option."""
    torch = pytest.importorskip("torch")
    case = make_case(layout, kind)
    weight = case["weight"] if use_weight else None
    expected = torch_cross_entropy(
        case["logits"], case["target"], case["axis"], weight, ignore_index,
        label_smoothing, reduction,
    )
    logits = torch.asarray(case["logits"])
    out = xpops.cross_entropy(
        logits,
        torch.asarray(case["target"]),
        axis=case["axis"],
        weight=None if weight is None else torch.asarray(weight),
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    assert tuple(out.shape) == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert np.isfinite(expected).all()  # the huge logits must not overflow on either side


# --------------------------------------------------------------------------- grid: backends


@pytest.mark.parametrize("kind", ["index", "prob"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_cross_entropy_grid_on_backend(backend, layout, kind):
    """The same grid on every backend, against torch on the (rounded) float64 inputs."""
    pytest.importorskip("torch")
    case = make_case(layout, kind, seed=1)
    axis = case["axis"]
    for dt in backend.float_dtypes:
        logits_np = case["logits"].astype(dt)
        target_np = case["target"].astype(dt) if kind == "prob" else case["target"]
        weight_np = case["weight"].astype(dt)
        logits = backend.asarray(logits_np, dt)
        target = backend.asarray(target_np)
        weight = backend.asarray(weight_np, dt)
        before = [backend.to_numpy(a).copy() for a in (logits, target, weight)]
        for use_weight, ignore_index, ls, reduction in grid(kind):
            label = f"{backend.name} {dt} {grid_id(use_weight, ignore_index, ls, reduction)}"
            expected = torch_cross_entropy(
                logits_np, target_np, axis, weight_np if use_weight else None,
                ignore_index, ls, reduction,
            )
            out = xpops.cross_entropy(
                logits, target, axis=axis, weight=weight if use_weight else None,
                ignore_index=ignore_index, label_smoothing=ls, reduction=reduction,
            )
            check_meta(backend, out, logits, expected.shape)
            np.testing.assert_allclose(
                backend.to_numpy(out), expected, err_msg=label, **rtol_for(dt)
            )
        for a, b in zip((logits, target, weight), before, strict=True):
            np.testing.assert_array_equal(backend.to_numpy(a), b)


@pytest.mark.parametrize("layout", ["NC", "NCHW", "C"])
def test_all_targets_ignored(backend, layout):
    """mean over nothing is NaN (as torch); sum is 0 and none is all zeros."""
    shape, axis = LAYOUTS[layout]
    logits_np = np.random.default_rng(2).normal(size=shape)
    logits_np.flat[0] = np.nan  # an ignored sample's NaN must not leak into sum/none
    target_np = np.full(np.delete(np.array(shape), axis), IGNORE)
    for dt in backend.float_dtypes:
        logits = backend.asarray(logits_np, dt)
        target = backend.asarray(target_np)
        for use_weight, ls in itertools.product((False, True), SMOOTHINGS):
            w_np = np.linspace(0.5, 1.5, C)
            weight = backend.asarray(w_np, dt) if use_weight else None
            kw = {"axis": axis, "weight": weight, "ignore_index": IGNORE, "label_smoothing": ls}
            mean = backend.to_numpy(xpops.cross_entropy(logits, target, **kw))
            assert np.isnan(mean), (use_weight, ls)
            total = backend.to_numpy(xpops.cross_entropy(logits, target, reduction="sum", **kw))
            assert total == 0.0
            none = backend.to_numpy(xpops.cross_entropy(logits, target, reduction="none", **kw))
            np.testing.assert_array_equal(none, np.zeros(target_np.shape, dtype=dt))
    expected = torch_cross_entropy(
        np.nan_to_num(logits_np), target_np, axis, None, IGNORE, 0.0, "mean"
    )
    assert np.isnan(expected)


def test_empty_batch_computes_on_every_backend(backend):
    """Empty batches give what torch gives: empty "none", 0 "sum", NaN "mean".

    Computed on every backend, so that laziness cannot hide an error: Dask once failed
    on the max of an empty chunk.
    """
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    logits_np = np.zeros((0, C))
    targets = {"index": np.zeros((0,), dtype=np.int64), "prob": np.zeros((0, C))}
    for dt in backend.float_dtypes:
        logits = backend.asarray(logits_np, dt)
        for kind, target_np in targets.items():
            target = backend.asarray(target_np, dt if kind == "prob" else None)
            for reduction in REDUCTIONS:
                expected = F.cross_entropy(
                    torch.asarray(logits_np), torch.asarray(target_np), reduction=reduction
                ).numpy()
                out = xpops.cross_entropy(logits, target, reduction=reduction)
                check_meta(backend, out, logits, expected.shape)
                np.testing.assert_array_equal(backend.to_numpy(out), expected.astype(dt))
        p = backend.asarray(np.zeros((0, 3)), dt)
        for op in (xpops.binary_cross_entropy, xpops.binary_cross_entropy_with_logits):
            assert backend.to_numpy(op(p, p, reduction="none")).shape == (0, 3)
            assert backend.to_numpy(op(p, p, reduction="sum")) == 0.0
            assert np.isnan(backend.to_numpy(op(p, p, reduction="mean")))


def test_cross_entropy_defaults_and_doc_example(backend):
    for dt in backend.float_dtypes:
        logits = backend.asarray(np.zeros((2, 2)), dt)
        target = backend.asarray(np.array([0, 1]))
        out = xpops.cross_entropy(logits, target)
        check_meta(backend, out, logits, ())
        np.testing.assert_allclose(backend.to_numpy(out), np.log(2.0), rtol=1e-6)


def test_cross_entropy_on_device1(device1):
    case = make_case("NCHW", "index")
    logits = device1.asarray(case["logits"])
    target = device1.asarray(case["target"])
    weight = device1.asarray(case["weight"])
    for reduction in REDUCTIONS:
        out = xpops.cross_entropy(
            logits, target, axis=1, weight=weight, ignore_index=IGNORE,
            label_smoothing=0.1, reduction=reduction,
        )
        assert device1.same_device(out)
    probs = device1.asarray(_softmax_np(case["logits"], 1))
    assert device1.same_device(xpops.cross_entropy(logits, probs, axis=1, weight=weight))
    p = device1.asarray(np.array([0.0, 0.3, 1.0]))
    t = device1.asarray(np.array([1.0, 0.5, 0.0]))
    assert device1.same_device(xpops.binary_cross_entropy(p, t, weight=t))
    assert device1.same_device(
        xpops.binary_cross_entropy_with_logits(p, t, weight=t, pos_weight=t, reduction="none")
    )


# --------------------------------------------------------------------------- optax


@pytest.mark.parametrize("axis", [-1, 1])
def test_cross_entropy_matches_optax(axis):
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    rng = np.random.default_rng(4)
    shape = (4, C, 3) if axis == 1 else (4, 3, C)
    logits_np = rng.normal(size=shape) * 4
    logits_np.flat[0] = 1e3
    labels_np = rng.integers(0, C, size=np.delete(np.array(shape), axis))
    probs_np = _softmax_np(rng.normal(size=shape), axis)
    with jax_x64(True):
        logits = jnp.asarray(logits_np)
        labels, probs = jnp.asarray(labels_np), jnp.asarray(probs_np)
        pairs = [
            (
                xpops.cross_entropy(logits, labels, axis=axis, reduction="none"),
                optax.softmax_cross_entropy_with_integer_labels(logits, labels, axis=axis),
            ),
            (
                xpops.cross_entropy(logits, probs, axis=axis, reduction="none"),
                optax.softmax_cross_entropy(logits, probs, axis=axis),
            ),
        ]
        for ours, theirs in pairs:
            assert ours.dtype == theirs.dtype == jnp.float64
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-12, atol=1e-12)


def test_bce_with_logits_matches_optax():
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    rng = np.random.default_rng(5)
    logits_np = rng.normal(size=(6, 4)) * 5
    logits_np[0] = [1000.0, -1000.0, 0.0, 40.0]
    target_np = rng.uniform(size=(6, 4))
    target_np[0] = [0.0, 1.0, 0.5, 1.0]
    with jax_x64(True):
        logits, target = jnp.asarray(logits_np), jnp.asarray(target_np)
        ours = xpops.binary_cross_entropy_with_logits(logits, target, reduction="none")
        theirs = optax.sigmoid_binary_cross_entropy(logits, target)
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-12, atol=1e-12)
    with jax_x64(False):
        logits32 = jnp.asarray(logits_np.astype(np.float32))
        ours = xpops.binary_cross_entropy_with_logits(
            logits32, jnp.asarray(target_np.astype(np.float32)), reduction="none"
        )
        assert ours.dtype == jnp.float32
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- binary


def test_bce_clamps_log_at_minus_100(backend):
    for dt in backend.float_dtypes:
        p = backend.asarray(np.array([0.0, 1.0, 0.0, 1.0]), dt)
        t = backend.asarray(np.array([1.0, 0.0, 0.0, 1.0]), dt)
        out = xpops.binary_cross_entropy(p, t, reduction="none")
        check_meta(backend, out, p, (4,))
        clamped = np.array([100, 100, 0, 0], dtype=dt)
        np.testing.assert_array_equal(backend.to_numpy(out), clamped)
        np.testing.assert_array_equal(
            backend.to_numpy(xpops.binary_cross_entropy(p, t)), np.asarray(50.0, dtype=dt)
        )
        # integer and bool 0/1 targets are cast to the probs' dtype
        for t_int in (np.array([1, 0, 0, 1]), np.array([True, False, False, True])):
            out = xpops.binary_cross_entropy(p, backend.asarray(t_int), reduction="none")
            check_meta(backend, out, p, (4,))
            np.testing.assert_array_equal(backend.to_numpy(out), clamped)


def test_bce_with_logits_stable_at_huge_logits(backend):
    x_np = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    t_np = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    for dt in backend.float_dtypes:
        x = backend.asarray(x_np, dt)
        t = backend.asarray(t_np, dt)
        out = xpops.binary_cross_entropy_with_logits(x, t, reduction="none")
        check_meta(backend, out, x, (5,))
        got = backend.to_numpy(out)
        np.testing.assert_array_equal(got[:4], np.array([0, 0, 1000, 1000], dtype=dt))
        np.testing.assert_allclose(got[4], np.log(2.0), rtol=1e-6)
        pw = backend.asarray(np.array([3.0]), dt)
        got = backend.to_numpy(
            xpops.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction="none")
        )
        np.testing.assert_array_equal(got[:4], np.array([0, 0, 1000, 3000], dtype=dt))
        np.testing.assert_allclose(got[4], 3 * np.log(2.0), rtol=1e-6)


BINARY_WEIGHTS = {"none": None, "per_class": (3,), "per_row": (4, 1), "full": (4, 3)}


def _binary_inputs(seed: int = 6):
    rng = np.random.default_rng(seed)
    probs = rng.uniform(0.02, 0.98, size=(4, 3))
    probs[0] = [0.0, 1.0, 0.5]
    target = rng.uniform(size=(4, 3))
    target[1] = [0.0, 1.0, 1.0]
    target[0] = [0.3, 0.7, 0.0]
    logits = rng.normal(size=(4, 3)) * 6
    logits[0] = [60.0, -60.0, 0.0]
    return rng, probs, target, logits


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_kind", BINARY_WEIGHTS)
def test_binary_losses_match_torch(backend, weight_kind, reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng, probs_np, target_np, logits_np = _binary_inputs()
    wshape = BINARY_WEIGHTS[weight_kind]
    weight_np = None if wshape is None else rng.uniform(0.2, 2.0, size=wshape)
    pos_weight_np = rng.uniform(0.5, 4.0, size=(3,))
    for dt in backend.float_dtypes:
        p_np, t_np, x_np = (a.astype(dt) for a in (probs_np, target_np, logits_np))
        w_np = None if weight_np is None else weight_np.astype(dt)
        pw_np = pos_weight_np.astype(dt)
        tw = None if w_np is None else torch.asarray(w_np.astype(np.float64))
        expected_bce = F.binary_cross_entropy(
            torch.asarray(p_np.astype(np.float64)), torch.asarray(t_np.astype(np.float64)),
            weight=tw, reduction=reduction,
        ).numpy()
        w = None if w_np is None else backend.asarray(w_np, dt)
        p, t, x = (backend.asarray(a, dt) for a in (p_np, t_np, x_np))
        out = xpops.binary_cross_entropy(p, t, weight=w, reduction=reduction)
        check_meta(backend, out, p, expected_bce.shape)
        np.testing.assert_allclose(backend.to_numpy(out), expected_bce, **rtol_for(dt))
        for with_pw in (False, True):
            expected = F.binary_cross_entropy_with_logits(
                torch.asarray(x_np.astype(np.float64)), torch.asarray(t_np.astype(np.float64)),
                weight=tw,
                pos_weight=torch.asarray(pw_np.astype(np.float64)) if with_pw else None,
                reduction=reduction,
            ).numpy()
            out = xpops.binary_cross_entropy_with_logits(
                x, t, weight=w, pos_weight=backend.asarray(pw_np, dt) if with_pw else None,
                reduction=reduction,
            )
            check_meta(backend, out, x, expected.shape)
            np.testing.assert_allclose(
                backend.to_numpy(out), expected, err_msg=f"pos_weight={with_pw}", **rtol_for(dt)
            )


def test_bce_nan_probs_propagate_where_torch_raises(backend):
    for dt in backend.float_dtypes:
        p = backend.asarray(np.array([np.nan, 0.5]), dt)
        t = backend.asarray(np.array([1.0, 1.0]), dt)
        out = backend.to_numpy(xpops.binary_cross_entropy(p, t, reduction="none"))
        assert np.isnan(out[0])
        np.testing.assert_allclose(out[1], np.log(2.0), rtol=1e-6)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.nn.functional.binary_cross_entropy(
            torch.tensor([np.nan, 0.5]), torch.tensor([1.0, 1.0])
        )


# --------------------------------------------------------------------------- bad input


def checks_values(backend) -> bool:
    """Value checks (class range, [0, 1]) run on concrete arrays: everywhere but Dask,
    whose values would have to be computed (eager JAX arrays are checked)."""
    return backend.library != "dask"


def test_cross_entropy_bad_input(backend):
    dt = backend.float_dtypes[-1]
    logits = backend.asarray(np.zeros((3, C)), dt)
    target = backend.asarray(np.array([0, 1, 4]))
    probs = backend.asarray(np.full((3, C), 1.0 / C), dt)

    with pytest.raises(TypeError, match="logits"):
        xpops.cross_entropy(backend.asarray(np.zeros((3, C), dtype=np.int64)), target)
    if checks_values(backend):
        for bad in ([0, 1, C], [-1, 0, 1], [C + 3, -2, 0]):
            with pytest.raises(ValueError, match="target"):
                xpops.cross_entropy(logits, backend.asarray(np.array(bad)))
        with pytest.raises(ValueError, match="target"):  # no-batch, 0-d target
            xpops.cross_entropy(backend.asarray(np.zeros(C), dt), backend.asarray(np.array(C)))
        with pytest.raises(ValueError, match="target"):  # ignoring another class: no exemption
            xpops.cross_entropy(logits, backend.asarray(np.array([0, C, 1])), ignore_index=IGNORE)
    # ignore_index is exempt from the range check, in or out of [0, C)
    for ignore in (-100, -1, C, C + 7):
        t = backend.asarray(np.array([0, ignore, 1]))
        out = xpops.cross_entropy(logits, t, ignore_index=ignore, reduction="none")
        np.testing.assert_allclose(backend.to_numpy(out), [np.log(C), 0.0, np.log(C)], rtol=1e-6)
    with pytest.raises(ValueError, match="target"):  # index target of the wrong shape
        xpops.cross_entropy(logits, backend.asarray(np.array([0, 1])))
    with pytest.raises(ValueError, match="target"):  # probability target of the wrong shape
        xpops.cross_entropy(logits, backend.asarray(np.full((3, C + 1), 0.1), dt))
    with pytest.raises(ValueError, match="target"):
        xpops.cross_entropy(logits, backend.asarray(np.full((C, 3), 0.1), dt))
    for ls in (-0.1, 1.5):
        with pytest.raises(ValueError, match="label_smoothing"):
            xpops.cross_entropy(logits, target, label_smoothing=ls)
    with pytest.raises(ValueError, match="reduction"):
        xpops.cross_entropy(logits, target, reduction="avg")
    for w in (np.ones(C - 1), np.ones(C + 1), np.ones((1, C))):
        with pytest.raises(ValueError, match="weight"):
            xpops.cross_entropy(logits, target, weight=backend.asarray(w, dt))
    with pytest.raises(ValueError, match="ignore_index"):
        xpops.cross_entropy(logits, probs, ignore_index=0)
    with pytest.raises(ValueError, match="axis"):
        xpops.cross_entropy(logits, target, axis=2)


def test_binary_bad_input(backend):
    dt = backend.float_dtypes[-1]
    p = backend.asarray(np.array([0.2, 0.5, 0.9]), dt)
    t = backend.asarray(np.array([0.0, 1.0, 1.0]), dt)
    if checks_values(backend):
        for bad in ([0.2, 1.5, 0.9], [-0.1, 0.5, 0.9]):
            with pytest.raises(ValueError, match="probs"):
                xpops.binary_cross_entropy(backend.asarray(np.array(bad), dt), t)
        with pytest.raises(ValueError, match="target"):
            xpops.binary_cross_entropy(p, backend.asarray(np.array([0.0, 2.0, 1.0]), dt))
    with pytest.raises(TypeError, match="probs"):
        xpops.binary_cross_entropy(backend.asarray(np.array([0, 1, 1])), t)
    with pytest.raises(TypeError, match="logits"):
        xpops.binary_cross_entropy_with_logits(backend.asarray(np.array([0, 1, 1])), t)
    short = backend.asarray(np.array([0.0, 1.0]), dt)
    for op in (xpops.binary_cross_entropy, xpops.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match="reduction"):
            op(p, t, reduction="avg")
        with pytest.raises(ValueError, match="target"):
            op(p, short)
        with pytest.raises(ValueError, match="weight"):
            op(p, t, weight=short)
    with pytest.raises(ValueError, match="pos_weight"):
        xpops.binary_cross_entropy_with_logits(p, t, pos_weight=short)


# --------------------------------------------------------------------------- jax.jit


def test_jit_with_integer_targets():
    """Under jit the value checks are skipped, not turned into concretization errors."""
    pytest.importorskip("jax")
    import jax
    import jax.numpy as jnp

    case = make_case("NCHW", "index", seed=7)
    for x64 in (False, True):
        with jax_x64(x64):
            logits = jnp.asarray(case["logits"])
            target = jnp.asarray(case["target"])
            weight = jnp.asarray(case["weight"])
            probs = jnp.asarray(_softmax_np(case["logits"], 1))
            tol = {"rtol": 1e-12, "atol": 1e-12} if x64 else {"rtol": 1e-5, "atol": 1e-5}
            for reduction in REDUCTIONS if x64 else ("mean",):
                def f(lg, tg, w, reduction=reduction):
                    return xpops.cross_entropy(
                        lg, tg, axis=1, weight=w, ignore_index=IGNORE,
                        label_smoothing=0.1, reduction=reduction,
                    )

                np.testing.assert_allclose(
                    np.asarray(jax.jit(f)(logits, target, weight)),
                    np.asarray(f(logits, target, weight)), **tol,
                )
            plain = jax.jit(lambda lg, tg: xpops.cross_entropy(lg, tg, axis=1))
            np.testing.assert_allclose(
                np.asarray(plain(logits, target)),
                np.asarray(xpops.cross_entropy(logits, target, axis=1)), **tol,
            )
            soft = jax.jit(lambda lg, pr: xpops.cross_entropy(lg, pr, axis=1))
            np.testing.assert_allclose(
                np.asarray(soft(logits, probs)),
                np.asarray(xpops.cross_entropy(logits, probs, axis=1)), **tol,
            )
            p = jax.nn.sigmoid(logits)
            bce = jax.jit(lambda a, b: xpops.binary_cross_entropy(a, b, weight=b))
            np.testing.assert_allclose(
                np.asarray(bce(p, probs)),
                np.asarray(xpops.binary_cross_entropy(p, probs, weight=probs)), **tol,
            )
            bcel = jax.jit(
                lambda a, b: xpops.binary_cross_entropy_with_logits(a, b, pos_weight=b[0, :, :1])
            )
            np.testing.assert_allclose(
                np.asarray(bcel(logits, probs)),
                np.asarray(
                    xpops.binary_cross_entropy_with_logits(
                        logits, probs, pos_weight=probs[0, :, :1]
                    )
                ),
                **tol,
            )


# --------------------------------------------------------------------------- gradients


GRAD_TOL = {"rtol": 1e-10, "atol": 1e-13}


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("kind", ["index", "prob"])
@pytest.mark.parametrize("layout", ["NC", "NCHW"])
def test_cross_entropy_gradients_match_torch(layout, kind, reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    case = make_case(layout, kind, seed=8)
    case["logits"] = case["logits"] / 50  # keep every class's gradient away from 0
    axis = case["axis"]
    cls = 1
    ignores = (None, IGNORE) if kind == "index" else (None,)
    for use_weight, ignore_index, ls in itertools.product((False, True), ignores, SMOOTHINGS):
        weight = torch.asarray(case["weight"]) if use_weight else None
        target = torch.asarray(case["target"])
        x_ours = torch.asarray(case["logits"]).requires_grad_(True)
        xpops.cross_entropy(
            x_ours, target, axis=axis, weight=weight, ignore_index=ignore_index,
            label_smoothing=ls, reduction=reduction,
        ).backward()
        x_torch = torch.asarray(np.moveaxis(case["logits"], axis, cls)).requires_grad_(True)
        t_torch = target if kind == "index" else torch.movedim(target, axis, cls)
        F.cross_entropy(
            x_torch, t_torch, weight=weight,
            ignore_index=-100 if ignore_index is None else ignore_index,
            label_smoothing=ls, reduction=reduction,
        ).backward()
        np.testing.assert_allclose(
            x_ours.grad.numpy(), np.moveaxis(x_torch.grad.numpy(), cls, axis),
            err_msg=f"w={use_weight} ignore={ignore_index} ls={ls}", **GRAD_TOL,
        )


@pytest.mark.usefixtures("both_paths")
def test_binary_gradients_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng, probs_np, target_np, logits_np = _binary_inputs(seed=9)
    probs_np[0] = [0.1, 0.9, 0.5]  # the clamp has zero gradient at 0 and 1 on both sides
    logits_np[0] = [0.0, -0.0, 3.0]  # derivative at 0 once differed by backend
    weight = torch.asarray(rng.uniform(0.2, 2.0, size=(3,)))
    pos_weight = torch.asarray(rng.uniform(0.5, 4.0, size=(3,)))
    target = torch.asarray(target_np)
    pairs = [
        (
            lambda p: xpops.binary_cross_entropy(p, target, weight=weight),
            lambda p: F.binary_cross_entropy(p, target, weight=weight),
            probs_np,
        ),
        (
            lambda x: xpops.binary_cross_entropy_with_logits(
                x, target, weight=weight, pos_weight=pos_weight
            ),
            lambda x: F.binary_cross_entropy_with_logits(
                x, target, weight=weight, pos_weight=pos_weight
            ),
            logits_np,
        ),
    ]
    for ours, theirs, x_np in pairs:
        grads = []
        for f in (ours, theirs):
            x = torch.asarray(x_np).requires_grad_(True)
            f(x).backward()
            grads.append(x.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], **GRAD_TOL)


def _jax_loss_grads(logits, labels, probs, bin_logits, bin_target):
    import jax
    import jax.numpy as jnp
    import optax

    pairs = {
        "integer_labels": (
            lambda v: xpops.cross_entropy(v, labels),
            lambda v: jnp.mean(optax.softmax_cross_entropy_with_integer_labels(v, labels)),
            logits,
        ),
        "probabilities": (
            lambda v: xpops.cross_entropy(v, probs, label_smoothing=0.1),
            lambda v: jnp.mean(optax.softmax_cross_entropy(v, 0.9 * probs + 0.1 / C)),
            logits,
        ),
        "sigmoid_bce": (
            lambda v: xpops.binary_cross_entropy_with_logits(v, bin_target, reduction="sum"),
            lambda v: jnp.sum(optax.sigmoid_binary_cross_entropy(v, bin_target)),
            bin_logits,
        ),
    }
    return {name: (jax.grad(a)(x), jax.grad(b)(x)) for name, (a, b, x) in pairs.items()}


def test_gradients_match_optax():
    pytest.importorskip("optax")
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(10)
    logits_np = rng.normal(size=(8, C)) * 2
    labels_np = rng.integers(0, C, size=8)
    probs_np = _softmax_np(rng.normal(size=(8, C)), -1)
    bin_logits_np = rng.normal(size=(3, 4)) * 3
    bin_logits_np[0] = [0.0, 0.0, 50.0, -50.0]  # derivative at 0 once was 2x too large on JAX
    bin_target_np = rng.uniform(size=(3, 4))
    with jax_x64(True):
        args = [
            jnp.asarray(a)
            for a in (logits_np, labels_np, probs_np, bin_logits_np, bin_target_np)
        ]
        for run in (_jax_loss_grads, jax.jit(_jax_loss_grads)):
            for name, (got, want) in run(*args).items():
                np.testing.assert_allclose(
                    np.asarray(got), np.asarray(want), err_msg=name, **GRAD_TOL
                )


@pytest.mark.usefixtures("both_paths")
def test_bce_with_logits_gradient_at_zero_regression():
    """d/dx of BCE-with-logits at x = 0 is sigmoid(0) - t = 1/2 - t on torch and JAX.

    The loss once used ``abs(x)`` (derivative 0 at 0 on torch, 1 on JAX) next to
    ``max(-x, 0)`` (1/2 at the tie on both): JAX gave 1 - t.
    """
    x_np = np.zeros(3)
    t_np = np.array([0.0, 0.25, 1.0])
    expected = 0.5 - t_np
    torch = pytest.importorskip("torch")
    x = torch.asarray(x_np).requires_grad_(True)
    xpops.binary_cross_entropy_with_logits(x, torch.asarray(t_np), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14)
    pytest.importorskip("jax")
    import jax
    import jax.numpy as jnp

    with jax_x64(True):
        got = jax.grad(
            lambda v: xpops.binary_cross_entropy_with_logits(v, jnp.asarray(t_np), reduction="sum")
        )(jnp.asarray(x_np))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-14)

