"""Attention against torch (F.scaled_dot_product_attention, nn.MultiheadAttention) and JAX.

References: ``torch.nn.functional.scaled_dot_product_attention`` (values and autograd
gradients, the pure array-API path as well as the delegated one),
``torch.nn.MultiheadAttention(batch_first=True)`` through :func:`mha_params_from_torch`,
``jax.nn.dot_product_attention`` (values and ``jax.grad``), the chunked online softmax
against the one-pass result on every backend, and peak memory of the two paths.

Documented differences from peers, tested as ours:
- ``jax.nn.dot_product_attention`` returns the mean of ``value`` on a fully masked row; we
  (and torch 2.13) return 0.
- ``torch.nn.MultiheadAttention`` takes ``attn_mask`` / ``key_padding_mask`` with True =
  do NOT attend; our ``mask`` is True = attend.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import xpops
from xpops._lib.native import natives_disabled
from xpops.impl import attention

sdpa = xpops.scaled_dot_product_attention


def _qkv(seed=0, q=(2, 4, 5, 8), k=(2, 2, 7, 8), ev=None):
    rng = np.random.default_rng(seed)
    v = k if ev is None else (*k[:-1], ev)
    return rng.normal(size=q), rng.normal(size=k), rng.normal(size=v)


def _options(seed=1, scores=(2, 4, 5, 7)):
    """Mask, bias and causality combinations, as (name, kwargs) with NumPy arrays."""
    rng = np.random.default_rng(seed)
    mask = rng.random((scores[0], 1, *scores[2:])) < 0.6
    mask[0, 0, 2] = False  # one fully masked row
    bias = rng.normal(size=scores[-2:])
    return [
        ("plain", {}),
        ("causal", {"is_causal": True}),
        ("mask", {"mask": mask}),
        ("bias", {"bias": bias}),
        ("all", {"mask": mask, "bias": bias, "is_causal": True, "scale": 0.3}),
    ]


OPTIONS = _options()



# ----------------------------------------------------------------------------- torch


def _torch_reference(torch, q, k, v, mask=None, bias=None, is_causal=False, scale=None):
    """F.scaled_dot_product_attention with our options folded into one attn_mask."""
    allowed = mask
    if is_causal:
        causal = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
        allowed = causal if allowed is None else allowed & causal
    attn_mask = allowed
    if bias is not None:
        attn_mask = bias if allowed is None else torch.where(allowed, bias, -torch.inf)
    return torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=attn_mask, scale=scale, enable_gqa=q.shape[-3] != k.shape[-3]
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "options"), OPTIONS, ids=[n for n, _ in OPTIONS])
@pytest.mark.parametrize("chunk_size", [None, 3])
def test_matches_torch_sdpa(name, options, dtype, chunk_size, both_paths):
    torch = pytest.importorskip("torch")
    q, k, v = (torch.asarray(a.astype(dtype)) for a in _qkv(ev=3))
    kw = {key: torch.asarray(val) if isinstance(val, np.ndarray) else val
          for key, val in options.items()}
    if "bias" in kw:
        kw["bias"] = kw["bias"].to(q.dtype)
    got = sdpa(q, k, v, chunk_size=chunk_size, **kw)
    want = _torch_reference(torch, q, k, v, **kw)
    assert got.dtype == want.dtype and got.shape == want.shape == (2, 4, 5, 3)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)
    if "mask" in options:
        assert (got[0, :, 2] == 0).all()  # the fully masked row, torch's 0 as well


def test_torch_delegates_only_without_weights_or_chunks(monkeypatch):
    torch = pytest.importorskip("torch")
    calls = []
    real = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    q, k, v = (torch.asarray(a) for a in _qkv())
    sdpa(q, k, v, is_causal=True)
    assert len(calls) == 1
    sdpa(q, k, v, chunk_size=2)
    sdpa(q, k, v, return_weights=True)
    with natives_disabled():
        sdpa(q, k, v)
    assert len(calls) == 1


@pytest.mark.parametrize("chunk_size", [None, 2])
def test_gradients_match_torch_autograd(chunk_size):
    """Our pure path (chunked or not) differentiates like torch's kernel, masked rows too."""
    torch = pytest.importorskip("torch")
    _, options = OPTIONS[-1]
    arrays = [torch.asarray(a).requires_grad_(True) for a in _qkv(ev=3)]
    kw = {key: torch.asarray(val) if isinstance(val, np.ndarray) else val
          for key, val in options.items()}
    cot = torch.asarray(np.random.default_rng(7).normal(size=(2, 4, 5, 3)))
    with natives_disabled():
        got = torch.autograd.grad((sdpa(*arrays, chunk_size=chunk_size, **kw) * cot).sum(),
                                  arrays)
    want = torch.autograd.grad((_torch_reference(torch, *arrays, **kw) * cot).sum(), arrays)
    for g, w in zip(got, want, strict=True):
        assert torch.isfinite(g).all()
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-10, atol=1e-12)
    assert (got[0][0, :, 2] == 0).all()  # no gradient into a fully masked query row


