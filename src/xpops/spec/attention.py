"""Specs of scaled dot-product attention and multi-head attention."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..impl import attention as _impl
from ..impl import attention_mha as _impl_mha
from ._base import Case, InvalidCase, Native, OpSpec, Property, Unsupported
from ._strategies import masks_for

# --------------------------------------------------------------------------- oracles


def _broadcast_scores(x: Any, shape: tuple[int, ...], fill: Any) -> np.ndarray:
    return np.full(shape, fill) if x is None else np.broadcast_to(np.asarray(x), shape)


def sdpa_oracle(
    query, key, value, mask=None, bias=None, is_causal=False, scale=None, chunk_size=None,
    return_weights=False,
):
    """Row by row: softmax over the allowed keys of scale * q.k + bias; nothing allowed -> 0."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (query, key, value))
    if q.ndim >= 3 and k.shape[-3] and q.shape[-3] != k.shape[-3]:
        g = q.shape[-3] // k.shape[-3]  # query head h reads key head h // g
        k, v = np.repeat(k, g, axis=-3), np.repeat(v, g, axis=-3)
    L, E, S = q.shape[-2], q.shape[-1], k.shape[-2]
    batch = q.shape[:-2]
    scale = (1 / math.sqrt(E) if E else 1.0) if scale is None else scale
    m = _broadcast_scores(mask, (*batch, L, S), True)
    b = _broadcast_scores(bias, (*batch, L, S), 0.0).astype(np.float64)
    out = np.zeros((*batch, L, v.shape[-1]))
    weights = np.zeros((*batch, L, S))
    for idx in np.ndindex(*batch):
        for i in range(L):
            logits = scale * (k[idx] @ q[idx][i]) + b[idx][i]
            allowed = m[idx][i] & (logits > -np.inf)
            if is_causal:
                allowed &= np.arange(S) <= i
            if not allowed.any():
                continue
            e = np.exp(logits[allowed] - logits[allowed].max())
            weights[idx][i, allowed] = e / e.sum()
            out[idx][i] = weights[idx][i] @ v[idx]
    return (out, weights) if return_weights else out


def mha_oracle(query, key, value, params, num_heads, mask=None, is_causal=False):
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (query, key, value))
    n, L, d = q.shape
    hd = d // num_heads

    def proj(x, name):
        y = x @ np.asarray(params[f"{name}_weight"], np.float64).T
        bias = params.get(f"{name}_bias")
        return y if bias is None else y + np.asarray(bias, np.float64)

    def heads(x):
        return proj(*x).reshape(n, -1, num_heads, hd).transpose(0, 2, 1, 3)

    attended = sdpa_oracle(heads((q, "q")), heads((k, "k")), heads((v, "v")), mask=mask,
                           is_causal=is_causal)
    return proj(attended.transpose(0, 2, 1, 3).reshape(n, L, d), "out")


# ------------------------------------------------------------------------ strategies


def _normal(draw: Any, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.integers(0, 4)) == 0:  # exact ties between logits
        return rng.integers(-2, 3, size=shape).astype(np.float64)
    return rng.normal(scale=scale, size=shape)


def _length(draw: Any) -> int:
    return draw(st.one_of(st.integers(0, 6), st.integers(17, 24)))


@st.composite
def _bias_for(draw: Any, shape: tuple[int, ...]) -> np.ndarray:
    bshape = tuple(d if draw(st.booleans()) else 1 for d in shape)
    bshape = bshape[draw(st.integers(0, len(bshape) - 2)):]  # fewer leading axes
    b = _normal(draw, bshape, 2.0)
    if b.size and draw(st.integers(0, 3)) == 0:  # -inf excludes keys, maybe whole rows
        rng = np.random.default_rng(b.size)
        b[rng.random(bshape) < draw(st.sampled_from([0.3, 1.0]))] = -np.inf
    return b


