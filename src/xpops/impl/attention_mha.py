"""Multi-head attention, as ``torch.nn.MultiheadAttention(batch_first=True)``.

``multi_head_attention`` projects the query, key and value with the weights of a params
mapping, splits them into heads, attends with
:func:`~xpops.impl.attention.scaled_dot_product_attention` (whose module docstring
states the masking conventions) and projects the merged heads back;
``mha_params_from_torch`` turns a torch module's ``state_dict`` into that mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._lib.inputs import array_op
from .._lib.jax_eager import run_compiled
from .._lib.namespace import array_namespace
from .._lib.validation import check_count, check_real_floating
from .attention import scaled_dot_product_attention, shape_of

__all__ = ["multi_head_attention", "mha_params_from_torch"]

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
        if p is not None and shape_of(p) != want:
            msg = (
                f"`params['{name}']` must have shape {want} for d_model={d_model}, "
                f"kdim={kdim}, vdim={vdim}, got {shape_of(p)}"
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
            msg = f"`{name}` must have shape (N, length, features), got {shape_of(x)}"
            raise ValueError(msg)
    num_heads = check_count(num_heads, "num_heads", minimum=1)
    n, L, d_model = shape_of(query)
    if d_model % num_heads:
        msg = (
            f"`num_heads`={num_heads} must divide d_model={d_model} "
            f"(query.shape={shape_of(query)})"
        )
        raise ValueError(msg)
    if key.shape[0] != n or shape_of(value)[:2] != shape_of(key)[:2]:
        msg = (
            "`key` and `value` must be (N, S, ...) with the N of `query`, got "
            f"query.shape={shape_of(query)}, key.shape={shape_of(key)}, "
            f"value.shape={shape_of(value)}"
        )
        raise ValueError(msg)
    _check_params(params, d_model, key.shape[-1], value.shape[-1])
    if mask is not None and mask.ndim > 4:
        msg = f"`mask` must broadcast to (N, num_heads, L, S), got shape {shape_of(mask)}"
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
    n, L, d_model = shape_of(query)
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
            msg = f"`state_dict['in_proj_weight']` must be (3 d_model, d_model), got {shape_of(w)}"
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