def _mha_module(torch, d=8, heads=2, **kwargs):
    torch.manual_seed(0)
    module = torch.nn.MultiheadAttention(d, heads, batch_first=True, dtype=torch.float64,
                                         **kwargs)
    with torch.no_grad():  # non-zero biases, so that a mix-up of q/k/v biases shows
        for name, p in module.named_parameters():
            if "bias" in name:
                p.normal_()
    return module


@pytest.mark.parametrize("kind", ["packed", "kdim", "no bias"])
@pytest.mark.parametrize("masking", ["none", "attn_mask", "key_padding", "causal"])
def test_matches_torch_multihead_attention(kind, masking, both_paths):
    torch = pytest.importorskip("torch")
    extra = {"packed": {}, "kdim": {"kdim": 5, "vdim": 3}, "no bias": {"bias": False}}[kind]
    module = _mha_module(torch, **extra)
    rng = np.random.default_rng(3)
    n, L, S = 2, 4, 6
    query = torch.asarray(rng.normal(size=(n, L, 8)))
    key = torch.asarray(rng.normal(size=(n, S, extra.get("kdim", 8))))
    value = torch.asarray(rng.normal(size=(n, S, extra.get("vdim", 8))))
    blocked = torch.asarray(rng.random((L, S)) < 0.3)
    blocked[1] = True  # a fully masked query row
    padding = torch.zeros(n, S, dtype=torch.bool)
    padding[1, 3:] = True
    causal_blocked = torch.ones(L, S, dtype=torch.bool).triu(1)
    torch_kw, ours = {
        "none": ({}, {}),
        "attn_mask": ({"attn_mask": blocked}, {"mask": ~blocked}),
        "key_padding": ({"key_padding_mask": padding}, {"mask": ~padding[:, None, None, :]}),
        "causal": ({"attn_mask": causal_blocked}, {"is_causal": True}),
    }[masking]
    want, _ = module(query, key, value, need_weights=False, **torch_kw)
    params = xpops.mha_params_from_torch(module.state_dict())
    got = xpops.multi_head_attention(query, key, value, params, num_heads=2, **ours)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    # the same parameters as NumPy arrays give the same answer on NumPy
    np_params = {name: p.detach().numpy() for name, p in params.items()}
    np_ours = {key_: val.numpy() if hasattr(val, "numpy") else val for key_, val in ours.items()}
    got_np = xpops.multi_head_attention(query.numpy(), key.numpy(), value.numpy(), np_params,
                                        num_heads=2, **np_ours)
    assert isinstance(got_np, np.ndarray)
    np.testing.assert_allclose(got_np, want.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_mha_gradients_match_torch_module():
    torch = pytest.importorskip("torch")
    module = _mha_module(torch)
    x = torch.asarray(np.random.default_rng(4).normal(size=(2, 5, 8))).requires_grad_(True)
    want = torch.autograd.grad(module(x, x, x, need_weights=False)[0].square().sum(),
                               [x, *module.parameters()])
    params = xpops.mha_params_from_torch(dict(module.named_parameters()))
    with natives_disabled():
        out = xpops.multi_head_attention(x, x, x, params, num_heads=2)
    got = torch.autograd.grad(out.square().sum(), [x, *module.parameters()])
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-10, atol=1e-12)


def test_converter_rejects_what_it_cannot_map():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="bias_k"):
        xpops.mha_params_from_torch(_mha_module(torch, add_bias_kv=True).state_dict())
    with pytest.raises(ValueError, match="out_proj.weight"):
        xpops.mha_params_from_torch({"in_proj_weight": np.ones((6, 2))})
    with pytest.raises(ValueError, match=r"\(6, 3\)"):
        xpops.mha_params_from_torch({"in_proj_weight": np.ones((6, 3)),
                                     "out_proj.weight": np.eye(3)})
    with pytest.raises(TypeError, match="state_dict"):
        xpops.mha_params_from_torch([1, 2])


# ------------------------------------------------------------------------------- jax


def _to_jax_layout(jnp, x):
    return jnp.transpose(x, (0, 2, 1, 3))


