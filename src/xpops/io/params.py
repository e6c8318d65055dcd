"""Named arrays to a safetensors file and back, for any array library; no pickle.

The safetensors format: an 8-byte little-endian unsigned header length ``n``; ``n``
bytes of UTF-8 JSON mapping each name to ``{"dtype", "shape", "data_offsets"}`` (plus
an optional ``"__metadata__"`` of strings), padded with spaces to a multiple of 8; then
the raw little-endian, C-ordered bytes of every tensor, ``data_offsets = [begin, end)``
counted from the end of the header, contiguous and without gaps. Files written here
are byte-identical to the ``safetensors`` package's own (same tensor order: dtype
code descending, then name) except for the order of metadata keys, which that package
leaves to a hash map (here they are sorted); every file it writes loads here.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from typing import Any

import array_api_compat
import numpy as np

from .._lib.namespace import array_namespace, is_array_api_obj
from .._lib.namespace import device as device_of

__all__ = ["save_params", "load_params"]

# (code, standard dtype name, NumPy dtype or None) in the order of the safetensors
# Dtype enum, which fixes the tensor order of the files it writes. BF16 needs
# ml_dtypes (installed with JAX) outside torch.
_DTYPES: tuple[tuple[str, str, Any], ...] = (
    ("BOOL", "bool", np.dtype(np.bool_)),
    ("U8", "uint8", np.dtype("<u1")),
    ("I8", "int8", np.dtype("<i1")),
    ("I16", "int16", np.dtype("<i2")),
    ("U16", "uint16", np.dtype("<u2")),
    ("F16", "float16", np.dtype("<f2")),
    ("BF16", "bfloat16", None),
    ("I32", "int32", np.dtype("<i4")),
    ("U32", "uint32", np.dtype("<u4")),
    ("F32", "float32", np.dtype("<f4")),
    ("C64", "complex64", np.dtype("<c8")),
    ("F64", "float64", np.dtype("<f8")),
    ("I64", "int64", np.dtype("<i8")),
    ("U64", "uint64", np.dtype("<u8")),
)
_RANK = {code: i for i, (code, _, _) in enumerate(_DTYPES)}
_NAME = {code: name for code, name, _ in _DTYPES}
_ITEMSIZE = {"BF16": 2, **{code: dt.itemsize for code, _, dt in _DTYPES if dt is not None}}
_MAX_HEADER = 100_000_000  # the safetensors limit


def _numpy_dtype(code: str) -> Any:
    if code == "BF16":
        import ml_dtypes  # optional: only bfloat16 needs it

        return np.dtype(ml_dtypes.bfloat16)
    return next(dt for c, _, dt in _DTYPES if c == code)


def _code_of(x: Any) -> str:
    """The safetensors dtype code of array ``x`` (TypeError for dtypes it lacks)."""
    xp = array_namespace(x)
    for code, name, _ in _DTYPES:
        dtype = getattr(xp, name, None)
        if dtype is not None and x.dtype == dtype:
            return code
    if getattr(x.dtype, "name", None) == "bfloat16":  # NumPy with ml_dtypes
        return "BF16"
    msg = f"dtype {x.dtype} has no safetensors code"
    raise TypeError(msg)


def _to_host_bytes(x: Any, code: str) -> bytes:
    """The little-endian C-order bytes of ``x``, copied to host memory."""
    if array_api_compat.is_torch_array(x):
        import torch

        x = x.detach().to("cpu").contiguous()
        if code == "BF16":  # NumPy has no bfloat16: the same 2 bytes as int16
            x = x.view(torch.int16)
        host = x.numpy()
    elif array_api_compat.is_cupy_array(x):
        host = x.get()
    elif array_api_compat.is_numpy_array(x) or array_api_compat.is_jax_array(x):
        host = np.asarray(x)
    else:  # array-api-strict (any of its devices) and other DLPack producers
        try:
            host = np.from_dlpack(x)
        except (TypeError, RuntimeError, BufferError, AttributeError):
            host = np.asarray(x)
    if host.dtype.byteorder == ">":
        host = host.astype(host.dtype.newbyteorder("<"))
    return np.ascontiguousarray(host).tobytes()


def save_params(
    path: str | os.PathLike[str], params: Mapping[str, Any], /, *,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a dict of named arrays (of any array library) to a safetensors file.

    Arrays are copied to host memory and written with their exact bytes; bool, integer
    (8 to 64 bits, signed and unsigned), float16, bfloat16, float32, float64 and
    complex64 are supported. ``metadata`` (str -> str) goes to ``"__metadata__"``.

    >>> import tempfile, os, array_api_strict as xp
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save_params(path, {"W": xp.asarray([[1.0, 2.0]]), "step": xp.asarray(3)})
    >>> load_params(path, like=xp)["W"]
    Array([[1., 2.]], dtype=array_api_strict.float64)
    """
    if not isinstance(params, Mapping):
        msg = f"`params` must be a mapping of names to arrays, got {type(params).__name__}"
        raise TypeError(msg)
    entries = []
    for name, value in params.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            msg = f"`params` keys must be non-empty strings other than '__metadata__', got {name!r}"
            raise ValueError(msg)
        if not is_array_api_obj(value):
            msg = f"`params[{name!r}]` must be an array, got {type(value).__name__}"
            raise TypeError(msg)
        try:
            code = _code_of(value)
        except TypeError as exc:
            msg = f"`params[{name!r}]`: {exc}"
            raise TypeError(msg) from None
        entries.append((name, code, tuple(int(s) for s in value.shape), value))
    entries.sort(key=lambda e: (-_RANK[e[1]], e[0]))
    header: dict[str, Any] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            msg = f"`metadata` must map strings to strings, got {dict(metadata)!r}"
            raise TypeError(msg)
        header["__metadata__"] = dict(sorted(metadata.items()))  # deterministic files
    chunks, offset = [], 0
    for name, code, shape, value in entries:
        data = _to_host_bytes(value, code)
        span = [offset, offset + len(data)]
        header[name] = {"dtype": code, "shape": list(shape), "data_offsets": span}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)


