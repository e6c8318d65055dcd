"""``natives_disabled()`` reaches every native fast path.

Each native helper (a library kernel, an in-place NumPy or torch pass, a delegation to
torch or JAX, a host NumPy copy of JAX arrays) is wrapped so that taking it under
``natives_disabled()`` raises AssertionError. Each public op that uses it then runs with
natives on, which must take the helper (else the check proves nothing), and with natives
off, which must not and must give the same result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import numpy as np
import pytest

import xpops
from xpops._lib import counting, jax_eager, primitives, scans, segments, topk, windows
from xpops._lib.native import natives_disabled, natives_enabled


@dataclass
class _Spy:
    name: str
    taken: int = 0  # native results produced with natives on
    violations: int = 0  # native paths taken under natives_disabled()


def _spy(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, *, gate: bool = False) -> _Spy:
    """Wrap ``owner.name``. A helper (``gate=False``) must not even be called under
    ``natives_disabled()``; a gate (``native_torch``, ``host_arrays``) may be asked, but
    must decline (return None). With natives on, a non-None result counts as taken."""
    original = getattr(owner, name)
    spy = _Spy(f"{getattr(owner, '__name__', owner)}.{name}")

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not natives_enabled() and not gate:
            spy.violations += 1
            raise AssertionError(f"{spy.name} called under natives_disabled()")
        out = original(*args, **kwargs)
        if out is not None and out is not False:
            if not natives_enabled():
                spy.violations += 1
                raise AssertionError(f"{spy.name} took the native path under natives_disabled()")
            spy.taken += 1
        return out

    monkeypatch.setattr(owner, name, wrapper)
    return spy


def _leaves(result: Any) -> list[Any]:
    if is_dataclass(result) and not isinstance(result, type):
        return [v for f in fields(result) for v in _leaves(getattr(result, f.name))]
    if isinstance(result, (tuple, list)):
        return [v for item in result for v in _leaves(item)]
    if isinstance(result, (str, int, float, bool)) or result is None:
        return []
    return [result]


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    return np.asarray(x)


def _check_paths(run: Callable[[], Any], *spies: _Spy, rtol: float = 0.0) -> None:
    native = run()
    for spy in spies:
        assert spy.taken, f"{spy.name}: not taken with natives on; the check proves nothing"
    with natives_disabled():
        pure = run()
    for spy in spies:  # in case the op swallowed the AssertionError
        assert spy.violations == 0, f"{spy.name} was taken under natives_disabled()"
    want, got = _leaves(native), _leaves(pure)
    assert len(want) == len(got) and want
    for w, g in zip(want, got, strict=True):
        w, g = _to_numpy(w), _to_numpy(g)
        assert w.shape == g.shape and w.dtype == g.dtype, (w.shape, g.shape, w.dtype, g.dtype)
        if rtol and w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)
        else:
            np.testing.assert_array_equal(g, w)


def _labels(rng: np.random.Generator, shape: tuple[int, ...], k: int) -> np.ndarray:
    return rng.integers(0, k, size=shape)


def _detections(rng: np.random.Generator) -> list[np.ndarray]:
    """VOC-style arrays: two images, two classes, xyxy boxes jittered around the truth."""
    gt = np.array([[0, 0, 9, 9], [20, 20, 29, 29], [40, 5, 60, 30], [5, 40, 30, 70]], float)
    g_lab, g_img = np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])
    det = np.concatenate([gt + rng.uniform(-2, 2, gt.shape), gt + rng.uniform(-6, 6, gt.shape)])
    det[:, 2:] = np.maximum(det[:, 2:], det[:, :2] + 1)
    scores = np.round(rng.random(len(det)), 1)
    return [det, scores, np.tile(g_lab, 2), np.tile(g_img, 2), gt, g_lab, g_img]


def _coco_arrays(seed: int) -> dict[str, np.ndarray]:
    from xpops.spec.coco import _ARGS, coco_arrays

    data = coco_arrays(np.random.default_rng(seed), n_images=3, n_categories=2, max_gt=4,
                       max_det=6)
    return {k: data[k] for k in _ARGS}


def _clustered_boxes(n: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """Enough boxes for NMS's phase 0, nearly all scores tied: it then counts kills with
    ``bincount`` and picks its blocks with ``smallest_k``."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(100, 900, size=(20, 2))
    xy = centres[rng.integers(0, 20, n)] + rng.uniform(-8, 8, size=(n, 2))
    wh = rng.uniform(60, 80, size=(n, 2))
    scores = np.full(n, 0.5)
    scores[:10] = 0.9
    return np.concatenate([xy - wh / 2, xy + wh / 2], axis=1), scores