@pytest.mark.parametrize(("name", "options"), OPTIONS, ids=[n for n, _ in OPTIONS])
def test_matches_jax_dot_product_attention(name, options):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    q, k, v = (jnp.asarray(a, dtype=jnp.float32) for a in _qkv())
    kw = {key: jnp.asarray(val) if isinstance(val, np.ndarray) else val
          for key, val in options.items()}
    if "bias" in kw:
        kw["bias"] = kw["bias"].astype(jnp.float32)
    got = sdpa(q, k, v, **kw)
    want = _to_jax_layout(jnp, jax.nn.dot_product_attention(
        _to_jax_layout(jnp, q), _to_jax_layout(jnp, k), _to_jax_layout(jnp, v),
        bias=None if "bias" not in kw else jnp.broadcast_to(kw["bias"], (2, 4, 5, 7)),
        mask=None if "mask" not in kw else jnp.broadcast_to(kw["mask"], (2, 4, 5, 7)),
        is_causal=kw.get("is_causal", False), scale=kw.get("scale"),
    ))
    assert got.shape == want.shape and got.dtype == want.dtype
    got, want = np.array(got), np.array(want)
    allowed = np.broadcast_to(options.get("mask", True), (2, 4, 5, 7))
    if options.get("is_causal"):
        allowed = allowed & np.tril(np.ones((5, 7), bool))
    empty = ~allowed.any(axis=-1)
    if "mask" in kw:
        assert empty[0, :, 2].all()
        # jax: the mean of value (of the query head's key head) there; ours and torch's: 0
        mean_v = np.repeat(np.asarray(v).mean(axis=-2), 2, axis=1)[:, :, None, :]
        np.testing.assert_allclose(want[empty], np.broadcast_to(mean_v, want.shape)[empty],
                                   rtol=1e-5, atol=1e-6)
        assert (got[empty] == 0).all()
        got[empty] = want[empty]
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("chunk_size", [None, 3])
def test_gradients_match_jax_grad(chunk_size):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    q, k, v = (jnp.asarray(a, dtype=jnp.float32) for a in _qkv())
    bias = jnp.asarray(np.random.default_rng(2).normal(size=(5, 7)), dtype=jnp.float32)

    def ours(q, k, v):
        return jnp.sum(jnp.sin(sdpa(q, k, v, bias=bias, is_causal=True, chunk_size=chunk_size)))

    def theirs(q, k, v):
        t = _to_jax_layout
        out = jax.nn.dot_product_attention(t(jnp, q), t(jnp, k), t(jnp, v),
                                           bias=jnp.broadcast_to(bias, (2, 4, 5, 7)),
                                           is_causal=True)
        return jnp.sum(jnp.sin(t(jnp, out)))

    got = jax.jit(jax.grad(ours, argnums=(0, 1, 2)))(q, k, v)
    want = jax.grad(theirs, argnums=(0, 1, 2))(q, k, v)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-4, atol=2e-5)


def test_jit_with_traced_mask_and_bias():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    q, k, v = (jnp.asarray(a, dtype=jnp.float32) for a in _qkv())
    _, options = OPTIONS[-1]
    mask, bias = jnp.asarray(options["mask"]), jnp.asarray(options["bias"], dtype=jnp.float32)

    def f(q, k, v, mask, bias):
        return sdpa(q, k, v, mask=mask, bias=bias, is_causal=True, chunk_size=2)

    got = jax.jit(f)(q, k, v, mask, bias)
    want = sdpa(q, k, v, mask=mask, bias=bias, is_causal=True)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------- every backend


@pytest.mark.parametrize(("name", "options"), OPTIONS, ids=[n for n, _ in OPTIONS])
def test_chunked_equals_unchunked_on_every_backend(backend, name, options):
    q, k, v = (backend.asarray(a, "float32") for a in _qkv(ev=3))
    kw = {key: backend.asarray(val, "float32" if val.dtype.kind == "f" else None)
          if isinstance(val, np.ndarray) else val for key, val in options.items()}
    whole, weights = sdpa(q, k, v, return_weights=True, **kw)
    totals = backend.to_numpy(weights).sum(-1)
    np.testing.assert_allclose(totals, (totals > 0.5).astype(np.float32), rtol=1e-5)
    for chunk_size in (1, 3, 7, 100):
        chunked = sdpa(q, k, v, chunk_size=chunk_size, **kw)
        np.testing.assert_allclose(backend.to_numpy(chunked), backend.to_numpy(whole),
                                   rtol=1e-5, atol=1e-6)


def test_outputs_stay_on_the_input_device(device1):
    q, k, v = (device1.asarray(a) for a in _qkv())
    out, w = sdpa(q, k, v, chunk_size=None, return_weights=True)
    assert device1.same_device(out) and device1.same_device(w)
    assert device1.same_device(sdpa(q, k, v, chunk_size=3))