# --------------------------------------------------------------------------- loading


def _corrupt(path: Any, problem: str) -> ValueError:
    return ValueError(f"{os.fspath(path)!s} is not a valid safetensors file: {problem}")


def _parse(path: Any, raw: bytes) -> tuple[dict[str, tuple[str, tuple[int, ...], int, int]], int]:
    """``{name: (code, shape, begin, end)}`` in data order, and where the data starts."""
    if len(raw) < 8:
        raise _corrupt(path, f"{len(raw)} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > min(_MAX_HEADER, len(raw) - 8):
        raise _corrupt(path, f"header length {n} exceeds the {len(raw) - 8} bytes that follow")
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _corrupt(path, f"header is not UTF-8 JSON ({exc})") from None
    if not isinstance(header, dict):
        raise _corrupt(path, "header is not a JSON object")
    header.pop("__metadata__", None)
    size = len(raw) - 8 - n
    tensors = {}
    for name, info in header.items():
        try:
            code, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
            ok = code in _ITEMSIZE and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for v in (*shape, begin, end)
            )
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise _corrupt(path, f"entry {name!r} is malformed: {info!r}")
        if end - begin != math.prod(shape) * _ITEMSIZE[code]:
            raise _corrupt(
                path, f"tensor {name!r} of {code} {tuple(shape)} needs "
                f"{math.prod(shape) * _ITEMSIZE[code]} bytes, its offsets give {end - begin}"
            )
        tensors[name] = (code, tuple(shape), begin, end)
    position = 0
    for name, (_, _, begin, end) in sorted(tensors.items(), key=lambda t: t[1][2:]):
        if begin != position:
            raise _corrupt(path, f"tensor {name!r} starts at byte {begin}, expected {position}")
        position = end
    if position != size:
        problem = "truncated" if position > size else "trailing bytes"
        raise _corrupt(path, f"{problem}: the tensors need {position} data bytes, "
                             f"the file holds {size}")
    return dict(sorted(tensors.items(), key=lambda t: t[1][2])), 8 + n


