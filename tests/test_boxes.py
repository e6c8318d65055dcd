"""Box formats, areas, the IoU family and the IoU losses.

References: hand-computed values, the float64 oracles of ``xpops.spec.boxes``, finite
differences of those oracles for gradients (with CIoU's alpha frozen, as it is a constant
under autodiff), torch autograd against ``jax.grad``, and ``torchvision.ops`` where it is
installed (``-k torchvision``; torchvision pins its own torch, so these run in a separate
environment and skip elsewhere).

Documented differences from torchvision, tested as ours:
- a pair whose union is 0 has IoU 0 (torchvision: NaN); GIoU is then -1, or 0 where the
  enclosing box has no area either (torchvision: NaN); DIoU/CIoU follow from IoU 0;
- a 0 x 0 box has CIoU aspect angle 0 (torchvision: atan(0 / 0) = NaN);
- inverted boxes raise ValueError (torchvision computes negative areas).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import xpops
from xpops._lib.namespace import default_float
from xpops._lib.primitives import stop_gradient
from xpops.spec import boxes as spec

PAIRWISE = ("box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou")
LOSSES = ("generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss")
KIND = {**{k: v[0] for k, v in spec._KINDS.items()}, **spec._LOSSES}


def _random_boxes(rng, shape, fmt="xyxy", min_size=0.5):
    xy = rng.uniform(-20.0, 40.0, size=(*shape, 2))
    wh = rng.uniform(min_size, 30.0, size=(*shape, 2))
    return spec._as_fmt(np.concatenate([xy, wh], axis=-1), fmt)


def _np(backend, x):
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


# ------------------------------------------------------------------- hand values


def test_voc_offset_one_and_continuous_areas():
    boxes = np.array([[0.0, 0.0, 9.0, 4.0], [5.0, 2.0, 14.0, 6.0]])
    np.testing.assert_array_equal(xpops.box_area(boxes, offset=1), [50.0, 50.0])
    # pixel-inclusive: intersection columns 5..9 and rows 2..4 = 5 x 3 pixels
    np.testing.assert_allclose(xpops.box_iou(boxes[:1], boxes[1:], offset=1), [[15 / 85]])
    np.testing.assert_allclose(xpops.box_iou(boxes[:1], boxes[1:]), [[8 / 64]])


def test_formats_agree():
    rng = np.random.default_rng(0)
    wh = np.concatenate([rng.uniform(0, 9, (6, 2)), rng.uniform(0, 5, (6, 2))], axis=1)
    a = {fmt: spec._as_fmt(wh, fmt) for fmt in spec.FORMATS}
    b = {fmt: spec._as_fmt(wh[::-1], fmt) for fmt in spec.FORMATS}
    for name in (*PAIRWISE, *LOSSES):
        fn = getattr(xpops, name)
        want = fn(a["xyxy"], b["xyxy"])
        for fmt in ("xywh", "cxcywh"):
            np.testing.assert_allclose(fn(a[fmt], b[fmt], fmt=fmt), want, rtol=1e-12,
                                       atol=1e-12, err_msg=f"{name} {fmt}")
    for src in spec.FORMATS:
        for dst in spec.FORMATS:
            np.testing.assert_allclose(xpops.box_convert(a[src], in_fmt=src, out_fmt=dst),
                                       a[dst], atol=1e-12)


def test_box_convert_returns_a_new_array():
    boxes = np.array([[1.0, 2.0, 3.0, 4.0]])
    out = xpops.box_convert(boxes, in_fmt="xyxy", out_fmt="xyxy")
    out[0, 0] = 99.0
    assert boxes[0, 0] == 1.0


def test_integer_boxes_take_the_other_float_dtype(backend):
    ints = backend.asarray(np.array([[0, 0, 4, 4]]))
    floats = backend.asarray(np.array([[2.0, 2.0, 6.0, 6.0]]), "float32")
    out = xpops.box_iou(ints, floats)
    assert backend.dtype_name(out) == "float32"
    np.testing.assert_allclose(_np(backend, out), [[4 / 28]], rtol=1e-6)
    both = xpops.generalized_box_iou_loss(ints, ints, reduction="sum")
    assert both.dtype == default_float(backend.xp, backend.device)


# --------------------------------------------------- degenerate boxes, every backend

_POINTS = np.array([[1.0, 1.0, 1.0, 1.0], [4.0, 5.0, 4.0, 5.0], [1.0, 0.0, 1.0, 3.0]])
# IoU, GIoU against _POINTS: every union is 0; the enclosing box of the point (1, 1) and
# the segment x = 1 has no area, the other pairs enclose some
_GIOU_POINTS = np.array([[0.0, -1.0, 0.0], [-1.0, 0.0, -1.0], [0.0, -1.0, 0.0]])


def test_zero_union_is_zero_not_nan_on_every_backend(backend):
    dtype = backend.float_dtypes[-1]
    pts = backend.asarray(_POINTS, dtype)
    np.testing.assert_array_equal(_np(backend, xpops.box_iou(pts, pts)), np.zeros((3, 3)))
    np.testing.assert_array_equal(_np(backend, xpops.generalized_box_iou(pts, pts)),
                                  _GIOU_POINTS)
    for name in ("distance_box_iou", "complete_box_iou"):
        for eps in (0.0, 1e-7):
            got = _np(backend, getattr(xpops, name)(pts, pts, eps=eps))
            want = spec.SPECS[2 + PAIRWISE.index(name)].oracle(_POINTS, _POINTS, eps=eps)
            assert np.isfinite(got).all(), name
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    for name in LOSSES:
        got = _np(backend, getattr(xpops, name)(pts, backend.xp.flip(pts, axis=0), eps=0.0))
        assert np.isfinite(got).all(), name


def test_touching_and_zero_width_boxes():
    a = np.array([[0.0, 0.0, 2.0, 2.0]])
    touching = np.array([[2.0, 0.0, 4.0, 2.0], [2.0, 2.0, 3.0, 3.0]])
    np.testing.assert_array_equal(xpops.box_iou(a, touching), [[0.0, 0.0]])
    np.testing.assert_allclose(xpops.generalized_box_iou(a, touching), [[0.0, -4 / 9]])
    line = np.array([[1.0, 0.0, 1.0, 2.0]])  # zero width inside a: union 4, no overlap
    np.testing.assert_array_equal(xpops.box_iou(a, line), [[0.0]])
    # with offset=1 the line is one pixel wide: 1 x 3 pixels inside 3 x 3
    np.testing.assert_allclose(xpops.box_iou(a, line, offset=1), [[3 / 9]])


def test_inverted_boxes_raise_eagerly_and_are_skipped_under_jit():
    bad = np.array([[0.0, 0.0, 1.0, 1.0], [2.0, 0.0, 1.0, 1.0]])
    for name in (*PAIRWISE, *LOSSES):
        with pytest.raises(ValueError, match=r"boxes1.*inverted.*box 1 .*\[2, 0, 1, 1\]"):
            getattr(xpops, name)(bad, bad)
    with pytest.raises(ValueError, match="w < 0"):
        xpops.box_area(np.array([[0.0, 0.0, -1e-30, 1.0]]), fmt="xywh")
    jax = pytest.importorskip("jax")
    out = jax.jit(xpops.box_iou)(jax.numpy.asarray(bad), jax.numpy.asarray(bad))
    assert out.shape == (2, 2)


def test_offset_and_eps_follow_the_shared_scalar_rules():
    """NumPy integers and scalars are accepted like Python ones; bool is no integer."""
    a = _random_boxes(np.random.default_rng(2), (3,))
    np.testing.assert_array_equal(xpops.box_iou(a, a, offset=np.int64(1)),
                                  xpops.box_iou(a, a, offset=1))
    np.testing.assert_array_equal(xpops.complete_box_iou_loss(a, a, eps=np.float32(0.0)),
                                  xpops.complete_box_iou_loss(a, a, eps=0.0))
    with pytest.raises(TypeError, match="`offset` must be an int, got True"):
        xpops.box_area(a, offset=True)
    with pytest.raises(ValueError, match=r"`offset` must be in \[0, 1\], got 2"):
        xpops.box_iou(a, a, offset=2)
    with pytest.raises(TypeError, match="`eps` must be a real number, got '0'"):
        xpops.distance_box_iou(a, a, eps="0")
    with pytest.raises(ValueError, match="`eps` must be finite and >= 0, got -1"):
        xpops.generalized_box_iou_loss(a, a, eps=-1)


def test_batch_dims_broadcast():
    rng = np.random.default_rng(1)
    a, b = _random_boxes(rng, (2, 1, 3)), _random_boxes(rng, (4, 5))
    got = xpops.complete_box_iou(a, b)
    assert got.shape == (2, 4, 3, 5)
    for i in range(2):
        for j in range(4):
            np.testing.assert_allclose(got[i, j], xpops.complete_box_iou(a[i, 0], b[j]))


@pytest.mark.parametrize("name", LOSSES)
def test_loss_is_one_minus_the_pairwise_diagonal_with_eps_zero(name):
    rng = np.random.default_rng(2)
    a, b = _random_boxes(rng, (7,)), _random_boxes(rng, (7,))
    pairwise = getattr(xpops, name.removesuffix("_loss"))
    kwargs = {} if name.startswith("generalized") else {"eps": 0.0}
    want = 1 - np.diagonal(pairwise(a, b, **kwargs))
    np.testing.assert_allclose(getattr(xpops, name)(a, b, eps=0.0), want, rtol=1e-12)
    assert float(getattr(xpops, name)(a[:0], b[:0], reduction="mean")) == 0.0


# --------------------------------------------------------------------- gradients


def _frozen_alpha_oracle(kind, a, b, eps, pairwise):
    """The oracle as a function of the coordinates, CIoU's alpha frozen at (a, b)."""
    oracle = (spec._pairwise_oracle(kind, eps) if pairwise else spec._loss_oracle(kind))
    if kind != "ciou":
        return lambda x, y: oracle(x, y, eps=eps)

    def frozen(x, y):
        # value(x, y) - alpha(x, y) v(x, y) + alpha(a, b) v(x, y)
        v = _v(x, y, pairwise)
        return oracle(x, y, eps=eps) + (1 if pairwise else -1) * (
            _alpha(x, y, eps, pairwise) - _alpha(a, b, eps, pairwise)) * v

    return frozen