@st.composite
def _sdpa_cases(draw: Any) -> Case:
    ndim = draw(st.integers(2, 4))
    L, S = _length(draw), _length(draw)
    E, Ev = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    hk = draw(st.integers(1, 2))
    hq = hk * draw(st.integers(1, 3))
    lead = (draw(st.integers(1, 2)),) if ndim == 4 else ()
    qb, kb = ((*lead, hq), (*lead, hk)) if ndim >= 3 else ((), ())
    q_scale = draw(st.sampled_from([1.0, 1.0, 8.0]))  # 8: sharp, nearly one-hot weights
    args = (_normal(draw, (*qb, L, E), q_scale), _normal(draw, (*kb, S, E)),
            _normal(draw, (*kb, S, Ev)))
    kwargs: dict[str, Any] = {}
    scores = (*qb, L, S)
    if draw(st.booleans()):
        kwargs["mask"] = draw(masks_for(scores))
    if draw(st.integers(0, 2)) == 0:
        kwargs["bias"] = draw(_bias_for(scores))
    if draw(st.booleans()):
        kwargs["is_causal"] = True
    if draw(st.integers(0, 3)) == 0:
        kwargs["scale"] = draw(st.sampled_from([0.0, 0.5, 2.0]))
    if draw(st.booleans()):
        kwargs["chunk_size"] = draw(st.integers(1, max(1, S + 1)))
    elif draw(st.integers(0, 2)) == 0:
        kwargs["return_weights"] = True
    return Case(args, kwargs)


@st.composite
def _mha_params(draw: Any, d: int, kdim: int, vdim: int, with_bias: bool) -> dict:
    params = {
        "q_weight": _normal(draw, (d, d), d**-0.5),
        "k_weight": _normal(draw, (d, kdim), kdim**-0.5),
        "v_weight": _normal(draw, (d, vdim), vdim**-0.5),
        "out_weight": _normal(draw, (d, d), d**-0.5),
    }
    if with_bias:
        params.update({f"{n}_bias": _normal(draw, (d,)) for n in ("q", "k", "v", "out")})
    return params


@st.composite
def _mha_cases(draw: Any) -> Case:
    n, L, S = draw(st.integers(1, 2)), draw(st.integers(1, 6)), _length(draw)
    heads, head_dim = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    d = heads * head_dim
    kdim, vdim = (d, d) if draw(st.booleans()) else (draw(st.integers(1, 4)),) * 2
    params = draw(_mha_params(d, kdim, vdim, draw(st.booleans())))
    query = _normal(draw, (n, L, d))
    key = query if S == L and kdim == d and draw(st.booleans()) else _normal(draw, (n, S, kdim))
    value = _normal(draw, (n, S, vdim))
    kwargs: dict[str, Any] = {"num_heads": heads}
    if draw(st.booleans()):
        kwargs["mask"] = draw(masks_for((n, heads, L, S)))
    if draw(st.booleans()):
        kwargs["is_causal"] = True
    return Case((query, key, value, params), kwargs)


# ------------------------------------------------------------------------ properties


