"""Scaled dot-product attention and multi-head attention.

Layout follows torch: ``query (*batch, L, E)``, ``key (*batch_kv, S, E)``,
``value (*batch_kv, S, Ev)``, output ``(*batch, L, Ev)``. ``*batch`` is usually
``(N, heads)``; ``batch_kv`` equals ``batch`` except on the head axis (-3), where the
query may hold a multiple of the key/value heads (grouped-query attention: query head
``h`` reads key/value head ``h // (Hq // Hk)``, torch's ``repeat_interleave``).

Keys a query may not attend to (``mask`` False, above the top-left aligned diagonal
under ``is_causal``, or a logit of -inf after ``bias``) get weight 0; a row with no key
left returns 0, and its weights are 0.

``chunk_size`` walks over blocks of keys with an online softmax (a running row
maximum ``m``, normaliser ``l`` and weighted sum rescaled by ``exp(m_old - m_new)``),
so only ``(*batch, L, chunk_size)`` logits exist at a time; the loop is over blocks,
never elements.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .._lib.inputs import array_op
from .._lib.jax_eager import run_compiled
from .._lib.namespace import array_namespace, can_mutate, device
from .._lib.native import native_torch
from .._lib.validation import check_broadcastable, check_count, check_real, check_real_floating

__all__ = ["scaled_dot_product_attention", "multi_head_attention", "mha_params_from_torch"]


# ------------------------------------------------------------------- validation


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape)


def _check_qkv(xp: Any, query: Any, key: Any, value: Any) -> int:
    """Validate dtypes and shapes; returns the group size Hq // Hk (1 without GQA)."""
    for name, x in (("query", query), ("key", key), ("value", value)):
        check_real_floating(xp, x, name)
        if x.ndim < 2:
            msg = (
                f"`{name}` must have at least 2 dimensions (..., length, features), "
                f"got shape {_shape(x)}"
            )
            raise ValueError(msg)
    for name, x in (("key", key), ("value", value)):
        if x.dtype != query.dtype:
            msg = f"`{name}` must have the dtype of `query` ({query.dtype}), got {x.dtype}"
            raise TypeError(msg)
    shapes = f"query.shape={_shape(query)}, key.shape={_shape(key)}, value.shape={_shape(value)}"
    if not query.ndim == key.ndim == value.ndim:
        msg = f"`query`, `key` and `value` must have the same number of dimensions, got {shapes}"
        raise ValueError(msg)
    if key.shape[-1] != query.shape[-1]:
        msg = f"`key` must have the feature size E of `query` (last axis), got {shapes}"
        raise ValueError(msg)
    if _shape(value)[:-1] != _shape(key)[:-1]:
        msg = f"`value` must match `key` on every axis but the last, got {shapes}"
        raise ValueError(msg)
    if query.ndim < 3:
        return 1
    qb, kb = _shape(query)[:-2], _shape(key)[:-2]
    hq, hk = qb[-1], kb[-1]
    grouped = (hq == 0) if hk == 0 else (hq % hk == 0)
    if qb[:-1] != kb[:-1] or not grouped:
        msg = (
            "`key` must match the batch axes of `query`, except that the query head "
            f"count (axis -3) may be a multiple of the key head count, got {shapes}"
        )
        raise ValueError(msg)
    return hq // hk if hk else 1


def _check_mask_bias(xp: Any, query: Any, key: Any, mask: Any, bias: Any) -> None:
    scores = (*_shape(query)[:-1], key.shape[-2])
    if mask is not None:
        if mask.dtype != xp.bool:
            msg = f"`mask` must be a boolean array (True = attend), got dtype {mask.dtype}"
            raise TypeError(msg)
        check_broadcastable(mask, scores, "mask", "the scores (*batch, L, S)")
    if bias is not None:
        check_real_floating(xp, bias, "bias")
        check_broadcastable(bias, scores, "bias", "the scores (*batch, L, S)")


