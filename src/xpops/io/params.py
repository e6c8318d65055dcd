"""Named arrays to a safetensors file and back, for any array library; no pickle.

The format is the ``safetensors`` package's: its NumPy API writes and reads the files,
so every file it writes loads here and every file written here is its own. This module
only moves arrays between their library and device and host NumPy arrays, and turns the
package's errors into ones that name the file or the tensor. bfloat16 reaches NumPy as
``ml_dtypes.bfloat16``, the type that API uses for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import array_api_compat
import numpy as np
import safetensors
import safetensors.numpy

from .._lib.namespace import array_namespace, is_array_api_obj
from .._lib.namespace import device as device_of

__all__ = ["save_params", "load_params"]

# safetensors dtype code -> standard dtype name, for the dtypes the array API names
# (plus bfloat16); codes the package knows beyond these (float8, float4) are refused
_DTYPE_NAMES = {
    "BOOL": "bool",
    "U8": "uint8",
    "I8": "int8",
    "I16": "int16",
    "U16": "uint16",
    "F16": "float16",
    "BF16": "bfloat16",
    "I32": "int32",
    "U32": "uint32",
    "F32": "float32",
    "C64": "complex64",
    "F64": "float64",
    "I64": "int64",
    "U64": "uint64",
}


def _code_of(x: Any) -> str:
    """The safetensors dtype code of array ``x`` (TypeError for dtypes it lacks)."""
    xp = array_namespace(x)
    for code, name in _DTYPE_NAMES.items():
        dtype = getattr(xp, name, None)
        if dtype is not None and x.dtype == dtype:
            return code
    if getattr(x.dtype, "name", None) == "bfloat16":  # NumPy with ml_dtypes
        return "BF16"
    msg = f"dtype {x.dtype} has no safetensors code"
    raise TypeError(msg)


def _to_host(x: Any) -> np.ndarray:
    """``x`` as a C-contiguous NumPy array in host memory (the package reads raw buffers)."""
    if array_api_compat.is_torch_array(x):
        import torch

        x = x.detach().to("cpu").contiguous()
        if x.dtype == torch.bfloat16:  # NumPy has no bfloat16 of its own: same 2 bytes
            import ml_dtypes  # imported here: it takes most of a second

            return x.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
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
    return np.asarray(host, order="C")  # ascontiguousarray would make 0-d arrays 1-d


def _check_params(params: Mapping[str, Any]) -> None:
    """Every entry checked before any is copied, so a bad one writes nothing."""
    if not isinstance(params, Mapping):
        msg = f"`params` must be a mapping of names to arrays, got {type(params).__name__}"
        raise TypeError(msg)
    for name, value in params.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            msg = f"`params` keys must be non-empty strings other than '__metadata__', got {name!r}"
            raise ValueError(msg)
        if not is_array_api_obj(value):
            msg = f"`params[{name!r}]` must be an array, got {type(value).__name__}"
            raise TypeError(msg)
        try:
            _code_of(value)
        except TypeError as exc:
            msg = f"`params[{name!r}]`: {exc}"
            raise TypeError(msg) from None


def save_params(
    path: str | os.PathLike[str], params: Mapping[str, Any], /, *,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a dict of named arrays, of any array library, to a safetensors file.

    Arrays are copied to host memory and written with their exact bytes by the
    ``safetensors`` package, in its tensor order; nothing is pickled.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced if it exists).
    params : Mapping[str, array]
        Names to arrays of any array library and device, in bool, int8 to int64,
        uint8 to uint64, float16, bfloat16, float32, float64 or complex64.
    metadata : Mapping[str, str], optional
        Free-form text stored in the file's ``"__metadata__"``, in the order the
        package gives its keys (which varies from call to call).

    Returns
    -------
    None

    Raises
    ------
    TypeError
        When ``params`` is not a mapping, a value is not an array or has a dtype the
        format lacks (the message names the key), or ``metadata`` holds non-strings.
    ValueError
        When a key is empty, not a string, or ``"__metadata__"``.
    OSError
        When the file cannot be written (the message names it).

    Examples
    --------
    >>> import os, tempfile
    >>> import array_api_strict as xp
    >>> from xpops.io import load_params, save_params
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save_params(path, {"W": xp.asarray([[1.0, 2.0]]), "step": xp.asarray(3)})
    >>> load_params(path, like=xp)["W"]
    Array([[1., 2.]], dtype=array_api_strict.float64)
    """
    _check_params(params)
    if metadata is not None and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        msg = f"`metadata` must map strings to strings, got {dict(metadata)!r}"
        raise TypeError(msg)
    host = {name: _to_host(value) for name, value in params.items()}
    try:
        # an empty mapping writes no "__metadata__" entry at all
        safetensors.numpy.save_file(host, path, metadata=dict(metadata) if metadata else None)
    except safetensors.SafetensorError as exc:  # I/O: the dtypes were checked above
        msg = f"cannot write {os.fspath(path)!s}: {exc}"
        raise OSError(msg) from None


# --------------------------------------------------------------------------- loading


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