def _chunked_equals_unchunked(run, case):
    if case.kwargs.get("return_weights"):
        return []
    chunk_size = case.kwargs.get("chunk_size") or max(1, case.args[1].shape[-2] // 3)
    chunked = run(Case(case.args, {**case.kwargs, "chunk_size": chunk_size}))
    return [(chunked, run(Case(case.args, {**case.kwargs, "chunk_size": None})))]


def _weights_sum_to_one_or_zero(run, case):
    if not case.kwargs.get("return_weights"):
        return []
    out, w = run(case)
    total = w.sum(axis=-1)
    return [(total, (total > 0.5).astype(np.float64))]


def _key_permutation_invariance(run, case):
    """Permuting keys, values and the key axis of mask and bias changes nothing."""
    q, k, v = case.args
    S = k.shape[-2]
    if case.kwargs.get("is_causal") or S < 2 or case.kwargs.get("return_weights"):
        return []
    perm = np.roll(np.arange(S), 1)
    kwargs = dict(case.kwargs)
    for name in ("mask", "bias"):
        x = kwargs.get(name)
        if x is not None and x.shape[-1] > 1:
            kwargs[name] = x[..., perm]
    permuted = Case((q, k[..., perm, :], v[..., perm, :]), kwargs)
    return [(run(permuted), run(case))]


def _grouped_equals_repeated(run, case):
    q, k, v = case.args
    if q.ndim < 3 or q.shape[-3] == k.shape[-3] or case.kwargs.get("return_weights"):
        return []
    g = q.shape[-3] // k.shape[-3]
    repeated = Case((q, np.repeat(k, g, axis=-3), np.repeat(v, g, axis=-3)), case.kwargs)
    return [(run(repeated), run(case))]


def _mha_key_permutation(run, case):
    q, k, v, params = case.args
    S = k.shape[1]
    if case.kwargs.get("is_causal") or S < 2:
        return []
    perm = np.roll(np.arange(S), 1)
    kwargs = dict(case.kwargs)
    mask = kwargs.get("mask")
    if mask is not None and mask.shape[-1] > 1:
        kwargs["mask"] = mask[..., perm]
    return [(run(Case((q, k[:, perm], v[:, perm], params), kwargs)), run(case))]


# --------------------------------------------------------------------------- natives


def _torch_sdpa():
    import torch
    import torch.nn.functional as F

    def native(query, key, value, /, *, mask=None, bias=None, is_causal=False, scale=None,
               chunk_size=None, return_weights=False):
        # chunk_size changes memory, not values: the native's result is the reference
        if return_weights:
            raise Unsupported("return_weights (F.scaled_dot_product_attention has none)")
        allowed = mask
        if is_causal:
            causal = torch.ones(query.shape[-2], key.shape[-2], dtype=torch.bool).tril()
            allowed = causal if allowed is None else allowed & causal
        attn_mask = allowed
        if bias is not None:  # one float mask: torch refuses attn_mask with is_causal
            attn_mask = bias.to(query.dtype)
            if allowed is not None:
                attn_mask = torch.where(allowed, attn_mask, -math.inf)
        grouped = query.ndim >= 3 and query.shape[-3] != key.shape[-3]
        return F.scaled_dot_product_attention(
            query, key, value, attn_mask=attn_mask, scale=scale, enable_gqa=grouped
        )

    return native


def _jax_sdpa():
    import jax
    import jax.numpy as jnp

    # jitted: the same function, without compiling each of its operations on its own
    attend = jax.jit(jax.nn.dot_product_attention, static_argnames=("scale", "is_causal"))

    def native(query, key, value, /, *, mask=None, bias=None, is_causal=False, scale=None,
               chunk_size=None, return_weights=False):
        if return_weights:
            raise Unsupported("return_weights")
        if query.dtype == jnp.float64:
            raise Unsupported("float64: gradients come out at float32 precision even with x64")
        nd = query.ndim
        if min(nd, key.ndim, value.ndim) < 2:  # no (B, T, N, H) layout to hand jax
            raise Unsupported("query, key and value of fewer than 2 dimensions")
        batch, L, S = query.shape[:-2], query.shape[-2], key.shape[-2]
        if L == 0 or S == 0:
            raise Unsupported("empty sequences")
        if value.shape[-1] != query.shape[-1]:
            raise Unsupported("value features Ev != E")

        def to_btnh(x):  # (*batch, T, H) -> (B, T, N, H)
            x = jnp.reshape(x, (1,) * (4 - nd) + x.shape)
            return jnp.transpose(x, (0, 2, 1, 3))

        def scores(x):  # broadcastable to (*batch, L, S) -> (B, N, L, S)
            return None if x is None else jnp.reshape(
                jnp.broadcast_to(x, (*batch, L, S)), (1,) * (4 - nd) + (*batch, L, S)
            )

        out = attend(
            to_btnh(query), to_btnh(key), to_btnh(value), scores(bias), scores(mask),
            scale=scale, is_causal=is_causal,
        )
        return jnp.reshape(jnp.transpose(out, (0, 2, 1, 3)), (*batch, L, value.shape[-1]))

    return native


def _torch_mha():
    import torch
    from torch.func import functional_call

    def native(query, key, value, params, /, *, num_heads, mask=None, is_causal=False):
        n, L, d = query.shape
        S, kdim, vdim = key.shape[1], key.shape[2], value.shape[2]
        biases = [params.get(f"{p}_bias") is not None for p in ("q", "k", "v", "out")]
        if any(biases) != all(biases):
            raise Unsupported("some biases only: torch has all four or none")
        module = torch.nn.MultiheadAttention(
            d, num_heads, bias=all(biases), kdim=kdim, vdim=vdim, batch_first=True,
            dtype=query.dtype,
        )
        state = {"out_proj.weight": params["out_weight"]}
        if kdim == vdim == d:
            state["in_proj_weight"] = torch.cat([params[f"{p}_weight"] for p in "qkv"])
        else:
            state.update({f"{p}_proj_weight": params[f"{p}_weight"] for p in "qkv"})
        if all(biases):
            state["in_proj_bias"] = torch.cat([params[f"{p}_bias"] for p in "qkv"])
            state["out_proj.bias"] = params["out_bias"]
        allowed = None if mask is None else torch.broadcast_to(mask, (n, num_heads, L, S))
        if is_causal:
            causal = torch.ones(L, S, dtype=torch.bool).tril()
            allowed = causal if allowed is None else allowed & causal
        attn_mask = None if allowed is None else ~torch.broadcast_to(
            allowed, (n, num_heads, L, S)
        ).reshape(n * num_heads, L, S)  # torch: True = do NOT attend
        out, _ = functional_call(
            module, state, (query, key, value),
            {"attn_mask": attn_mask, "need_weights": False},
        )
        return out

    return native


# ----------------------------------------------------------------------------- specs

_SDPA_DOC = """
scores = scale * query @ key^T + bias  (scale defaults to 1/sqrt(E)); a key is allowed for
query row i when mask[..., i, j] is True (mask broadcast to (*batch, L, S)), j <= i under
is_causal (top-left aligned tril of an L x S matrix, as torch and jax), and its score is
not -inf. weights = softmax of the allowed scores (0 elsewhere); output = weights @ value.
A row with no allowed key (all masked, all -inf bias, S == 0) gives output 0 and weights 0
(torch 2.13's F.scaled_dot_product_attention also returns 0 there, for boolean and -inf
float masks, with gradient 0; jax.nn.dot_product_attention returns the mean of value).
Layout (*batch, L, E) / (*batch, S, E) / (*batch, S, Ev) -> (*batch, L, Ev); jax's layout
is (B, T, N, H). Grouped-query attention: the query head count (axis -3) may be a multiple
g of the key/value head count; query head h reads key head h // g (torch's enable_gqa and
jax's N % K == 0 rule). query, key and value share one real floating dtype; bias is cast
to it. chunk_size runs an online softmax over blocks of chunk_size keys: the same result
to rounding, peak memory O(L * chunk_size). return_weights=True returns (output, weights);
with chunk_size it raises ValueError. jax.nn.dot_product_attention computes its logits in
float32 even with x64 enabled, so it is compared at float32 tolerance only.
"""

_Q, _K, _V = np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 5, 6))

