"""Measured differences: each spec's native counterparts run through the engine.

Every native a spec lists is checked by :func:`~xpops.conformance.natives.check_native`
on the backends whose arrays it takes, with a fixed seed, and the result is condensed
into a record: agrees / differs / unsupported / not installed, the cases run, the
options the adapter does not offer, and the differences grouped by class (a named edge
case, an invalid input, a drawn case with its minimal example). Records carry the
library versions they were measured with and live in one JSON file, ``docs/measured.json``,
which is updated incrementally: a native can be re-measured alone, in another
environment (torchvision pins its own torch), and merged.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..conformance.backends import Backend
from ..conformance.engine import OpResult
from ..conformance.natives import ARRAY_LIBRARY, check_native
from ..spec import Native, OpSpec

__all__ = [
    "DEFAULT_BACKENDS",
    "MAX_EXAMPLES",
    "SEED",
    "RECORDS_FILE",
    "condense",
    "load_records",
    "save_records",
    "measure_native",
    "measure_backends",
    "measure",
    "select_natives",
    "native_status",
]

# numpy for NumPy-taking natives, torch on CPU, JAX in its default configuration (float32,
# int32) and with x64 (float64 values compared too)
DEFAULT_BACKENDS = ("numpy", "torch:cpu", "jax:cpu", "jax:cpu:x64")
MAX_EXAMPLES = 10
SEED = 0
RECORDS_FILE = "measured.json"
FORMAT = 1

_MESSAGE_CHARS = 240
_EXAMPLE_LINES = 6
_EXAMPLE_CHARS = 480
# import names whose distribution is called otherwise
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_DISTRIBUTIONS = {"sklearn": "scikit-learn", "faster_coco_eval": "faster-coco-eval"}


# --------------------------------------------------------------------- condensing


def _stable(text: str) -> str:
    """Without the memory addresses of function reprs, which change from run to run."""
    return _ADDRESS.sub("", text)


def _short(text: str, limit: int = _MESSAGE_CHARS) -> str:
    text = " ".join(_stable(text).split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _example(reproducer: str) -> str:
    """The minimal example, cut to a few readable lines."""
    lines = _stable(reproducer).splitlines()
    cut = lines[:_EXAMPLE_LINES]
    text = "\n".join(cut)
    if len(text) > _EXAMPLE_CHARS:
        text = text[:_EXAMPLE_CHARS].rstrip()
        cut = text.splitlines()
    if cut != lines:
        text += "\n..."
    return text


def _invalid_summary(name: str, message: str) -> str:
    """'<name>: raised E (...), expected X' -> 'raises E instead of X', and so on."""
    rest = message[len(name) + 2:] if message.startswith(name + ": ") else message
    if m := re.match(r"returned normally, expected (.+)$", rest, re.S):
        return f"returns normally (spec: raises {m.group(1)})"
    if m := re.match(r"raised (\w+) \((.*)\), expected (.+)$", rest, re.S):
        return f"raises {m.group(1)} instead of {m.group(3)}: {_short(m.group(2), 120)}"
    if m := re.match(r"message (.*) does not name (.+)$", rest, re.S):
        shown = _short(m.group(1), 120)
        return f"right exception, but the message does not name {m.group(2)}: {shown}"
    return _short(rest)


def _difference(spec: OpSpec, failure: Any) -> dict[str, str]:
    edge_names = {c.name for c in spec.edge_cases if c.name}
    if failure.check == "invalid":
        name = next(
            (i.name for i in spec.invalid_cases if failure.message.startswith(i.name + ": ")), ""
        )
        return {"kind": "invalid input", "name": name, "check": "invalid",
                "message": _invalid_summary(name, failure.message), "example": ""}
    code, _, label = failure.reproducer.rpartition("  # ")
    if label and label in edge_names and "\n" not in label:
        return {"kind": "edge case", "name": label, "check": failure.check,
                "message": _short(failure.message), "example": _example(code)}
    return {"kind": "drawn case", "name": "", "check": failure.check,
            "message": _short(failure.message), "example": _example(failure.reproducer)}


def condense(spec: OpSpec, result: OpResult) -> dict[str, Any]:
    """One backend's result as a record: status, cases, unsupported, grouped differences."""
    status = {"pass": "agrees", "fail": "differs"}.get(result.status, result.status)
    entry: dict[str, Any] = {"backend": result.backend, "status": status, "cases": result.cases}
    if result.reason:
        entry["reason"] = _short(result.reason)
    if result.unsupported:
        entry["unsupported"] = {_short(k, 160): v for k, v in sorted(result.unsupported.items())}
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    for failure in result.failures:
        diff = _difference(spec, failure)
        key = (diff["kind"], diff["name"], diff["check"])
        if key not in grouped:  # the first dtype's message and example stand for the class
            grouped[key] = {**diff, "dtypes": []}
        if failure.dtype not in grouped[key]["dtypes"]:
            grouped[key]["dtypes"].append(failure.dtype)
    order = {"edge case": 0, "invalid input": 1, "drawn case": 2}
    diffs = sorted(grouped.values(), key=lambda d: (order.get(d["kind"], 3), d["name"]))
    if diffs:
        entry["differences"] = diffs
    return entry