def _angles(boxes):
    return np.arctan2(boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1])


def _v(x, y, pairwise):
    ax, ay = _angles(x), _angles(y)
    diff = ax[:, None] - ay[None, :] if pairwise else ax - ay
    return 4 / math.pi**2 * diff**2


def _alpha(x, y, eps, pairwise):
    iou_eps = 0.0 if pairwise else eps
    if pairwise:
        iou = spec._pairwise_oracle("iou", 0.0)(x, y)
    else:
        iou = np.array([spec._pair_value(p, q, "iou", 0, iou_eps, eps)
                        for p, q in zip(x, y, strict=True)])
    v = _v(x, y, pairwise)
    return v / (1 - iou + v + eps)


def _finite_differences(fn, a, b, cotangent, h=1e-6):
    grads = []
    for which in (0, 1):
        base = [a, b]
        g = np.zeros_like(base[which])
        for idx in np.ndindex(*base[which].shape):
            up, down = [x.copy() for x in base], [x.copy() for x in base]
            up[which][idx] += h
            down[which][idx] -= h
            g[idx] = np.sum((fn(*up) - fn(*down)) * cotangent) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("name", (*PAIRWISE, *LOSSES))
def test_jax_and_torch_gradients_match_finite_differences(name):
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    from xpops.conformance.backends import jax_x64

    rng = np.random.default_rng(3)
    pairwise = name in PAIRWISE
    a, b = _random_boxes(rng, (4,), min_size=2.0), _random_boxes(rng, (3 if pairwise else 4,),
                                                                 min_size=2.0)
    b[0] = a[0] + np.array([1.5, -1.0, 0.5, 2.0])  # overlapping pairs too
    fn = getattr(xpops, name)
    kwargs = {} if pairwise else {"reduction": "none"}
    out_shape = np.shape(fn(a, b, **kwargs))
    cotangent = rng.normal(size=out_shape)
    want = _finite_differences(_frozen_alpha_oracle(KIND[name], a, b, spec.EPS if
                                                    name != "generalized_box_iou" else 0.0,
                                                    pairwise), a, b, cotangent)
    ta, tb = (torch.tensor(x, requires_grad=True) for x in (a, b))
    (fn(ta, tb, **kwargs) * torch.tensor(cotangent)).sum().backward()
    with jax_x64():
        def scalar(x, y):
            return jax.numpy.sum(fn(x, y, **kwargs) * cotangent)

        got_jax = jax.grad(scalar, argnums=(0, 1))(jax.numpy.asarray(a), jax.numpy.asarray(b))
    for got in ((ta.grad.numpy(), tb.grad.numpy()), tuple(np.asarray(g) for g in got_jax)):
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)