# -------------------------------------------------------------------- bad input


def test_invalid_inputs_name_the_parameter_and_shapes():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match=r"`key`.*query.shape=\(2, 4, 5, 8\), key.shape="):
        sdpa(q, k[..., :3], v)
    with pytest.raises(ValueError, match=r"`mask` of shape \(3, 7\).*\(2, 4, 5, 7\)"):
        sdpa(q, k, v, mask=np.ones((3, 7), bool))
    with pytest.raises(ValueError, match="head count"):
        sdpa(q[:, :3], k, v)
    with pytest.raises(TypeError, match="`key` must have the dtype of `query`"):
        sdpa(q, k.astype(np.float32), v)
    with pytest.raises(ValueError, match="return_weights"):
        sdpa(q, k, v, chunk_size=4, return_weights=True)
    with pytest.raises(TypeError, match="chunk_size"):
        sdpa(q, k, v, chunk_size=2.0)
    with pytest.raises(TypeError, match="scale"):
        sdpa(q, k, v, scale="1")
    with pytest.raises(ValueError, match="`chunk_size` must be >= 1, got 0"):
        sdpa(q, k, v, chunk_size=0)
    with pytest.raises(TypeError, match="`chunk_size` must be an int or None, got True"):
        sdpa(q, k, v, chunk_size=True)
    # NumPy scalars are accepted like Python numbers
    np.testing.assert_allclose(sdpa(q, k, v, scale=np.float32(0.5), chunk_size=np.int64(3)),
                               sdpa(q, k, v, scale=0.5), rtol=1e-12)
    x = np.ones((2, 3, 6))
    eye = np.eye(6)
    params = {"q_weight": eye, "k_weight": eye, "v_weight": eye, "out_weight": eye}
    with pytest.raises(ValueError, match=r"`num_heads`=4.*d_model=6.*\(2, 3, 6\)"):
        xpops.multi_head_attention(x, x, x, params, num_heads=4)
    with pytest.raises(TypeError, match="`num_heads` must be an int, got 2.0"):
        xpops.multi_head_attention(x, x, x, params, num_heads=2.0)
    np.testing.assert_array_equal(
        xpops.multi_head_attention(x, x, x, params, num_heads=np.int64(2)),
        xpops.multi_head_attention(x, x, x, params, num_heads=2))
    with pytest.raises(TypeError, match="params"):
        xpops.multi_head_attention(x, x, x, [eye], num_heads=2)


# ----------------------------------------------------------------------- memory


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_chunked_peak_memory_is_a_fraction_of_unchunked():
    """NumPy reports its buffers to tracemalloc: the chunked run (chunk = S / 16, as the
    issue's 8192 / 512) must peak at most 1/8 of the one-pass run, which holds (L, S)
    logits and their exponentials."""
    L = S = 2048
    rng = np.random.default_rng(0)
    # E = 16 keeps the (L, E) accumulators as small against (L, S) as E = 64 at S = 8192
    q, k, v = (rng.standard_normal((1, 1, n, 16), dtype=np.float32) for n in (L, S, S))
    whole = _peak_bytes(lambda: sdpa(q, k, v))
    chunked = _peak_bytes(lambda: sdpa(q, k, v, chunk_size=S // 16))
    assert whole >= L * S * 4  # at least the float32 logits
    assert chunked <= whole / 8, (chunked, whole)


def test_jax_eager_calls_run_compiled_and_equal_the_op_by_op_path():
    """On JAX arrays the computation is jitted as a whole (one compile per shape instead of
    one per operation); with natives disabled it runs operation by operation."""
    pytest.importorskip("jax")
    import jax.numpy as jnp

    q, k, v = (jnp.asarray(a, dtype=jnp.float32) for a in _qkv())
    _, options = OPTIONS[-1]
    kw = {key: jnp.asarray(val) if isinstance(val, np.ndarray) else val
          for key, val in options.items()}
    for chunk_size in (None, 3):
        fast = sdpa(q, k, v, chunk_size=chunk_size, **kw)
        with natives_disabled():
            slow = sdpa(q, k, v, chunk_size=chunk_size, **kw)
        np.testing.assert_allclose(np.asarray(fast), np.asarray(slow), rtol=1e-6, atol=1e-7)
    # the jitted function was built by the calls above: asking again is a cache hit
    from xpops._lib import jax_eager

    static = ("chunk_size", "group", "is_causal", "return_weights", "scale")
    hits = jax_eager._jitted.cache_info().hits
    jax_eager._jitted(attention._attend, 5, 0, static)
    assert jax_eager._jitted.cache_info().hits == hits + 1