def _check_options(
    scale: Any, chunk_size: Any, return_weights: bool, is_causal: Any
) -> tuple[float | None, int | None]:
    """``scale`` as a float and ``chunk_size`` as an int (each may be None)."""
    if not isinstance(is_causal, bool):
        msg = f"`is_causal` must be a bool, got {is_causal!r}"
        raise TypeError(msg)
    # any real scale, as in torch: a NaN or infinite one shows in the output
    scale = None if scale is None else check_real(scale, "scale", allow_nan=True)
    chunk_size = check_count(chunk_size, "chunk_size", minimum=1, optional=True)
    if chunk_size is not None and return_weights:
        msg = (
            "`return_weights=True` cannot be combined with `chunk_size`: chunking "
            "exists never to hold the (L, S) weights"
        )
        raise ValueError(msg)
    return scale, chunk_size


# ---------------------------------------------------------------------- compute


class _Scores:
    """Logits of key blocks, masked, in the grouped layout when ``group > 1``.

    With grouped-query attention the query is viewed as ``(..., Hk, g, L, E)`` and the
    keys as ``(..., Hk, 1, S, E)``, so matmul broadcasts each key head over its ``g``
    query heads without copying keys, values or masks.
    """

    def __init__(
        self, xp: Any, query: Any, key: Any, value: Any, mask: Any, bias: Any,
        is_causal: bool, scale: float, group: int,
    ) -> None:
        self.xp, self.group, self.is_causal = xp, group, is_causal
        self.L, self.S = query.shape[-2], key.shape[-2]
        self.q = self._grouped(query * scale, 1)
        self.key, self.value = self._grouped(key, 0), self._grouped(value, 0)
        nd = query.ndim

        def full_rank(x: Any) -> Any:
            return xp.reshape(x, (1,) * (nd - x.ndim) + _shape(x))

        self.mask = None if mask is None else full_rank(mask)
        self.bias = None if bias is None else xp.astype(full_rank(bias), query.dtype)
        self.dev = device(query)

    def _grouped(self, x: Any, query_like: int) -> Any:
        """``(..., H, n, d)`` as ``(..., Hk, g, n, d)`` (query) or ``(..., Hk, 1, n, d)``."""
        if self.group == 1:
            return x
        *lead, h, n, d = _shape(x)
        if query_like:
            return self.xp.reshape(x, (*lead, h // self.group, self.group, n, d))
        return self.xp.reshape(x, (*lead, h, 1, n, d))

    def _grouped_scores(self, x: Any) -> Any:
        """A mask or bias block ``(..., H or 1, L or 1, s)`` in the grouped layout."""
        if self.group == 1:
            return x
        *lead, h, n, s = _shape(x)
        heads = (1, 1) if h == 1 else (h // self.group, self.group)
        return self.xp.reshape(x, (*lead, *heads, n, s))

    def block(self, start: int, stop: int) -> tuple[Any, Any]:
        """Masked logits of keys ``start:stop`` and the matching value rows."""
        xp = self.xp
        k = self.key[..., start:stop, :]
        s = xp.matmul(self.q, xp.matrix_transpose(k))
        if self.bias is not None:
            s = s + self._grouped_scores(self._columns(self.bias, start, stop))
        allowed = None
        if self.mask is not None:
            allowed = self._grouped_scores(self._columns(self.mask, start, stop))
        if self.is_causal:
            rows = xp.arange(self.L, device=self.dev)[:, None]
            cols = xp.arange(start, stop, device=self.dev)[None, :]
            causal = cols <= rows
            allowed = causal if allowed is None else (allowed & causal)
        if allowed is not None:
            s = xp.where(allowed, s, xp.asarray(-xp.inf, dtype=s.dtype, device=self.dev))
        return s, self.value[..., start:stop, :]

    @staticmethod
    def _columns(x: Any, start: int, stop: int) -> Any:
        return x if x.shape[-1] == 1 else x[..., start:stop]


def _safe_max(xp: Any, s: Any) -> Any:
    """Row maximum used as the shift; 0 for rows with no finite logit left (all -inf),
    so that their entries become exp(-inf) = 0 rather than NaN."""
    m = xp.max(s, axis=-1, keepdims=True)
    return xp.where(m == -xp.inf, xp.zeros_like(m), m)


def _full(xp: Any, sc: _Scores) -> tuple[Any, Any]:
    """Unchunked: all logits at once; returns (output, weights) in the grouped layout."""
    s, v = sc.block(0, sc.S)
    m = _safe_max(xp, s)
    if can_mutate(s):  # NumPy: reuse the logits' buffer, the largest temporary
        s -= m
        p = xp.exp(s)
        del s
    else:
        p = xp.exp(s - m)
    total = xp.sum(p, axis=-1, keepdims=True)
    # a row with nothing to attend to has p == 0 everywhere and stays 0
    denom = xp.where(total > 0, total, xp.ones_like(total))
    if can_mutate(p):
        p /= denom
        w = p
    else:
        w = p / denom
    return xp.matmul(w, v), w


def _chunked(xp: Any, sc: _Scores, chunk_size: int) -> Any:
    """Online softmax over key blocks: the output without ever holding (L, S) logits."""
    m: Any = None
    total: Any = None
    acc: Any = None
    for start in range(0, sc.S, chunk_size):
        s, v = sc.block(start, min(start + chunk_size, sc.S))
        block_max = xp.max(s, axis=-1, keepdims=True)
        new_m = block_max if m is None else xp.maximum(m, block_max)
        shift = xp.where(new_m == -xp.inf, xp.zeros_like(new_m), new_m)
        mutable = can_mutate(s)  # NumPy: two block-sized buffers at a time, not three
        if mutable:
            s -= shift
            p = xp.exp(s)
            del s
        else:
            p = xp.exp(s - shift)
        block_sum = xp.sum(p, axis=-1, keepdims=True)
        block_out = xp.matmul(p, v)
        del p
        if m is None:
            total, acc = block_sum, block_out
        else:
            # earlier blocks were weighted by exp(-old shift); bring them to the new one
            rescale = xp.exp(m - shift)
            if mutable:
                acc *= rescale
                acc += block_out
                total *= rescale
                total += block_sum
            else:
                total = total * rescale + block_sum
                acc = acc * rescale + block_out
        m = new_m
    return acc / xp.where(total > 0, total, xp.ones_like(total))


@array_op("query", "key", "value", "mask", "bias")
def scaled_dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    /,
    *,
    mask: Any = None,
    bias: Any = None,
    is_causal: bool = False,
    scale: float | None = None,
    chunk_size: int | None = None,
    return_weights: bool = False,
) -> Any:
    r"""Attention :math:`\mathrm{softmax}(s\,QK^\top + B)\,V` over the allowed keys.

    Parameters
    ----------
    query : array
        ``(*batch, L, E)``, real floating.
    key : array
        ``(*batch_kv, S, E)``, the dtype of ``query``; ``batch_kv`` equals ``batch``
        except that the query head count (axis -3) may be a multiple of the key's
        (grouped-query attention).
    value : array
        ``(*batch_kv, S, Ev)``, the dtype of ``query``.
    mask : array, optional
        Boolean, broadcastable to ``(*batch, L, S)``; True = attend.
    bias : array, optional
        Real floating, broadcastable to ``(*batch, L, S)``, added to the scaled logits
        (cast to ``query``'s dtype); -inf excludes a key.
    is_causal : bool, default False
        Query ``i`` attends to keys ``j <= i`` (top-left aligned ``tril`` of an
        ``L x S`` matrix, as torch and JAX do); combines with ``mask`` and ``bias``.
    scale : float, optional
        Multiplies :math:`QK^\top`; default ``1 / sqrt(E)``.
    chunk_size : int, optional
        Compute with an online softmax over blocks of this many keys (at least 1): the
        same result to rounding, with peak memory O(L * chunk_size) instead of O(L * S).
    return_weights : bool, default False
        Also return the attention weights ``(*batch, L, S)``; not with ``chunk_size``.

    Returns
    -------
    array or (array, array)
        ``(*batch, L, Ev)`` of ``query``'s dtype, and the weights with
        ``return_weights=True``. A row with no key to attend to (everything masked, or
        ``S == 0``) is 0, and so are its weights (torch's result;
        ``jax.nn.dot_product_attention`` returns the mean of ``value`` there).

    Raises
    ------
    TypeError
        When ``query``, ``key``, ``value`` or ``bias`` is not real floating, ``key`` or
        ``value`` has another dtype than ``query``, ``mask`` is not boolean,
        ``is_causal`` is not a bool, ``scale`` is not a real number or ``chunk_size``
        not an int.
    ValueError
        When the shapes do not match (rank, feature size E, key/value lengths, batch
        and head axes), ``mask`` or ``bias`` does not broadcast to the scores,
        ``chunk_size`` is below 1, or ``return_weights`` comes with ``chunk_size``.

    Examples
    --------
    With ``scale=0`` every allowed key gets the same weight; ``is_causal`` lets the
    first query see only the first key:

    >>> import array_api_strict as xp
    >>> from xpops import scaled_dot_product_attention
    >>> q = xp.asarray([[1.0, 0.0], [0.0, 1.0]])
    >>> kv = xp.asarray([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> out, w = scaled_dot_product_attention(q, kv, kv, scale=0.0, is_causal=True,
    ...                                       return_weights=True)
    >>> w
    Array([[1. , 0. , 0. ],
           [0.5, 0.5, 0. ]], dtype=array_api_strict.float64)
    >>> out
    Array([[1. , 0. ],
           [0.5, 0.5]], dtype=array_api_strict.float64)
    """
    arrays = [a for a in (query, key, value, mask, bias) if a is not None]
    xp = array_namespace(*arrays)
    group = _check_qkv(xp, query, key, value)
    _check_mask_bias(xp, query, key, mask, bias)
    scale, chunk_size = _check_options(scale, chunk_size, return_weights, is_causal)
    e = query.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(e) if e else 1.0
    if not return_weights and chunk_size is None and (torch := native_torch(*arrays)) is not None:
        return _torch_sdpa(torch, query, key, value, mask, bias, is_causal, scale, group)
    return run_compiled(
        _attend, (query, key, value, mask, bias), is_causal=is_causal, scale=scale,
        chunk_size=chunk_size, return_weights=return_weights, group=group,
    )


def _attend(
    query: Any, key: Any, value: Any, mask: Any, bias: Any, *, is_causal: bool,
    scale: float, chunk_size: int | None, return_weights: bool, group: int,
) -> Any:
    """The computation of :func:`scaled_dot_product_attention` on validated arguments."""
    xp = array_namespace(*(a for a in (query, key, value, mask, bias) if a is not None))
    out_shape = (*_shape(query)[:-1], value.shape[-1])
    dev = device(query)
    if key.shape[-2] == 0 or 0 in out_shape:  # nothing to attend to, or nothing to compute
        out = xp.zeros(out_shape, dtype=query.dtype, device=dev)
        if return_weights:
            w = xp.zeros((*out_shape[:-1], key.shape[-2]), dtype=query.dtype, device=dev)
            return out, w
        return out
    sc = _Scores(xp, query, key, value, mask, bias, is_causal, scale, group)
    if chunk_size is not None and chunk_size < sc.S:
        return xp.reshape(_chunked(xp, sc, chunk_size), out_shape)
    out, w = _full(xp, sc)
    out = xp.reshape(out, out_shape)
    if return_weights:
        return out, xp.reshape(w, (*out_shape[:-1], key.shape[-2]))
    return out


def _torch_sdpa(
    torch: Any, query: Any, key: Any, value: Any, mask: Any, bias: Any, is_causal: bool,
    scale: float, group: int,
) -> Any:
    """torch's fused kernel, with mask, causality and bias folded into one ``attn_mask``
    (torch refuses ``attn_mask`` together with ``is_causal``). torch returns 0 for a row
    with nothing to attend to, boolean or -inf float mask alike (measured, torch 2.13)."""
    allowed = mask
    if is_causal:
        L, S = query.shape[-2], key.shape[-2]
        causal = torch.ones((L, S), dtype=torch.bool, device=query.device).tril()
        allowed = causal if allowed is None else (allowed & causal)
    attn_mask = allowed
    if bias is not None:
        attn_mask = bias.to(query.dtype)
        if allowed is not None:
            attn_mask = torch.where(allowed, attn_mask, -math.inf)
    return torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attn_mask, scale=scale, enable_gqa=group > 1
    )


# -------------------------------------------------------------- multi-head attention

_WEIGHTS = ("q_weight", "k_weight", "v_weight", "out_weight")
_BIASES = ("q_bias", "k_bias", "v_bias", "out_bias")


def _check_params(params: Any, d_model: int, kdim: int, vdim: int) -> None:
    if not isinstance(params, Mapping):
        msg = f"`params` must be a mapping of arrays, got {type(params).__name__}"
        raise TypeError(msg)
    missing = [k for k in _WEIGHTS if params.get(k) is None]
    if missing:
        msg = f"`params` lacks {missing}; it needs {list(_WEIGHTS)} and optionally {list(_BIASES)}"
        raise ValueError(msg)
    expected = {
        "q_weight": (d_model, d_model), "k_weight": (d_model, kdim),
        "v_weight": (d_model, vdim), "out_weight": (d_model, d_model),
        **{b: (d_model,) for b in _BIASES},
    }
    for name, want in expected.items():
        p = params.get(name)
        if p is not None and _shape(p) != want:
            msg = (
                f"`params['{name}']` must have shape {want} for d_model={d_model}, "
                f"kdim={kdim}, vdim={vdim}, got {_shape(p)}"
            )
            raise ValueError(msg)


def _project(xp: Any, x: Any, weight: Any, bias: Any) -> Any:
    """``x @ weight.T + bias``, the orientation of ``torch.nn.Linear``."""
    y = xp.matmul(x, xp.matrix_transpose(xp.astype(weight, x.dtype)))
    return y if bias is None else y + xp.astype(bias, x.dtype)


@array_op("query", "key", "value", "params", "mask", mappings=("params",))
def multi_head_attention(
    query: Any,
    key: Any,
    value: Any,
    params: Mapping[str, Any],
    /,
    *,
    num_heads: int,
    mask: Any = None,
    is_causal: bool = False,
) -> Any:
    r"""Multi-head attention as ``torch.nn.MultiheadAttention(batch_first=True)``.

    :math:`\mathrm{out} = \mathrm{concat}_h(\mathrm{sdpa}(Q_h, K_h, V_h))\,W_o^\top + b_o`
    with :math:`Q = x_q W_q^\top + b_q` (likewise K, V) split into ``num_heads`` heads of
    ``d_model // num_heads`` features.

    Parameters
    ----------
    query : array
        ``(N, L, d_model)``, real floating.
    key, value : array
        ``(N, S, kdim)`` and ``(N, S, vdim)``, the dtype of ``query``.
    params : mapping of str to array
        ``q_weight (d_model, d_model)``, ``k_weight (d_model, kdim)``,
        ``v_weight (d_model, vdim)``, ``out_weight (d_model, d_model)`` and optional
        ``q_bias``, ``k_bias``, ``v_bias``, ``out_bias`` (each ``(d_model,)``; missing or
        None = no bias). :func:`mha_params_from_torch` converts a torch state dict.
    num_heads : int
        The number of heads, at least 1; must divide ``d_model``.
    mask : array, optional
        Boolean, broadcastable to ``(N, num_heads, L, S)``; True = attend (torch's
        ``attn_mask`` is the negation; its ``key_padding_mask`` (N, S) is
        ``~kpm[:, None, None, :]`` here).
    is_causal : bool, default False
        Top-left aligned causal mask, combined with ``mask``.

    Returns
    -------
    array
        ``(N, L, d_model)`` of ``query``'s dtype. A fully masked query row attends to
        nothing: its attention output is 0, so the result there is ``out_bias`` (torch
        with ``need_weights=False``).

    Raises
    ------
    TypeError
        When ``query``, ``key`` or ``value`` is not real floating, ``num_heads`` is not
        an int, or ``params`` is not a mapping.
    ValueError
        When ``query``, ``key`` or ``value`` is not 3-D or their N and S disagree,
        ``num_heads`` is below 1 or does not divide ``d_model``, ``params`` lacks a
        weight or holds one of the wrong shape, or ``mask`` does not broadcast.

    Examples
    --------
    Identity projections and two heads of one feature each; under ``is_causal`` the
    first position attends only to itself:

    >>> import array_api_strict as xp
    >>> from xpops import multi_head_attention
    >>> eye = xp.eye(2)
    >>> params = {"q_weight": eye, "k_weight": eye, "v_weight": eye, "out_weight": eye}
    >>> x = xp.asarray([[[1.0, 2.0], [3.0, 4.0]]])
    >>> multi_head_attention(x, x, x, params, num_heads=2, is_causal=True)
    Array([[[1.    , 2.    ],
            [2.9951, 3.9993]]], dtype=array_api_strict.float64)
    """
    arrays = [a for a in (query, key, value, mask) if a is not None]
    xp = array_namespace(*arrays)
    for name, x in (("query", query), ("key", key), ("value", value)):
        check_real_floating(xp, x, name)
        if x.ndim != 3:
            msg = f"`{name}` must have shape (N, length, features), got {_shape(x)}"
            raise ValueError(msg)
    num_heads = check_count(num_heads, "num_heads", minimum=1)
    n, L, d_model = _shape(query)
    if d_model % num_heads:
        msg = (
            f"`num_heads`={num_heads} must divide d_model={d_model} "
            f"(query.shape={_shape(query)})"
        )
        raise ValueError(msg)
    if key.shape[0] != n or _shape(value)[:2] != _shape(key)[:2]:
        msg = (
            "`key` and `value` must be (N, S, ...) with the N of `query`, got "
            f"query.shape={_shape(query)}, key.shape={_shape(key)}, value.shape={_shape(value)}"
        )
        raise ValueError(msg)
    _check_params(params, d_model, key.shape[-1], value.shape[-1])
    if mask is not None and mask.ndim > 4:
        msg = f"`mask` must broadcast to (N, num_heads, L, S), got shape {_shape(mask)}"
        raise ValueError(msg)
    weights = {name: params.get(name) for name in (*_WEIGHTS, *_BIASES)}
    return run_compiled(
        _mha, (query, key, value, weights, mask), num_heads=num_heads, is_causal=is_causal
    )


def _mha(
    query: Any, key: Any, value: Any, params: Mapping[str, Any], mask: Any, *,
    num_heads: int, is_causal: bool,
) -> Any:
    """The computation of :func:`multi_head_attention` on validated arguments."""
    xp = array_namespace(query, key, value)
    n, L, d_model = _shape(query)
    head_dim = d_model // num_heads

    def heads(x: Any, w: str, b: str) -> Any:
        y = _project(xp, x, params[w], params[b])
        y = xp.reshape(y, (n, x.shape[1], num_heads, head_dim))
        return xp.permute_dims(y, (0, 2, 1, 3))

    attended = scaled_dot_product_attention(
        heads(query, "q_weight", "q_bias"),
        heads(key, "k_weight", "k_bias"),
        heads(value, "v_weight", "v_bias"),
        mask=mask,
        is_causal=is_causal,
    )
    merged = xp.reshape(xp.permute_dims(attended, (0, 2, 1, 3)), (n, L, d_model))
    return _project(xp, merged, params["out_weight"], params["out_bias"])


def mha_params_from_torch(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The :func:`multi_head_attention` params of a ``torch.nn.MultiheadAttention``.

    Splits the packed ``in_proj_weight`` (3 d_model, d_model) and ``in_proj_bias`` into
    ``q/k/v_weight`` and ``q/k/v_bias``; modules built with ``kdim``/``vdim`` carry
    ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` instead. ``out_proj.weight``
    and ``out_proj.bias`` become ``out_weight`` and ``out_bias``. Modules with
    ``add_bias_kv`` (``bias_k``, ``bias_v``) have no counterpart and raise ValueError.
    Arrays are sliced, not copied or converted: torch tensors stay torch tensors.

    Parameters
    ----------
    state_dict : mapping of str to array
        The module's ``state_dict()``: ``in_proj_weight`` (or ``q_proj_weight``,
        ``k_proj_weight`` and ``v_proj_weight``), optional ``in_proj_bias``,
        ``out_proj.weight`` and optional ``out_proj.bias``; any array library.

    Returns
    -------
    dict of str to array
        ``q_weight``, ``k_weight``, ``v_weight``, ``out_weight`` and, where the module
        has them, ``q_bias``, ``k_bias``, ``v_bias``, ``out_bias``.

    Raises
    ------
    TypeError
        When ``state_dict`` is not a mapping.
    ValueError
        When it holds ``bias_k`` / ``bias_v``, lacks ``out_proj.weight`` or the input
        projections, or ``in_proj_weight`` is not ``(3 d_model, d_model)``.

    Examples
    --------
    Any mapping of arrays works (here array-api-strict; a torch module's
    ``state_dict()`` alike). The key projection is the middle third of the packed
    weight:

    >>> import array_api_strict as xp
    >>> from xpops import mha_params_from_torch
    >>> sd = {"in_proj_weight": xp.reshape(xp.arange(12.0), (6, 2)),
    ...       "out_proj.weight": xp.eye(2)}
    >>> mha_params_from_torch(sd)["k_weight"]
    Array([[4., 5.],
           [6., 7.]], dtype=array_api_strict.float64)
    """
    if not isinstance(state_dict, Mapping):
        msg = f"`state_dict` must be a mapping, got {type(state_dict).__name__}"
        raise TypeError(msg)
    if "bias_k" in state_dict or "bias_v" in state_dict:
        msg = "`state_dict` has bias_k/bias_v (add_bias_kv=True), which has no counterpart"
        raise ValueError(msg)
    if "out_proj.weight" not in state_dict:
        msg = f"`state_dict` lacks 'out_proj.weight'; keys: {sorted(state_dict)}"
        raise ValueError(msg)
    params: dict[str, Any] = {}
    if "in_proj_weight" in state_dict:
        w = state_dict["in_proj_weight"]
        if w.ndim != 2 or w.shape[0] != 3 * w.shape[1]:
            msg = f"`state_dict['in_proj_weight']` must be (3 d_model, d_model), got {_shape(w)}"
            raise ValueError(msg)
        d = w.shape[1]
        for i, name in enumerate("qkv"):
            params[f"{name}_weight"] = w[i * d:(i + 1) * d, ...]
    elif all(f"{n}_proj_weight" in state_dict for n in "qkv"):
        for name in "qkv":
            params[f"{name}_weight"] = state_dict[f"{name}_proj_weight"]
    else:
        msg = (
            "`state_dict` needs 'in_proj_weight' or 'q_proj_weight', 'k_proj_weight' and "
            f"'v_proj_weight'; keys: {sorted(state_dict)}"
        )
        raise ValueError(msg)
    b = state_dict.get("in_proj_bias")
    if b is not None:
        d = b.shape[0] // 3
        for i, name in enumerate("qkv"):
            params[f"{name}_bias"] = b[i * d:(i + 1) * d]
    params["out_weight"] = state_dict["out_proj.weight"]
    if state_dict.get("out_proj.bias") is not None:
        params["out_bias"] = state_dict["out_proj.bias"]
    return params