def _target(like: Any, device: Any) -> tuple[Any, Any]:
    """The namespace and device loaded arrays take."""
    if like is None:
        return array_api_compat.array_namespace(np.empty(0)), device
    if is_array_api_obj(like):
        return array_namespace(like), device_of(like) if device is None else device
    if hasattr(like, "asarray"):
        return array_namespace(like.asarray(0)), device
    msg = f"`like` must be an array, an array namespace module or None, got {like!r}"
    raise TypeError(msg)


def _check_expected(path: Any, tensors: dict[str, Any], expected: Mapping[str, Any]) -> None:
    missing = [k for k in expected if k not in tensors]
    if missing:
        msg = f"{os.fspath(path)!s} lacks the expected tensors {missing}"
        raise ValueError(msg)
    for name, want in expected.items():
        code, shape = tensors[name][:2]
        if tuple(want.shape) != shape:
            msg = (
                f"tensor {name!r} in {os.fspath(path)!s} has shape {shape}, expected "
                f"{tuple(want.shape)}"
            )
            raise ValueError(msg)
        want_code = _code_of(want)
        if want_code != code:
            msg = (
                f"tensor {name!r} in {os.fspath(path)!s} has dtype {_NAME[code]}, expected "
                f"{_NAME[want_code]}"
            )
            raise ValueError(msg)


def _make(xp: Any, host: np.ndarray, code: str, device: Any, name: str) -> Any:
    """``host`` as an array of ``xp`` on ``device``, with the file's dtype exactly."""
    try:
        if code == "BF16" and array_api_compat.is_torch_namespace(xp):
            import torch

            out = torch.from_numpy(host.view(np.int16)).view(torch.bfloat16)
            return out if device is None else out.to(device)
        out = xp.asarray(host, device=device)
    except (TypeError, ValueError, RuntimeError) as exc:
        msg = f"tensor {name!r}: {xp.__name__} cannot hold {_NAME[code]} ({exc})"
        raise ValueError(msg) from None
    if _code_of(out) != code:  # e.g. JAX without x64 narrows float64 to float32
        msg = (
            f"tensor {name!r}: {xp.__name__} turned {_NAME[code]} into {out.dtype}; "
            "load it into a library that holds it (for JAX, enable jax_enable_x64)"
        )
        raise ValueError(msg)
    return out


def load_params(
    path: str | os.PathLike[str], /, *, like: Any = None, device: Any = None,
    expected: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Read a safetensors file into a dict of arrays of any array library.

    ``like`` is an array (the result takes its library and device) or a namespace module
    (``numpy``, ``torch``, ``jax.numpy``, ``array_api_strict``: its default device);
    None means NumPy. ``device`` overrides the device. Values keep their bytes exactly;
    a library that cannot hold a tensor's dtype raises ValueError naming the tensor.

    ``expected`` (name -> array) makes a missing name, or a shape or dtype different
    from the expected array's, raise ValueError naming the tensor; tensors the file
    holds beyond ``expected`` are returned too. A truncated or corrupted file raises
    ValueError naming the file. The dict lists tensors in the file's data order.
    """
    if expected is not None and not isinstance(expected, Mapping):
        msg = f"`expected` must be a mapping of names to arrays, got {type(expected).__name__}"
        raise TypeError(msg)
    xp, dev = _target(like, device)
    with open(path, "rb") as f:
        raw = f.read()
    tensors, start = _parse(path, raw)
    if expected is not None:
        _check_expected(path, tensors, expected)
    out = {}
    for name, (code, shape, begin, _) in tensors.items():
        host = np.frombuffer(raw, dtype=_numpy_dtype(code), count=math.prod(shape),
                             offset=start + begin).reshape(shape)
        host = host.astype(host.dtype.newbyteorder("="))  # a native-order, writable copy
        out[name] = _make(xp, host, code, dev, name)
    return out