def test_gradients_are_finite_at_degenerate_boxes():
    torch = pytest.importorskip("torch")
    pts = torch.tensor(np.concatenate([_POINTS, _POINTS[:1] + 0.5]), requires_grad=True)
    for name in (*PAIRWISE, *LOSSES):
        fn = getattr(xpops, name)
        out = fn(pts, pts.flip(0), eps=0.0) if name in LOSSES else fn(
            pts, pts, **({} if name in PAIRWISE[:2] else {"eps": 0.0}))
        (grad,) = torch.autograd.grad(out.sum(), pts)
        assert torch.isfinite(grad).all(), name


def test_stop_gradient_paths():
    x = np.arange(3.0)
    assert stop_gradient(x) is x  # no autodiff: the array itself
    torch = pytest.importorskip("torch")
    t = torch.ones(3, requires_grad=True)
    assert not stop_gradient(t * 2).requires_grad
    jax = pytest.importorskip("jax")
    assert float(jax.grad(lambda v: stop_gradient(v * v) + v)(3.0)) == 1.0


def test_run_compiled_runs_the_same_kernel_compiled_and_as_is():
    from xpops._lib.jax_eager import run_compiled
    from xpops._lib.native import natives_disabled

    calls = []

    def kernel(x, *, scale):
        calls.append(type(x).__name__)
        return x * scale

    x = np.arange(3.0)
    assert run_compiled(kernel, (x,), scale=2) is not x and calls == ["ndarray"]
    jax = pytest.importorskip("jax")
    y = jax.numpy.arange(3.0)
    compiled = run_compiled(kernel, (y,), scale=2)
    assert calls[-1] != "ArrayImpl"  # traced once, not run eagerly
    run_compiled(kernel, (y,), scale=2)
    assert len(calls) == 2  # the compiled program is reused
    with natives_disabled():
        plain = run_compiled(kernel, (y,), scale=2)
    assert calls[-1] == "ArrayImpl"
    np.testing.assert_array_equal(np.asarray(compiled), np.asarray(plain))
    a = jax.numpy.asarray(_random_boxes(np.random.default_rng(7), (4,)))
    with natives_disabled():
        pure = xpops.complete_box_iou(a, a)
    np.testing.assert_allclose(np.asarray(xpops.complete_box_iou(a, a)), np.asarray(pure),
                               rtol=1e-6)