def native_status(backends: Sequence[dict[str, Any]]) -> str:
    """A native's overall status from its per-backend records."""
    statuses = {b["status"] for b in backends}
    if not statuses:
        return "not measured"
    for status in ("differs", "agrees", "unsupported"):
        if status in statuses:
            return status
    return "not installed"


# ----------------------------------------------------------------------- versions


def _version(module: str) -> str | None:
    dist = _DISTRIBUTIONS.get(module, module)
    try:
        return importlib.metadata.version(dist)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def _versions(native: Native) -> dict[str, str]:
    """Versions of the native's library, the module its name lives in, and its arrays'."""
    candidates = {
        native.library.split("-")[0],
        native.name.split(".")[0].split(" ")[0],
        ARRAY_LIBRARY.get(native.library, "numpy"),
    }
    found = {m: _version(m) for m in sorted(candidates) if m.isidentifier()}
    return {m: v for m, v in found.items() if v is not None}


# ------------------------------------------------------------------------ records


def measure_backends(names: Sequence[str] = DEFAULT_BACKENDS) -> list[Backend]:
    """The available backends of exactly these names (``jax:cpu`` is not ``jax:cpu:x64``)."""
    from ..conformance.backends import discover

    return [b for b in discover() if b.name in names and b.available]


def load_records(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"format": FORMAT, "records": {}}
    data = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("records", {})
    return data


def save_records(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)  # readers never see a half-written file


def record_of(data: dict[str, Any], op: str, native: str) -> dict[str, Any] | None:
    return data["records"].get(op, {}).get(native)


def measure_native(
    spec: OpSpec, native: Native, backends: Sequence[Backend], *,
    max_examples: int = MAX_EXAMPLES, seed: int = SEED,
) -> dict[str, Any]:
    """Run the engine on ``native`` and condense the results into one record."""
    results = check_native(spec, native, backends, max_examples=max_examples, seed=seed)
    entries = [condense(spec, r) for r in results]
    record: dict[str, Any] = {
        "library": native.library,
        "status": native_status(entries),
        "backends": entries,
        "max_examples": max_examples,
        "seed": seed,
    }
    if not entries:
        record["reason"] = "none of the backends measured takes its arrays"
    elif record["status"] != "not installed":
        record["versions"] = _versions(native)
    return record


def select_natives(
    specs: Iterable[OpSpec], *, library: str | None = None,
) -> list[tuple[OpSpec, Native]]:
    """(spec, native) pairs; ``library`` keeps those of that library or module."""
    chosen = []
    for spec in specs:
        for native in spec.natives:
            if library is None or native.library == library or native.name.startswith(
                library + "."
            ):
                chosen.append((spec, native))
    return chosen


def _merge(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A measurement replaces the old record, but "not installed here" never replaces a
    measurement made where the library is installed."""
    if old is not None and new["status"] in ("not installed", "not measured") and old[
        "status"
    ] not in ("not installed", "not measured"):
        return old
    return new


def _prune(data: dict[str, Any]) -> None:
    """Drop the records of ops and natives the specs no longer list (a renamed native)."""
    from ..spec import SPECS

    records = data["records"]
    for op in list(records):
        listed = {n.name for n in SPECS[op].natives} if op in SPECS else set()
        for name in list(records[op]):
            if name not in listed:
                del records[op][name]
        if not records[op]:
            del records[op]


def measure(
    specs: Iterable[OpSpec], backends: Sequence[Backend], path: Path, *,
    library: str | None = None, missing: bool = False, max_examples: int = MAX_EXAMPLES,
    seed: int = SEED, progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Measure the chosen natives and merge each record into ``path`` as soon as it is made.

    ``missing`` measures only natives without a record (or recorded as not installed).
    """
    data = load_records(path)
    data["format"] = FORMAT
    _prune(data)
    pairs = select_natives(specs, library=library)
    if missing:
        pairs = [
            (s, n) for s, n in pairs
            if (r := record_of(data, s.name, n.name)) is None
            or r["status"] in ("not installed", "not measured")
        ]
    for i, (spec, native) in enumerate(pairs):
        start = time.monotonic()
        new = measure_native(spec, native, backends, max_examples=max_examples, seed=seed)
        ops = data["records"].setdefault(spec.name, {})
        ops[native.name] = _merge(ops.get(native.name), new)
        save_records(data, path)
        if progress:
            progress(
                f"[{i + 1}/{len(pairs)}] {spec.name} / {native.name}: {new['status']} "
                f"({time.monotonic() - start:.0f}s)"
            )
    return data