_SDPA_INVALID = (
    InvalidCase("1-d query", Case((np.ones(4), np.ones((5, 4)), np.ones((5, 4)))),
                ValueError, "query"),
    InvalidCase("E mismatch", Case((_Q, np.ones((2, 5, 3)), _V)), ValueError, "key"),
    InvalidCase("value length mismatch", Case((_Q, _K, np.ones((2, 4, 6)))), ValueError,
                "value"),
    InvalidCase("head counts not a multiple", Case((np.ones((3, 3, 4)), _K, _V)), ValueError,
                "key"),
    InvalidCase("rank mismatch", Case((np.ones((3, 4)), _K, _V)), ValueError, "query"),
    InvalidCase("integer query", Case((np.ones((2, 3, 4), np.int64), _K, _V)), TypeError,
                "query"),
    InvalidCase("mask does not broadcast", Case((_Q, _K, _V), {"mask": np.ones((3, 4), bool)}),
                ValueError, "mask"),
    InvalidCase("float mask", Case((_Q, _K, _V), {"mask": np.ones((3, 5))}), TypeError, "mask"),
    InvalidCase("bias does not broadcast", Case((_Q, _K, _V), {"bias": np.ones((2, 5))}),
                ValueError, "bias"),
    InvalidCase("chunk_size 0", Case((_Q, _K, _V), {"chunk_size": 0}), ValueError,
                "chunk_size"),
    InvalidCase("weights with chunking",
                Case((_Q, _K, _V), {"chunk_size": 2, "return_weights": True}), ValueError,
                "return_weights"),
)


def _qkv(seed: int, qshape, kshape, ev: int | None = None):
    rng = np.random.default_rng(seed)
    vshape = kshape if ev is None else (*kshape[:-1], ev)
    return rng.normal(size=qshape), rng.normal(size=kshape), rng.normal(size=vshape)


_ROW_MASK = np.ones((3, 5), bool)
_ROW_MASK[1] = False
_INF_BIAS = np.zeros((3, 5))
_INF_BIAS[2] = -np.inf
_INF_BIAS[0, :2] = -np.inf