# ------------------------------------------------------------ torchvision (optional)

_TV_PAIRS = [(name, fmt) for name in ("box_iou",) for fmt in spec.FORMATS] + [
    (name, "xyxy") for name in PAIRWISE[1:]
]


@pytest.mark.parametrize(("name", "fmt"), _TV_PAIRS)
def test_torchvision_pairwise_values_and_gradients(name, fmt):
    pytest.importorskip("torchvision")
    import torch
    import torchvision.ops

    rng = np.random.default_rng(4)
    a, b = _random_boxes(rng, (2, 6), fmt), _random_boxes(rng, (9,), fmt)
    b[3] = a[0, 2]  # identical boxes
    for dtype in (torch.float32, torch.float64):
        ta, tb = (torch.tensor(x, dtype=dtype, requires_grad=True) for x in (a, b))
        ours = getattr(xpops, name)(ta, tb, fmt=fmt)
        native = getattr(torchvision.ops, name)
        theirs = native(ta, tb, fmt=fmt) if name == "box_iou" else native(ta, tb)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        rtol = 1e-5 if dtype == torch.float32 else 1e-12
        torch.testing.assert_close(ours, theirs, rtol=rtol, atol=rtol)
        ct = torch.tensor(rng.normal(size=tuple(ours.shape)), dtype=dtype)
        g_ours = torch.autograd.grad((ours * ct).sum(), (ta, tb))
        g_theirs = torch.autograd.grad((theirs * ct).sum(), (ta, tb))
        for g, w in zip(g_ours, g_theirs, strict=True):
            torch.testing.assert_close(g, w, rtol=10 * rtol, atol=10 * rtol)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", LOSSES)