# ------------------------------------------------------------------------ NumPy


def test_numpy_counting_ops(monkeypatch):
    import array_api_compat.numpy as xp

    spy = _spy(monkeypatch, counting, "_native_bincount")
    rng = np.random.default_rng(1)
    preds, target = xp.asarray(_labels(rng, (3, 8, 8), 5)), xp.asarray(_labels(rng, (3, 8, 8), 5))
    _check_paths(lambda: xpops.mean_iou(preds, target, num_classes=5, ignore_index=4), spy)
    _check_paths(lambda: xpops.dice_score(preds, target, num_classes=5, average=None), spy)
    _check_paths(lambda: xpops.confusion_matrix(preds, target, num_classes=5), spy)
    args = [xp.asarray(a) for a in _detections(rng)]
    _check_paths(lambda: xpops.voc_evaluate(*args, offset=0), spy, rtol=1e-12)


def test_numpy_neighbours(monkeypatch):
    import array_api_compat.numpy as xp

    top = _spy(monkeypatch, topk, "_native_smallest_k")
    root = _spy(monkeypatch, primitives, "_native_clamped_root")
    rng = np.random.default_rng(2)
    train = xp.asarray(np.round(rng.normal(size=(600, 3)), 1))  # ties among distances
    query = xp.asarray(rng.normal(size=(7, 3)))
    _check_paths(lambda: xpops.kneighbors(train, query, k=5), top, rtol=1e-12)
    _check_paths(lambda: xpops.pairwise_distances(query, train), root, rtol=1e-12)


def test_numpy_scans_segments_and_coco(monkeypatch):
    import array_api_compat.numpy as xp

    spies = [_spy(monkeypatch, counting, "_native_bincount"),
             _spy(monkeypatch, segments, "_native_segment_max"),
             _spy(monkeypatch, scans, "_native_cumulative_max")]
    args = {k: xp.asarray(v) for k, v in _coco_arrays(3).items()}
    _check_paths(lambda: xpops.coco_evaluate(**args, box_format="xywh"), *spies, rtol=1e-12)
    rng = np.random.default_rng(4)
    scores, target = xp.asarray(np.round(rng.random(50), 1)), xp.asarray(rng.random(50) < 0.4)
    _check_paths(lambda: xpops.average_precision_score(scores, target), spies[2], rtol=1e-12)


def test_numpy_padding(monkeypatch):
    import array_api_compat.numpy as xp

    spy = _spy(monkeypatch, windows, "_native_pad")
    x = xp.asarray(np.random.default_rng(5).normal(size=(2, 3, 9, 8)))
    w = xp.asarray(np.random.default_rng(6).normal(size=(4, 3, 3, 3)))
    _check_paths(lambda: xpops.max_pool2d(x, 3, stride=2, padding=1), spy)
    _check_paths(lambda: xpops.conv2d(x, w, padding=2), spy, rtol=1e-12)


# ------------------------------------------------------------------------ torch


def test_torch_nms(monkeypatch):
    torch = pytest.importorskip("torch")
    from xpops._lib import indexing

    spies = [_spy(monkeypatch, counting, "_native_bincount"),
             _spy(monkeypatch, topk, "_native_smallest_k"),
             _spy(monkeypatch, indexing, "native_torch", gate=True)]
    boxes, scores = _clustered_boxes()
    b, s = torch.asarray(boxes, dtype=torch.float32), torch.asarray(scores, dtype=torch.float32)
    _check_paths(lambda: xpops.nms(b, s, 0.5), *spies)


def test_torch_neighbours(monkeypatch):
    torch = pytest.importorskip("torch")

    top = _spy(monkeypatch, topk, "_native_smallest_k")
    root = _spy(monkeypatch, primitives, "_native_clamped_root")
    rng = np.random.default_rng(7)
    train = torch.asarray(np.round(rng.normal(size=(300, 4)), 1))
    query = torch.asarray(rng.normal(size=(6, 4)))
    _check_paths(lambda: xpops.kneighbors(train, query, k=4), top, rtol=1e-12)
    _check_paths(lambda: xpops.pairwise_distances(query, train), root, rtol=1e-12)


