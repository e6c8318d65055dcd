"""Scaled dot-product attention, the kernel that multi-head attention builds on.

This module holds ``scaled_dot_product_attention`` (checks, the full and the chunked
softmax, torch's fused kernel where it applies); multi-head attention, its projections
and the conversion of torch parameters are in :mod:`xpops.impl.attention_mha`.

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
from typing import Any

from .._lib.inputs import array_op
from .._lib.jax_eager import run_compiled
from .._lib.namespace import array_namespace, can_mutate, device
from .._lib.native import native_torch
from .._lib.validation import check_broadcastable, check_count, check_real, check_real_floating

__all__ = ["scaled_dot_product_attention"]


# ------------------------------------------------------------------- validation


def shape_of(x: Any) -> tuple[int, ...]:
    """``x.shape`` as a plain tuple, so shapes compare and print alike in every library."""
    return tuple(x.shape)


def _check_qkv(xp: Any, query: Any, key: Any, value: Any) -> int:
    """Validate dtypes and shapes; returns the group size Hq // Hk (1 without GQA)."""
    for name, x in (("query", query), ("key", key), ("value", value)):
        check_real_floating(xp, x, name)
        if x.ndim < 2:
            msg = (
                f"`{name}` must have at least 2 dimensions (..., length, features), "
                f"got shape {shape_of(x)}"
            )
            raise ValueError(msg)
    for name, x in (("key", key), ("value", value)):
        if x.dtype != query.dtype:
            msg = f"`{name}` must have the dtype of `query` ({query.dtype}), got {x.dtype}"
            raise TypeError(msg)
    shapes = (
        f"query.shape={shape_of(query)}, key.shape={shape_of(key)}, "
        f"value.shape={shape_of(value)}"
    )
    if not query.ndim == key.ndim == value.ndim:
        msg = f"`query`, `key` and `value` must have the same number of dimensions, got {shapes}"
        raise ValueError(msg)
    if key.shape[-1] != query.shape[-1]:
        msg = f"`key` must have the feature size E of `query` (last axis), got {shapes}"
        raise ValueError(msg)
    if shape_of(value)[:-1] != shape_of(key)[:-1]:
        msg = f"`value` must match `key` on every axis but the last, got {shapes}"
        raise ValueError(msg)
    if query.ndim < 3:
        return 1
    qb, kb = shape_of(query)[:-2], shape_of(key)[:-2]
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
    scores = (*shape_of(query)[:-1], key.shape[-2])
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
            return xp.reshape(x, (1,) * (nd - x.ndim) + shape_of(x))

        self.mask = None if mask is None else full_rank(mask)
        self.bias = None if bias is None else xp.astype(full_rank(bias), query.dtype)
        self.dev = device(query)

    def _grouped(self, x: Any, query_like: int) -> Any:
        """``(..., H, n, d)`` as ``(..., Hk, g, n, d)`` (query) or ``(..., Hk, 1, n, d)``."""
        if self.group == 1:
            return x
        *lead, h, n, d = shape_of(x)
        if query_like:
            return self.xp.reshape(x, (*lead, h // self.group, self.group, n, d))
        return self.xp.reshape(x, (*lead, h, 1, n, d))

    def _grouped_scores(self, x: Any) -> Any:
        """A mask or bias block ``(..., H or 1, L or 1, s)`` in the grouped layout."""
        if self.group == 1:
            return x
        *lead, h, n, s = shape_of(x)
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
    out_shape = (*shape_of(query)[:-1], value.shape[-1])
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