def test_torchvision_losses_values_and_gradients(name, reduction):
    pytest.importorskip("torchvision")
    import torch
    import torchvision.ops

    rng = np.random.default_rng(5)
    a, b = _random_boxes(rng, (3, 5)), _random_boxes(rng, (3, 5))
    b[0] = a[0]
    # torchvision's CIoU loss keeps eps=1e-7 outside alpha whatever eps is passed
    for eps in (1e-7,) if name.startswith("complete") else (1e-7, 0.0, 0.5):
        ta, tb = (torch.tensor(x, requires_grad=True) for x in (a, b))
        ours = getattr(xpops, name)(ta, tb, reduction=reduction, eps=eps)
        theirs = getattr(torchvision.ops, name)(ta, tb, reduction=reduction, eps=eps)
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
        g_ours = torch.autograd.grad(ours.sum(), (ta, tb))
        g_theirs = torch.autograd.grad(theirs.sum(), (ta, tb))
        for g, w in zip(g_ours, g_theirs, strict=True):
            torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-12)
    empty = torch.zeros((0, 4))
    torch.testing.assert_close(getattr(xpops, name)(empty, empty, reduction=reduction),
                               getattr(torchvision.ops, name)(empty, empty,
                                                              reduction=reduction))


def test_torchvision_box_convert_and_area():
    pytest.importorskip("torchvision")
    import torch
    import torchvision.ops

    rng = np.random.default_rng(6)
    for src in spec.FORMATS:
        boxes = torch.tensor(_random_boxes(rng, (4, 3), src), dtype=torch.float32)
        torch.testing.assert_close(xpops.box_area(boxes, fmt=src),
                                   torchvision.ops.box_area(boxes, fmt=src))
        for dst in spec.FORMATS:
            torch.testing.assert_close(xpops.box_convert(boxes, in_fmt=src, out_fmt=dst),
                                       torchvision.ops.box_convert(boxes, src, dst))


def test_torchvision_differences_are_the_documented_ones():
    pytest.importorskip("torchvision")
    import torch
    import torchvision.ops

    pts = torch.tensor(_POINTS)
    assert torch.isnan(torchvision.ops.box_iou(pts, pts)).all()
    assert torch.isnan(torchvision.ops.generalized_box_iou(pts, pts)).all()
    torch.testing.assert_close(xpops.generalized_box_iou(pts, pts),
                               torch.tensor(_GIOU_POINTS))
    # a 0 x 0 box against a real one: torchvision's aspect term is atan(0 / 0)
    a = torch.tensor([[1.0, 1.0, 1.0, 1.0]], dtype=torch.float64)
    b = torch.tensor([[0.0, 0.0, 2.0, 3.0]], dtype=torch.float64)
    assert torch.isnan(torchvision.ops.complete_box_iou(a, b)).all()
    assert torch.isfinite(xpops.complete_box_iou(a, b)).all()
    # the losses are finite there in both (eps), and equal where torchvision is finite
    torch.testing.assert_close(xpops.generalized_box_iou_loss(pts, pts.flip(0)),
                               torchvision.ops.generalized_box_iou_loss(pts, pts.flip(0)))
    # CIoU loss with eps != 1e-7: torchvision keeps 1e-7 in IoU and distance term
    x = torch.tensor([[0.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([[0.5, 0.0, 2.0, 3.0]], dtype=torch.float64)
    ours = xpops.complete_box_iou_loss(x, y, eps=0.5)
    theirs = torchvision.ops.complete_box_iou_loss(x, y, eps=0.5)
    iou = 0.5 / (1 + 4.5 - 0.5)
    v = 4 / math.pi**2 * (math.atan(1 / 1) - math.atan(1.5 / 3)) ** 2
    d2, c2 = (0.5 - 1.25) ** 2 + (0.5 - 1.5) ** 2, 2**2 + 3**2
    alpha = v / (1 - 0.5 / 5.5 + v + 0.5)  # IoU with eps=0.5 inside alpha
    assert ours.item() == pytest.approx(1 - 0.5 / 5.5 + d2 / (c2 + 0.5) + alpha * v)
    assert theirs.item() == pytest.approx(
        1 - iou + d2 / (c2 + 1e-7) + v / (1 - iou + v + 0.5) * v, rel=1e-6)
    inverted = torch.tensor([[2.0, 0.0, 1.0, 1.0]])
    assert torchvision.ops.box_area(inverted).item() < 0
    with pytest.raises(ValueError, match="inverted"):
        xpops.box_area(inverted)