def _check_expected(
    path: Any, tensors: dict[str, tuple[str, tuple[int, ...]]], expected: Mapping[str, Any]
) -> None:
    missing = [k for k in expected if k not in tensors]
    if missing:
        msg = f"{os.fspath(path)!s} lacks the expected tensors {missing}"
        raise ValueError(msg)
    for name, want in expected.items():
        code, shape = tensors[name]
        if tuple(want.shape) != shape:
            msg = (
                f"tensor {name!r} in {os.fspath(path)!s} has shape {shape}, expected "
                f"{tuple(want.shape)}"
            )
            raise ValueError(msg)
        want_code = _code_of(want)
        if want_code != code:
            msg = (
                f"tensor {name!r} in {os.fspath(path)!s} has dtype {_DTYPE_NAMES[code]}, "
                f"expected {_DTYPE_NAMES[want_code]}"
            )
            raise ValueError(msg)


def _make(xp: Any, host: np.ndarray, code: str, device: Any, name: str) -> Any:
    """``host`` as an array of ``xp`` on ``device``, with the file's dtype exactly."""
    try:
        if code == "BF16" and array_api_compat.is_torch_namespace(xp):
            import torch  # torch cannot take ml_dtypes' bfloat16: pass the 2 bytes

            out = torch.from_numpy(host.view(np.int16)).view(torch.bfloat16)
            return out if device is None else out.to(device)
        out = xp.asarray(host, device=device)
    except (TypeError, ValueError, RuntimeError) as exc:
        msg = f"tensor {name!r}: {xp.__name__} cannot hold {_DTYPE_NAMES[code]} ({exc})"
        raise ValueError(msg) from None
    if _code_of(out) != code:  # e.g. JAX without x64 narrows float64 to float32
        msg = (
            f"tensor {name!r}: {xp.__name__} turned {_DTYPE_NAMES[code]} into {out.dtype}; "
            "load it into a library that holds it (for JAX, enable jax_enable_x64)"
        )
        raise ValueError(msg)
    return out


def _read(path: Any, expected: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    """The file's tensors as NumPy arrays, in data order, ``expected`` checked first."""
    with safetensors.safe_open(path, framework="numpy") as f:
        names = f.offset_keys()
        tensors = {}
        for name in names:
            view = f.get_slice(name)
            tensors[name] = (view.get_dtype(), tuple(view.get_shape()))
        unknown = {n: code for n, (code, _) in tensors.items() if code not in _DTYPE_NAMES}
        if unknown:
            msg = f"{os.fspath(path)!s} holds tensors in dtypes outside the standard: {unknown}"
            raise ValueError(msg)
        if expected is not None:
            _check_expected(path, tensors, expected)
        return {name: f.get_tensor(name) for name in names}


def load_params(
    path: str | os.PathLike[str], /, *, like: Any = None, device: Any = None,
    expected: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Read a safetensors file into a dict of arrays of any array library.

    Values keep their bytes exactly (NaN payloads, -0.0). Tensors the file holds
    beyond ``expected`` are returned too; the dict lists tensors in the file's data
    order. Nothing is unpickled.

    Parameters
    ----------
    path : str or os.PathLike
        A safetensors file, written here or by any other safetensors writer.
    like : array, array namespace module or None, default None
        An array (the results take its library and device) or a namespace module
        (``numpy``, ``torch``, ``jax.numpy``, ``array_api_strict``: its default
        device); None means NumPy.
    device : device, optional
        The device of the results, overriding the one ``like`` gives.
    expected : Mapping[str, array], optional
        Names to arrays whose shape and dtype each tensor must have.

    Returns
    -------
    dict[str, array]
        Name to array of the target library, on the target device, with the file's
        dtype.

    Raises
    ------
    ValueError
        When the file is truncated or corrupted, or holds a dtype no array library
        names (float8, float4) (the message names the file); when an ``expected`` name
        is missing or its shape or dtype differs; when the target library cannot hold
        a tensor's dtype, e.g. float64 on JAX without x64 (the message names the tensor).
    TypeError
        When ``like`` or ``expected`` is of the wrong kind.
    OSError
        When the file cannot be read.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import array_api_strict as xp
    >>> from xpops.io import load_params, save_params
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save_params(path, {"b": np.zeros(2, np.float32), "W": np.eye(2)})
    >>> params = load_params(path, like=xp, expected={"W": np.ones((2, 2))})
    >>> params["W"]
    Array([[1., 0.],
           [0., 1.]], dtype=array_api_strict.float64)
    >>> params["b"].dtype
    array_api_strict.float32
    """
    if expected is not None and not isinstance(expected, Mapping):
        msg = f"`expected` must be a mapping of names to arrays, got {type(expected).__name__}"
        raise TypeError(msg)
    xp, dev = _target(like, device)
    try:
        host = _read(path, expected)
    except safetensors.SafetensorError as exc:
        msg = f"{os.fspath(path)!s} is not a valid safetensors file: {exc}"
        raise ValueError(msg) from None
    return {
        name: _make(xp, value, _code_of(value), dev, name) for name, value in host.items()
    }
