"""xpops.io.save_params / load_params: files the ``safetensors`` package writes and reads,
byte for byte, arrays of every backend in and out, and corrupted files refused naming
the file."""

from __future__ import annotations

import json
import struct

import ml_dtypes
import numpy as np
import pytest
import safetensors.numpy as safetensors_numpy
from array_api_compat import array_namespace

import xpops
from xpops.conformance.backends import select
from xpops.io import load_params, save_params

NUMPY_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "float16", "float32", "float64", "complex64"]


def _special_values(dtype: str, rng: np.random.Generator, shape=(3, 4)) -> np.ndarray:
    """Values whose bytes matter: NaN payloads, -0.0, infinities, extreme integers."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
        x.flat[:2] = (info.min, info.max)
        return x
    x = rng.normal(size=shape).astype(dt)
    x.flat[:4] = (np.nan, -0.0, np.inf, -np.inf)
    if dt.kind == "f":  # a NaN with a payload must survive bit for bit
        bits = x.view(f"u{dt.itemsize}")
        bits.flat[4] = bits.flat[0] | 1
    return x


def _params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {f"t_{d}": _special_values(d, rng) for d in NUMPY_DTYPES}
    out["scalar"] = np.asarray(2.5)
    out["empty"] = np.zeros((0, 3), dtype=np.float32)
    out["transposed"] = np.arange(12.0).reshape(3, 4).T  # not C-contiguous
    out["naïve/ünïcode.name"] = np.arange(3, dtype=np.int32)
    return out


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and (
        np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
    )


def test_numpy_round_trip_is_byte_identical(tmp_path, rng):
    params = _params(rng)
    path = tmp_path / "p.safetensors"
    save_params(path, params)
    loaded = load_params(path)
    assert set(loaded) == set(params)
    for name, value in params.items():
        assert isinstance(loaded[name], np.ndarray)
        assert _same_bytes(loaded[name], value), name


@pytest.mark.parametrize("metadata", [None, {"format": "np", "epoch": "3"}])
def test_file_is_byte_identical_to_safetensors_own(tmp_path, rng, metadata):
    params = _params(rng)
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    save_params(ours, params, metadata=metadata)
    safetensors_numpy.save_file(
        {k: np.array(v, order="C") for k, v in params.items()}, str(theirs), metadata=metadata
    )
    if metadata is None:
        assert ours.read_bytes() == theirs.read_bytes()
        return
    # safetensors orders metadata keys differently from call to call (a hash map): compare
    # the parsed header and the data bytes
    a, b = ours.read_bytes(), theirs.read_bytes()
    (n,), (m,) = struct.unpack("<Q", a[:8]), struct.unpack("<Q", b[:8])
    assert n == m
    assert json.loads(a[8:8 + n]) == json.loads(b[8:8 + m])
    assert list(json.loads(a[8:8 + n])) == list(json.loads(b[8:8 + m]))  # tensor order
    assert a[8 + n:] == b[8 + m:]


def test_safetensors_reads_ours_and_we_read_safetensors(tmp_path, rng):
    params = _params(rng)
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    save_params(ours, params)
    for name, value in safetensors_numpy.load_file(str(ours)).items():
        assert _same_bytes(value, params[name]), name
    safetensors_numpy.save_file({k: np.array(v, order="C") for k, v in params.items()},
                                str(theirs))
    for name, value in load_params(theirs).items():
        assert _same_bytes(value, params[name]), name


def test_torch_bfloat16_both_ways(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    x = torch.tensor([1.0, -2.5, float("nan"), 3.0e38], dtype=torch.bfloat16)
    params = {"bf": x, "h": x.to(torch.float16), "i": torch.arange(5, dtype=torch.int16)}
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    save_params(ours, params)
    safetensors_torch.save_file(params, str(theirs))
    assert ours.read_bytes() == theirs.read_bytes()
    for path in (ours, theirs):
        loaded = load_params(path, like=torch)
        for name, value in params.items():
            assert loaded[name].dtype == value.dtype
            assert torch.equal(loaded[name].view(torch.int16) if value.dtype != torch.int16
                               else loaded[name],
                               value.view(torch.int16) if value.dtype != torch.int16 else value)
    as_numpy = load_params(ours)["bf"]  # NumPy holds bfloat16 through ml_dtypes
    assert str(as_numpy.dtype) == "bfloat16"
    assert as_numpy.view(np.int16).tobytes() == x.view(torch.int16).numpy().tobytes()


def test_numpy_bfloat16_round_trip(tmp_path):
    x = np.array([[1.0, -0.0], [np.nan, 3.0e38]], dtype=ml_dtypes.bfloat16)
    path = tmp_path / "bf.safetensors"
    save_params(path, {"bf": x})
    got = load_params(path)["bf"]
    assert got.dtype == x.dtype and got.view(np.int16).tobytes() == x.view(np.int16).tobytes()


def test_empty_metadata_writes_no_metadata_entry(tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    save_params(a, {"x": np.ones(2)}, metadata={})
    save_params(b, {"x": np.ones(2)})
    assert a.read_bytes() == b.read_bytes() and b"__metadata__" not in a.read_bytes()


def test_every_backend_round_trip_keeps_library_device_dtype(backend, tmp_path, rng):
    """Arrays of the backend (strict's device1 too) are written and loaded like them."""
    params = {
        "W": backend.asarray(rng.normal(size=(4, 3)), backend.float_dtypes[-1]),
        "w32": backend.asarray(rng.normal(size=5), "float32"),
        "labels": backend.asarray(rng.integers(-5, 5, size=7)),
        "mask": backend.asarray(rng.random(6) < 0.5),
        "b": backend.asarray(np.asarray(-0.0), "float32"),
    }
    path = tmp_path / "p.safetensors"
    save_params(path, params)
    loaded = load_params(path, like=params["W"])
    assert list(loaded) == sorted(params, key=list(loaded).index)
    for name, value in params.items():
        got = loaded[name]
        assert type(got) is type(value), name
        assert backend.same_device(got), name
        assert got.dtype == value.dtype, name
        assert _same_bytes(backend.to_numpy(got), backend.to_numpy(value)), name


@pytest.mark.parametrize("name", ["numpy", "torch", "jax.numpy", "array_api_strict"])
def test_like_a_namespace_module(name, tmp_path):
    module = pytest.importorskip(name)
    path = tmp_path / "p.safetensors"
    save_params(path, {"x": np.arange(4, dtype=np.int32), "y": np.ones(2, np.float32)})
    loaded = load_params(path, like=module)
    x = loaded["x"]
    assert array_namespace(x) is array_namespace(module.asarray(0))
    assert x.dtype == module.int32
    assert loaded["y"].dtype == module.float32


def test_device_argument_and_strict_device1(tmp_path):
    (b,) = select(["array_api_strict:device1"])
    if not b.available:
        pytest.skip(b.reason)
    import array_api_strict as xps

    path = tmp_path / "p.safetensors"
    save_params(path, {"x": np.arange(3.0)})
    x = load_params(path, like=xps, device=b.device)["x"]
    assert x.device == b.device


def test_jax_without_x64_refuses_float64(tmp_path):
    backends = [b for b in select(["jax:cpu"]) if b.available and b.name == "jax:cpu"]
    if not backends:
        pytest.skip("jax not installed")
    path = tmp_path / "p.safetensors"
    save_params(path, {"W": np.ones(2), "n": np.ones(2, np.float32)})
    with backends[0].activate():
        import jax.numpy as jnp

        with pytest.raises(ValueError, match="'W'.*float64"):
            load_params(path, like=jnp)


# ------------------------------------------------------------------------- expected


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.safetensors"
    save_params(path, {"W1": np.ones((3, 2)), "b1": np.zeros(2), "step": np.asarray(4)})
    return path


def test_expected_matching_passes_and_keeps_extra_tensors(saved):
    loaded = load_params(saved, expected={"W1": np.zeros((3, 2)), "b1": np.ones(2)})
    assert set(loaded) == {"W1", "b1", "step"}


@pytest.mark.parametrize(
    ("expected", "needle"),
    [
        ({"W1": np.zeros((3, 2)), "W2": np.zeros(2)}, "'W2'"),
        ({"W1": np.zeros((2, 3))}, "'W1'.*shape \\(3, 2\\).*\\(2, 3\\)"),
        ({"b1": np.zeros(2, np.float32)}, "'b1'.*float64.*float32"),
        ({"step": np.asarray(4, np.int32)}, "'step'.*int64.*int32"),
    ],
)
def test_expected_mismatch_names_the_tensor(saved, expected, needle):
    with pytest.raises(ValueError, match=needle):
        load_params(saved, expected=expected)


# ------------------------------------------------------------------ corrupted files


def _rewrite_header(path, header: bytes, data: bytes) -> None:
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)