_SDPA_EDGES = (
    Case(_qkv(0, (2, 3, 4), (2, 5, 4)), {"mask": _ROW_MASK, "return_weights": True},
         name="a fully masked row and its weights are 0"),
    Case(_qkv(0, (2, 3, 4), (2, 5, 4)), {"mask": _ROW_MASK, "chunk_size": 2},
         name="fully masked row, chunked"),
    Case(_qkv(1, (2, 3, 4), (2, 5, 4)), {"bias": _INF_BIAS, "chunk_size": 2},
         name="-inf bias excludes keys and whole rows"),
    Case(_qkv(2, (1, 6, 3), (1, 4, 3)), {"is_causal": True}, name="causal, L > S"),
    Case(_qkv(2, (1, 3, 3), (1, 7, 3)), {"is_causal": True, "chunk_size": 3},
         name="causal, L < S, chunked"),
    Case(_qkv(3, (2, 4, 3, 2), (2, 2, 5, 2), 3), {"mask": np.ones((1, 4, 1, 5), bool)},
         name="grouped-query attention, Ev != E"),
    Case(_qkv(4, (3, 2), (0, 2)), {"return_weights": True}, name="S == 0: nothing to attend to"),
    Case(_qkv(4, (2, 0, 2), (2, 3, 2)), name="L == 0"),
    Case(_qkv(5, (4, 3), (9, 3)), {"chunk_size": 4}, name="2-d, chunk not dividing S"),
    Case((np.full((2, 2), 300.0), np.array([[300.0, 0.0], [0.0, 300.0]]),
          np.array([[1.0, 2.0], [3.0, 4.0]])), name="huge logits stay finite"),
    Case(_qkv(6, (1, 2, 20, 3), (1, 2, 23, 3)), {"is_causal": True, "chunk_size": 5,
                                                "scale": 0.5}, name="long, chunked, scale"),
)

SCALED_DOT_PRODUCT_ATTENTION = OpSpec(
    name="scaled_dot_product_attention",
    family="attention",
    impl=_impl.scaled_dot_product_attention,
    oracle=sdpa_oracle,
    cases=_sdpa_cases,
    signature=(
        "scaled_dot_product_attention(query, key, value, /, *, mask=None, bias=None, "
        "is_causal=False, scale=None, chunk_size=None, return_weights=False)"
    ),
    doc=_SDPA_DOC,
    edge_cases=_SDPA_EDGES,
    invalid_cases=_SDPA_INVALID,
    tolerance={"float32": (5e-5, 5e-6), "float64": (1e-10, 1e-12)},
    properties=(
        Property("chunked == unchunked", _chunked_equals_unchunked,
                 "the online softmax over key blocks equals the one-pass result"),
        Property("weights sum to 1 or 0", _weights_sum_to_one_or_zero,
                 "each row of weights sums to 1, or is 0 when nothing is allowed"),
        Property("key permutation invariance", _key_permutation_invariance,
                 "permuting keys, values and the key axis of mask/bias changes nothing"),
        Property("grouped == repeated keys", _grouped_equals_repeated,
                 "GQA equals repeating each key/value head g times"),
    ),
    natives=(
        Native("torch", "torch.nn.functional.scaled_dot_product_attention", _torch_sdpa,
               "mask/is_causal/bias folded into one attn_mask (torch refuses attn_mask "
               "with is_causal); no return_weights; 0 on fully masked rows"),
        Native("jax", "jax.nn.dot_product_attention", _jax_sdpa,
               "layout (B, T, N, H); the mean of value on fully masked rows; float32-precision "
               "gradients even with x64; value must have the query's E"),
    ),
    grad_argnums=(0, 1, 2),
)

_MHA_DOC = """
out = concat_h(sdpa(Q_h, K_h, V_h, mask, is_causal)) @ out_weight^T + out_bias with
Q = query @ q_weight^T + q_bias (K, V likewise), split into num_heads heads of
d_model // num_heads features (head h holds features h*hd:(h+1)*hd). Shapes: query
(N, L, d_model), key (N, S, kdim), value (N, S, vdim); q_weight (d_model, d_model),
k_weight (d_model, kdim), v_weight (d_model, vdim), out_weight (d_model, d_model), biases
(d_model,) and optional (missing or None: no bias). mask broadcasts to (N, num_heads, L,
S), True = attend (torch.nn.MultiheadAttention's attn_mask and key_padding_mask are the
negation). A fully masked query row gives out_bias (its attention output is 0), as torch
with need_weights=False. mha_params_from_torch(state_dict) splits the packed
in_proj_weight / in_proj_bias of torch.nn.MultiheadAttention (or takes q/k/v_proj_weight
when kdim or vdim differ from d_model); the output then equals the module's
(batch_first=True, dropout 0).
"""