def test_torch_delegations(monkeypatch):
    torch = pytest.importorskip("torch")
    from xpops.impl import activations, attention, convolution, cross_entropy, pooling

    rng = np.random.default_rng(8)
    x = torch.asarray(rng.normal(size=(2, 3, 6, 6)))
    w = torch.asarray(rng.normal(size=(4, 3, 3, 3)))
    logits, target = torch.asarray(rng.normal(size=(5, 4))), torch.asarray(rng.integers(0, 4, 5))
    q, k, v = (torch.asarray(rng.normal(size=(2, 3, 4))) for _ in range(3))
    cases = [
        (activations, lambda: xpops.softmax(logits)),
        (pooling, lambda: xpops.max_pool2d(x, 2)),
        (convolution, lambda: xpops.conv2d(x, w, padding=1)),
        (cross_entropy, lambda: xpops.cross_entropy(logits, target)),
        (attention, lambda: xpops.scaled_dot_product_attention(q, k, v)),
    ]
    for module, run in cases:
        _check_paths(run, _spy(monkeypatch, module, "native_torch", gate=True), rtol=1e-10)


# ------------------------------------------------------------------------ JAX


@pytest.fixture
def jnp():
    jax = pytest.importorskip("jax")
    return jax.numpy


def test_jax_coco_host_path(monkeypatch, jnp):
    from xpops._lib import elsewhere

    host = _spy(monkeypatch, elsewhere, "host_arrays", gate=True)
    args = {k: jnp.asarray(v) for k, v in _coco_arrays(9).items()}
    # one rank, one threshold: eager JAX compiles every primitive of the pure path anew
    options = dict(box_format="xywh", max_detections=(2,), iou_thresholds=(0.5,),
                   recall_thresholds=(0.0, 0.5, 1.0), area_ranges={"all": (0.0, 1e10)})
    _check_paths(lambda: xpops.coco_evaluate(**args, **options), host, rtol=1e-6)


def test_jax_host_arrays(monkeypatch, jnp):
    """VOC, NMS and the F-beta curve move eager JAX arrays to host NumPy copies."""
    from xpops._lib import elsewhere

    rng = np.random.default_rng(10)
    det, scores, d_lab, d_img, gt, g_lab, g_img = _detections(rng)
    voc_args = [jnp.asarray(a) for a in (det, scores, d_lab, d_img, gt, g_lab, g_img)]
    cases = [
        lambda: xpops.voc_evaluate(*voc_args, offset=0),
        lambda: xpops.nms(jnp.asarray(det), jnp.asarray(scores), 0.5),
        lambda: xpops.fbeta_curve(jnp.asarray(scores), jnp.asarray(d_lab)),
    ]
    for run in cases:
        _check_paths(run, _spy(monkeypatch, elsewhere, "host_arrays", gate=True), rtol=1e-6)


def test_jax_compiled_and_delegated(monkeypatch, jnp):
    from xpops.impl import convolution

    jitted = _spy(monkeypatch, jax_eager, "_jitted")
    rng = np.random.default_rng(11)
    train = jnp.asarray(rng.normal(size=(40, 3)), dtype=jnp.float32)
    _check_paths(lambda: xpops.kneighbors(train, train[:4], k=3), jitted, rtol=1e-6)
    x = jnp.asarray(rng.normal(size=(1, 2, 5, 5)), dtype=jnp.float32)
    w = jnp.asarray(rng.normal(size=(3, 2, 3, 3)), dtype=jnp.float32)
    conv = _spy(monkeypatch, convolution, "native_jax", gate=True)
    _check_paths(lambda: xpops.conv2d(x, w, padding=1), conv, rtol=1e-5)


def test_jax_nonzero_padded_keeps_the_traced_path(monkeypatch, jnp):
    """Concrete masks take the pure path when natives are off; a traced mask has no other
    form than ``jnp.nonzero(size=...)``, so it keeps it."""
    import array_api_compat
    import jax

    spy = _spy(monkeypatch, primitives, "_jax_nonzero_padded")
    mask = jnp.asarray([[True, False, True], [False, False, True]])
    xp = array_api_compat.array_namespace(mask)
    _check_paths(lambda: primitives.nonzero_padded(xp, mask, 5), spy)
    monkeypatch.undo()
    with natives_disabled():
        rows, cols = jax.jit(lambda m: primitives.nonzero_padded(xp, m, 5))(mask)
    np.testing.assert_array_equal(np.asarray(rows), [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(np.asarray(cols), [0, 2, 2, 0, 0])
