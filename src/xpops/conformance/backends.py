"""Discovery of the array libraries installed here, as uniform test targets.

A :class:`Backend` is one (library, device, configuration) combination: it converts
NumPy inputs to its arrays, converts results back, and knows which float dtypes it
offers. Libraries that are not installed are reported, never raised.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Backend", "discover", "select", "select_names", "named", "jax_x64", "ALL_BACKEND_NAMES"]

# Every backend name the engine knows, in report order.
ALL_BACKEND_NAMES = (
    "numpy",
    "array_api_strict",
    "array_api_strict:device1",
    "array_api_strict:no_float64",
    "array_api_strict:no_x64",
    "torch:cpu",
    "torch:cuda",
    "jax:cpu",
    "jax:cpu:x64",
    "jax:gpu",
    "jax:gpu:x64",
    "cupy",
    "dask",
)


@dataclass
class Backend:
    """One array library on one device, ready to receive NumPy test inputs."""

    name: str
    library: str  # "numpy", "torch", "jax", ...
    xp: Any = None  # array-API compatible namespace
    device: Any = None
    float_dtypes: tuple[str, ...] = ("float32", "float64")
    int_dtype: str = "int64"
    available: bool = True
    reason: str = ""  # why not available
    _context: Callable[[], contextlib.AbstractContextManager[Any]] | None = field(
        default=None, repr=False
    )

    def activate(self) -> contextlib.AbstractContextManager[Any]:
        """Context in which this backend's arrays are created and used (e.g. JAX x64)."""
        return self._context() if self._context is not None else contextlib.nullcontext()

    def asarray(self, a: Any, dtype: str | None = None) -> Any:
        """Convert a NumPy array (or scalar) to this backend, on its device."""
        a = np.asarray(a)
        if dtype is None:
            dtype = self.native_dtype_name(a.dtype)
        a = a.astype(dtype, copy=False)
        if self.library == "torch":
            import torch

            return torch.asarray(a.copy(), device=self.device)
        if self.library == "jax":
            import jax

            return jax.device_put(a, self.device)
        if self.library == "dask":
            import dask.array as da

            return da.from_array(a, chunks=max(1, (a.shape[0] + 1) // 2) if a.ndim else ())
        return self.xp.asarray(a.copy(), device=self.device)

    def native_dtype_name(self, dtype: Any) -> str:
        """The dtype a NumPy input of ``dtype`` takes here (int64 -> int32 without x64)."""
        dtype = np.dtype(dtype)
        if dtype.kind in "iu":
            too_wide = dtype.itemsize > np.dtype(self.int_dtype).itemsize
            return self.int_dtype if too_wide else dtype.name
        if dtype.kind == "f" and dtype.name not in self.float_dtypes:
            return self.float_dtypes[-1]
        return dtype.name

    @property
    def half_dtypes(self) -> tuple[str, ...]:
        """The half-precision float dtypes the library offers (none in array-api-strict)."""
        return _HALF_DTYPES.get(self.library, ())

    @property
    def integer_dtypes(self) -> tuple[str, ...]:
        """Every integer dtype the namespace lists for this device (int8 ... uint64)."""
        info = self.xp.__array_namespace_info__()
        try:
            names = info.dtypes(device=self.device, kind="integral")
        except (TypeError, ValueError):
            names = info.dtypes(kind="integral")
        return tuple(names)

    def to_numpy(self, x: Any) -> np.ndarray:
        """Copy an array of this backend back to host NumPy (bfloat16 tensors as float32,
        whose values they all are: NumPy has no bfloat16)."""
        if self.library == "torch":
            if x.dtype == sys.modules["torch"].bfloat16:
                x = x.float()
            return x.detach().cpu().numpy()
        if self.library == "cupy":
            return x.get()
        if self.library == "dask":
            return np.asarray(x.compute())
        if self.library == "array_api_strict":
            import array_api_strict as xps

            return np.asarray(x.to_device(xps.Device("CPU_DEVICE")))
        return np.asarray(x)

    def dtype_name(self, x: Any) -> str:
        return str(x.dtype).rpartition(".")[2]  # torch.int8, array_api_strict.int8, int8

    def same_device(self, x: Any) -> bool:
        from array_api_compat import device

        return device(x) == self.device

    def release(self) -> int:
        """Free the programs the library compiled for the cases run so far.

        JAX compiles an XLA executable for every primitive, shape, dtype and option set
        (x64 on and off are separate keys) and keeps it in caches bounded by entry count
        (thousands each), not by memory. Each CPU executable holds its machine code in
        memory maps of its own, so a run that draws thousands of shapes reaches the
        kernel's per-process map limit (``vm.max_map_count``, often 65,530): LLVM then
        fails to allocate and the process dies. Releasing after each (op, backend) cell
        keeps a run's maps, memory and live executables bounded by one cell's.

        Returns how many compiled programs were alive before the release.
        """
        if self.library != "jax":
            return 0
        import gc

        import jax

        from .resources import live_executables

        alive = live_executables()
        jax.clear_caches()
        gc.collect()  # executables held in reference cycles go now, not at some later cell
        return alive


_HALF_DTYPES = {
    "numpy": ("float16",),
    "torch": ("float16", "bfloat16"),
    "jax": ("float16", "bfloat16"),
    "cupy": ("float16",),
}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _missing(name: str, library: str, reason: str) -> Backend:
    return Backend(name=name, library=library, available=False, reason=reason)


def _numpy_backends() -> Iterator[Backend]:
    import array_api_compat.numpy as xnp

    yield Backend("numpy", "numpy", xnp, "cpu")


def _strict_backends() -> Iterator[Backend]:
    import array_api_strict as xps

    devices = {str(d).split("'")[1]: d for d in xps.__array_namespace_info__().devices()}
    yield Backend("array_api_strict", "array_api_strict", xps, xps.Device("CPU_DEVICE"))
    variants = {
        "device1": (("float32", "float64"), "int64"),
        "no_float64": (("float32",), "int64"),
        "no_x64": (("float32",), "int32"),
    }
    for dev, (floats, ints) in variants.items():
        name = f"array_api_strict:{dev}"
        if dev in devices:
            yield Backend(name, "array_api_strict", xps, devices[dev], floats, ints)
        else:
            reason = f"array-api-strict {xps.__version__} lacks {dev}"
            yield _missing(name, "array_api_strict", reason)


def _torch_backends() -> Iterator[Backend]:
    if not _installed("torch"):
        for name in ("torch:cpu", "torch:cuda"):
            yield _missing(name, "torch", "not installed")
        return
    import array_api_compat.torch as xt
    import torch

    yield Backend("torch:cpu", "torch", xt, torch.device("cpu"))
    if torch.cuda.is_available():
        yield Backend("torch:cuda", "torch", xt, torch.device("cuda", 0))
    else:
        yield _missing("torch:cuda", "torch", "no CUDA device")


@contextlib.contextmanager
def jax_x64(enabled: bool = True) -> Iterator[None]:
    """Run with JAX's x64 flag set to ``enabled``, restoring it afterwards."""
    import jax

    before = bool(jax.config.read("jax_enable_x64"))
    jax.config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)


def _jax_backends() -> Iterator[Backend]:
    names = ("jax:cpu", "jax:cpu:x64", "jax:gpu", "jax:gpu:x64")
    if not _installed("jax"):
        for name in names:
            yield _missing(name, "jax", "not installed")
        return
    import jax
    import jax.numpy as jnp

    for platform in ("cpu", "gpu"):
        try:
            dev = jax.devices(platform)[0]
        except RuntimeError:
            for suffix in ("", ":x64"):
                yield _missing(f"jax:{platform}{suffix}", "jax", f"no {platform} device")
            continue
        yield Backend(
            f"jax:{platform}", "jax", jnp, dev, ("float32",), "int32",
            _context=lambda: jax_x64(False),
        )
        yield Backend(
            f"jax:{platform}:x64", "jax", jnp, dev, ("float32", "float64"), "int64",
            _context=lambda: jax_x64(True),
        )


def _cupy_backends() -> Iterator[Backend]:
    if not _installed("cupy"):
        yield _missing("cupy", "cupy", "not installed")
        return
    try:
        import array_api_compat.cupy as xc
        import cupy

        dev = cupy.cuda.Device(0)
        dev.compute_capability  # noqa: B018 - raises without a GPU
    except Exception as exc:  # any CUDA initialisation failure means "no GPU here"
        yield _missing("cupy", "cupy", f"no usable GPU ({type(exc).__name__})")
        return
    yield Backend("cupy", "cupy", xc, dev)


def _dask_backends() -> Iterator[Backend]:
    if not _installed("dask"):
        yield _missing("dask", "dask", "not installed")
        return
    import array_api_compat.dask.array as xd

    yield Backend("dask", "dask", xd, "cpu")


# each library's probe and the backend names it yields, in report order
_PROBES: tuple[tuple[Callable[[], Iterator[Backend]], tuple[str, ...]], ...] = (
    (_numpy_backends, ("numpy",)),
    (_strict_backends, ALL_BACKEND_NAMES[1:5]),
    (_torch_backends, ("torch:cpu", "torch:cuda")),
    (_jax_backends, ("jax:cpu", "jax:cpu:x64", "jax:gpu", "jax:gpu:x64")),
    (_cupy_backends, ("cupy",)),
    (_dask_backends, ("dask",)),
)


def _probe(probe: Callable[[], Iterator[Backend]], names: tuple[str, ...]) -> list[Backend]:
    """The probe's backends; a library that fails to import or initialise is reported as
    not installed, with the error, instead of ending the run."""
    try:
        return list(probe())
    except Exception as exc:
        library = names[0].split(":")[0]
        why = f"failed to load: {type(exc).__name__}: {exc}"
        return [_missing(name, library, why) for name in names]


def discover(names: Iterable[str] | None = None) -> list[Backend]:
    """Every known backend, available or not, in :data:`ALL_BACKEND_NAMES` order.

    With ``names``, only the libraries that offer one of them are imported and probed
    (asking for NumPy does not import torch or JAX).
    """
    wanted = None if names is None else set(names)
    found: list[Backend] = []
    for probe, offered in _PROBES:
        if wanted is None or wanted.intersection(offered):
            found.extend(_probe(probe, offered))
    order = {name: i for i, name in enumerate(ALL_BACKEND_NAMES)}
    return sorted(found, key=lambda b: order.get(b.name, len(order)))


def matches(backend_name: str, pattern: str) -> bool:
    """``torch`` selects ``torch:cpu`` and ``torch:cuda``; a full name selects itself."""
    return backend_name == pattern or backend_name.startswith(pattern + ":")


def select_names(patterns: list[str] | None = None) -> list[str]:
    """The backend names ``patterns`` select, without importing any library.

    Raises ValueError naming the patterns that match no known backend.
    """
    if not patterns:
        return list(ALL_BACKEND_NAMES)
    unknown = [p for p in patterns if not any(matches(n, p) for n in ALL_BACKEND_NAMES)]
    if unknown:
        msg = f"unknown backend(s) {unknown}; known: {', '.join(ALL_BACKEND_NAMES)}"
        raise ValueError(msg)
    return [n for n in ALL_BACKEND_NAMES if any(matches(n, p) for p in patterns)]


def select(patterns: list[str] | None = None) -> list[Backend]:
    """Backends whose names match any of ``patterns`` (all of them when None).

    Only the libraries those names belong to are imported.
    """
    names = select_names(patterns)
    return [b for b in discover(names) if b.name in names]


def named(name: str) -> Backend:
    """The backend called exactly ``name`` (``jax:cpu`` is not ``jax:cpu:x64``)."""
    (backend,) = [b for b in select([name]) if b.name == name]
    return backend