_X = np.ones((2, 3, 4))
_P4 = {"q_weight": np.eye(4), "k_weight": np.eye(4), "v_weight": np.eye(4),
       "out_weight": np.eye(4)}

_MHA_INVALID = (
    InvalidCase("num_heads does not divide d_model",
                Case((_X, _X, _X, _P4), {"num_heads": 3}), ValueError, "num_heads"),
    InvalidCase("2-d query", Case((_X[0], _X, _X, _P4), {"num_heads": 2}), ValueError, "query"),
    InvalidCase("batch mismatch", Case((_X, _X[:1], _X[:1], _P4), {"num_heads": 2}),
                ValueError, "key"),
    InvalidCase("weight shape", Case((_X, _X, _X, {**_P4, "k_weight": np.eye(3)}),
                                     {"num_heads": 2}), ValueError, "k_weight"),
    InvalidCase("missing weight", Case((_X, _X, _X, {"q_weight": np.eye(4)}),
                                       {"num_heads": 2}), ValueError, "params"),
    InvalidCase("mask does not broadcast",
                Case((_X, _X, _X, _P4), {"num_heads": 2, "mask": np.ones((3, 2), bool)}),
                ValueError, "mask"),
    InvalidCase("integer query", Case((_X.astype(np.int64), _X, _X, _P4), {"num_heads": 2}),
                TypeError, "query"),
)


def _mha_edge(seed: int, n=2, L=3, S=3, d=4, kdim=4, bias=True):
    rng = np.random.default_rng(seed)
    p = {"q_weight": rng.normal(size=(d, d)), "k_weight": rng.normal(size=(d, kdim)),
         "v_weight": rng.normal(size=(d, kdim)), "out_weight": rng.normal(size=(d, d))}
    if bias:
        p.update({f"{k}_bias": rng.normal(size=d) for k in ("q", "k", "v", "out")})
    return (rng.normal(size=(n, L, d)), rng.normal(size=(n, S, kdim)),
            rng.normal(size=(n, S, kdim)), p)


_KEY_PADDING = np.ones((2, 1, 1, 3), bool)
_KEY_PADDING[1, ..., 1:] = False
_MHA_ROW_MASK = np.ones((3, 3), bool)
_MHA_ROW_MASK[0] = False

MULTI_HEAD_ATTENTION = OpSpec(
    name="multi_head_attention",
    family="attention",
    impl=_impl_mha.multi_head_attention,
    oracle=mha_oracle,
    cases=_mha_cases,
    signature=(
        "multi_head_attention(query, key, value, params, /, *, num_heads, mask=None, "
        "is_causal=False)"
    ),
    doc=_MHA_DOC,
    edge_cases=(
        Case(_mha_edge(0), {"num_heads": 2}, name="self-attention shapes, 2 heads"),
        Case(_mha_edge(1, L=4, S=3), {"num_heads": 2, "mask": _KEY_PADDING},
             name="key padding mask"),
        Case(_mha_edge(2), {"num_heads": 1, "mask": _MHA_ROW_MASK},
             name="fully masked row gives out_bias"),
        Case(_mha_edge(3, L=5, S=2, kdim=3, bias=False), {"num_heads": 4, "is_causal": True},
             name="kdim != d_model, no bias, causal L > S"),
    ),
    invalid_cases=_MHA_INVALID,
    tolerance={"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)},
    properties=(
        Property("key permutation invariance", _mha_key_permutation,
                 "permuting keys and values (and the mask's key axis) changes nothing"),
    ),
    natives=(
        Native("torch", "torch.nn.MultiheadAttention", _torch_mha,
               "batch_first=True, need_weights=False; attn_mask True = do not attend; "
               "biases all or none"),
    ),
    grad_argnums=(0, 1, 2),
)

SPECS = (SCALED_DOT_PRODUCT_ATTENTION, MULTI_HEAD_ATTENTION)