def _corruptions(raw: bytes):
    n = struct.unpack("<Q", raw[:8])[0]
    header, data = raw[8:8 + n], raw[8 + n:]
    yield "empty", b""
    yield "shorter than the length field", raw[:5]
    yield "truncated data", raw[:-1]
    yield "truncated header", raw[: 8 + n // 2]
    yield "trailing bytes", raw + b"\0"
    yield "huge header length", struct.pack("<Q", 2**63) + raw[8:]
    yield "not JSON", struct.pack("<Q", n) + b"\xff" * n + data
    yield "JSON list", struct.pack("<Q", 8) + b"[1, 2] " + b" " + data
    yield "unknown dtype", struct.pack("<Q", n) + header.replace(b'"F64"', b'"F65"') + data
    yield "wrong length", struct.pack("<Q", n) + header.replace(b"[0,48]", b"[0,40]") + data
    yield "negative offset", struct.pack("<Q", n + 1) + header.replace(b"[0,48]", b"[-1,48]") \
        + data
    yield "shape not a list", struct.pack("<Q", n) + header.replace(b"[2,3]", b'"2,3"') + data


def test_corrupted_files_raise_value_error_naming_the_file(tmp_path):
    good = tmp_path / "good.safetensors"
    save_params(good, {"W": np.ones((2, 3)), "b": np.zeros(3, np.float32)})
    raw = good.read_bytes()
    assert b"[0,48]" in raw
    for label, content in _corruptions(raw):
        bad = tmp_path / f"bad {label}.safetensors"
        bad.write_bytes(content)
        with pytest.raises(ValueError) as info:
            load_params(bad)
        assert str(bad) in str(info.value), (label, str(info.value))


def test_dtypes_outside_the_standard_raise_naming_the_file(tmp_path):
    path = tmp_path / "float8.safetensors"
    safetensors_numpy.save_file({"q": np.zeros(3, ml_dtypes.float8_e4m3fn)}, str(path))
    with pytest.raises(ValueError, match="float8.safetensors.*'q': 'F8_E4M3'"):
        load_params(path)


def test_unwritable_path_raises_os_error_naming_it(tmp_path):
    path = tmp_path / "no such folder" / "p.safetensors"
    with pytest.raises(OSError, match="no such folder"):
        save_params(path, {"x": np.ones(2)})


def test_overlapping_or_gapped_offsets_raise(tmp_path):
    for spans in ([[0, 24], [16, 40]], [[0, 24], [32, 56]]):
        header = (
            f'{{"a":{{"dtype":"F64","shape":[3],"data_offsets":{spans[0]}}},'
            f'"b":{{"dtype":"F64","shape":[3],"data_offsets":{spans[1]}}}}}'
        ).replace(" ", "").encode()
        path = tmp_path / "bad.safetensors"
        _rewrite_header(path, header, bytes(spans[1][1]))
        with pytest.raises(ValueError, match="bad.safetensors"):
            load_params(path)


def test_random_byte_flips_never_escape_as_other_errors(tmp_path, rng):
    good = tmp_path / "good.safetensors"
    save_params(good, {"W": np.ones((2, 3)), "i": np.arange(4)})
    raw = bytearray(good.read_bytes())
    bad = tmp_path / "flipped.safetensors"
    for _ in range(200):
        flipped = bytearray(raw)
        pos = int(rng.integers(0, len(raw)))
        flipped[pos] ^= 1 << int(rng.integers(0, 8))
        bad.write_bytes(bytes(flipped))
        try:
            load_params(bad)
        except ValueError as exc:
            assert str(bad) in str(exc)


# ---------------------------------------------------------------------- bad params


@pytest.mark.parametrize(
    ("params", "exc", "needle"),
    [
        ([np.ones(2)], TypeError, "`params`"),
        ({"W": [1.0, 2.0]}, TypeError, "'W'"),
        ({"": np.ones(2)}, ValueError, "keys"),
        ({"__metadata__": np.ones(2)}, ValueError, "__metadata__"),
        ({"o": np.array([object()])}, TypeError, "'o'"),
        ({"c": np.ones(2, np.complex128)}, TypeError, "'c'"),
    ],
)
def test_bad_params_raise_naming_the_key(tmp_path, params, exc, needle):
    with pytest.raises(exc, match=needle.replace("[", "\\[")):
        save_params(tmp_path / "x.safetensors", params)


def test_two_layer_net_parameters_round_trip_between_libraries(tmp_path, rng):
    """Train-time parameters saved from NumPy, loaded into torch, give the same scores."""
    torch = pytest.importorskip("torch")
    params = {"W1": rng.normal(size=(4, 5)), "b1": rng.normal(size=5),
              "W2": rng.normal(size=(5, 3)), "b2": rng.normal(size=3)}
    X = rng.normal(size=(6, 4))
    path = tmp_path / "net.safetensors"
    save_params(path, params)
    loaded = load_params(path, like=torch, expected=params)
    scores = xpops.two_layer_net(loaded, torch.asarray(X))
    for name, value in params.items():
        assert loaded[name].numpy().tobytes() == value.tobytes()
    np.testing.assert_allclose(scores.numpy(), xpops.two_layer_net(params, X), rtol=1e-13)


def test_docstring_examples():
    import doctest

    from xpops.io import params as params_module

    failures, tried = doctest.testmod(params_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0
