"""The porting reference as Markdown: one page per op from its spec and measured records.

Pages are a pure function of the specs and ``docs/measured.json``: no dates, stable
order, values printed with six significant digits, so ``--check`` compares bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..spec import SPECS, Case, InvalidCase, Native, OpSpec
from .measure import DEFAULT_BACKENDS, MAX_EXAMPLES, RECORDS_FILE, SEED

__all__ = [
    "INDEX",
    "render_page",
    "render_index",
    "render_pages",
    "write_pages",
    "check_pages",
    "page_name",
    "natives_summary",
    "on_valid_inputs",
]

INDEX = "README.md"
_SHOWN_CHARS = 110  # an input or result longer than this is named, not shown
_SHOWN_SIZE = 16
_NOISE = 1e-10


def page_name(op: str) -> str:
    return f"{op}.md"


# --------------------------------------------------------------------- formatting


def _num(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if abs(x) < _NOISE:  # rounding noise differs between machines' BLAS: show it as 0
        x = 0.0
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.6g}"
    return text + "." if text.lstrip("-").isdigit() else text


def _nested(v: Any) -> str:
    return "[" + ", ".join(_nested(x) for x in v) + "]" if isinstance(v, list) else _num(v)


def show(v: Any) -> str:
    """A short, NumPy-version-independent text of a case value or a result."""
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (np.ndarray, np.generic)):
        a = np.asarray(v)
        if a.size == 0:
            return f"empty{a.shape} {a.dtype.name}"
        if a.size > _SHOWN_SIZE:
            return f"<{a.dtype.name} array of shape {a.shape}>"
        text = _nested(a.tolist())
        return text if a.dtype.kind == "f" else f"{text} {a.dtype.name}"
    if isinstance(v, float):
        return _num(v)
    if callable(v):  # e.g. a loss function passed as an argument: its name, not its address
        return getattr(v, "__name__", type(v).__name__)
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(show(x) for x in v) + ")"
    return repr(v)


def show_case(case: Case) -> str:
    parts = [show(a) for a in case.args] + [f"{k}={show(v)}" for k, v in case.kwargs.items()]
    return ", ".join(parts)


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"`` {text} ``"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _short_or_none(text: str) -> str | None:
    return text if len(text) <= _SHOWN_CHARS and "array of shape" not in text else None


def _oracle_result(spec: OpSpec, case: Case) -> str | None:
    """What the spec returns on ``case``, when it is short enough to print."""
    try:
        with np.errstate(all="ignore"):
            out = spec.oracle(*case.args, **case.kwargs)
        arrays = spec.output_arrays(out)
    except Exception:  # an oracle that needs a backend-specific input: name the case only
        return None
    text = show(arrays[0]) if len(arrays) == 1 else show(tuple(arrays))
    return _short_or_none(text)


def _raises(invalid: InvalidCase) -> str:
    kinds = invalid.raises if isinstance(invalid.raises, tuple) else (invalid.raises,)
    return " or ".join(k.__name__ for k in kinds)


# -------------------------------------------------------------------------- pages


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _conventions(spec: OpSpec) -> list[str]:
    if not spec.edge_cases:
        return []
    rows = []
    for case in spec.edge_cases:
        shown = _short_or_none(show_case(case))
        result = _oracle_result(spec, case)
        rows.append((
            case.name or "(unnamed)",
            _code(shown) if shown else "",
            _code(result) if result else "",
        ))
    return [
        "## Conventions (named edge cases)", "",
        "Every implementation, native ones included, is checked on these inputs; the result "
        "is the spec's (its float64 oracle) where it is short.", "",
        *_table(("case", "input", "spec result"), rows), "",
    ]


_KIND_TEXT = {
    "f": "float32, float64; float16 and bfloat16 computed in float32, result rounded back",
    "b": "bool",
    "i": "integer",
}


def _param_kinds(spec: OpSpec) -> dict[str, set[str]]:
    """parameter -> dtype kinds ("f", "i", "b") it takes in the spec's valid cases."""
    from ..conformance.variants import param_names

    kinds: dict[str, set[str]] = {}
    for case in spec.edge_cases:
        for name, value in param_names(spec, case).items():
            values = value.values() if isinstance(value, Mapping) else (value,)
            for v in values:
                if isinstance(v, np.ndarray):
                    kinds.setdefault(name, set()).add("i" if v.dtype.kind in "iu" else v.dtype.kind)
    return kinds


def _output_kinds(spec: OpSpec) -> set[str]:
    kinds: set[str] = set()
    for case in spec.edge_cases:
        try:
            with np.errstate(all="ignore"):
                arrays = spec.output_arrays(spec.oracle(*case.args, **case.kwargs))
        except Exception:  # an oracle that needs a backend-specific input
            continue
        kinds |= {"i" if np.asarray(a).dtype.kind in "iu" else np.asarray(a).dtype.kind
                  for a in arrays}
    return kinds


def _inputs(spec: OpSpec) -> list[str]:
    from .._lib.inputs import inputs_of

    rule = inputs_of(spec.impl)
    if rule is None:
        return []
    kinds = _param_kinds(spec)
    rows = []
    for name in rule.arrays:
        if name in rule.labels:
            accepted = ("any integer dtype the library has (int8 ... uint64), counted in the "
                        "default integer")
            if name in rule.binary:
                accepted += "; bool"
            if "f" in kinds.get(name, ()):
                accepted = _KIND_TEXT["f"] + "; or " + accepted
        else:
            accepted = "; ".join(_KIND_TEXT[k] for k in sorted(kinds.get(name, {"f"})))
        role = "primary" if name == rule.primary else "follows " + _code(rule.primary)
        if name in rule.mappings:
            accepted = "a mapping of arrays: " + accepted
        rows.append((_code(name), role, accepted))
    out = {"f": "floating: the floating inputs' dtype (the default float when every input "
                "is integer)", "i": "integer: the namespace's default integer dtype",
           "b": "bool"}
    shown = [out[k] for k in sorted(_output_kinds(spec)) if k in out]
    return [
        "## Inputs", "",
        *_table(("array", "library and device", "dtypes accepted"), rows), "",
        "Results: " + ("; ".join(shown) or "as the definition says") + ".", "",
        f"NumPy arrays, NumPy scalars and Python sequences given for the other arrays are "
        f"converted to the library and device of {_code(rule.primary)}; two different "
        f"non-NumPy libraries, a non-NumPy array beside a NumPy {_code(rule.primary)}, or "
        f"two devices raise TypeError naming both parameters. Any other dtype raises "
        f"TypeError naming the parameter; a negative or out-of-range label raises "
        f"ValueError naming the parameter and the value. Non-contiguous, transposed, "
        f"negative-stride and read-only arrays give the contiguous result and are never "
        f"written to.", "",
    ]


def _errors(spec: OpSpec) -> list[str]:
    if not spec.invalid_cases:
        return []
    rows = []
    for inv in spec.invalid_cases:
        shown = _short_or_none(show_case(inv.case))
        rows.append((
            inv.name, _code(shown) if shown else "", _raises(inv),
            _code(inv.match) if inv.match else "",
        ))
    return ["## Errors", "", *_table(("input", "call", "raises", "message names"), rows), ""]


def _capabilities(spec: OpSpec) -> list[str]:
    c = spec.capabilities
    yes = {True: "yes", False: "no"}
    rows = [
        ("runs under `jax.jit`", yes[c.jit]),
        ("differentiable (torch autograd, `jax.grad`)", yes[c.differentiable]),
        ("output shape depends on values", yes[c.data_dependent_shape]),
        ("stays lazy on Dask", yes[c.lazy]),
    ]
    return ["## Capabilities", "", *_table(("capability", ""), rows), ""]


def _tolerances(spec: OpSpec) -> list[str]:
    from ..conformance.variants import HALF_TOLERANCE

    rows = [(d, f"{r:g}", f"{a:g}") for d, (r, a) in sorted(spec.tolerance.items())]
    r32, a32 = spec.rtol_atol("float32")
    rows += [(h, f"{r32 + r:g}", f"{a32 + a:g}") for h, (r, a) in HALF_TOLERANCE.items()]
    return [
        "## Tolerances", "",
        "Values must satisfy `|got - expected| <= atol + rtol * |expected|` against the "
        "float64 oracle evaluated on the inputs rounded to the dtype under test (for half "
        "precision: float32's tolerance plus half a unit in the last place, against the "
        "oracle's result rounded to the half dtype).", "",
        *_table(("dtype", "rtol", "atol"), rows), "",
    ]


def _properties(spec: OpSpec) -> list[str]:
    if not spec.properties:
        return []
    lines = ["## Properties", ""]
    for p in spec.properties:
        lines.append(f"- {p.name}" + (f": {p.description}" if p.description else ""))
    return [*lines, ""]


def _natives(spec: OpSpec) -> list[str]:
    if not spec.natives:
        return ["## Native equivalents", "", "None listed.", ""]
    rows = [
        (n.library, _code(n.name) + "".join(", " + _code(a) for a in n.aliases),
         n.notes or "same arguments")
        for n in spec.natives
    ]
    return [
        "## Native equivalents", "",
        "Each native runs through an adapter with the xpops signature; options it lacks are "
        "skipped as unsupported, never approximated.", "",
        *_table(("library", "function", "argument mapping / notes"), rows), "",
    ]


def _versions(record: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(record.get("versions", {}).items()))


def on_valid_inputs(record: Mapping[str, Any]) -> bool:
    """Whether every measured backend agreed on every valid input (edge and drawn cases):
    the native may still handle invalid inputs differently."""
    entries = [b for b in record.get("backends", ()) if b["status"] in ("agrees", "differs")]
    return bool(entries) and all(
        d["kind"] == "invalid input" for b in entries for d in b.get("differences", ())
    )


def _result_cell(entry: Mapping[str, Any]) -> str:
    status = entry["status"]
    if status == "differs":
        kinds: dict[str, int] = {}
        for d in entry.get("differences", ()):
            kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
        counted = ", ".join(
            f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in kinds.items()
        )
        if "edge case" not in kinds and "drawn case" not in kinds:
            return f"agrees on valid inputs; errors differ ({counted})"
        return f"**differs** ({counted})"
    if status == "not installed":
        return "not installed" + (f" ({entry['reason']})" if entry.get("reason") else "")
    return status


def _difference_lines(diff: Mapping[str, Any]) -> list[str]:
    dtypes = ", ".join(diff.get("dtypes", ()))
    label = diff["kind"] + (f" {_code(diff['name'])}" if diff["name"] else "")
    check = "" if diff["kind"] == "invalid input" else f"{diff['check']}: "
    lines = [f"- {label} ({dtypes}): {check}{_code(diff['message'])}"]
    if diff.get("example"):
        lines += ["", "  ```python", *("  " + ln for ln in diff["example"].splitlines()),
                  "  ```", ""]
    return lines


def _measured(spec: OpSpec, records: Mapping[str, Any]) -> list[str]:
    lines = [
        "## Measured differences", "",
        "Each native ran through the conformance engine on the same named and drawn cases "
        f"as xpops (see [how](README.md#how-measurements-are-made)). Reproduce with "
        f"`xpops porting --measure --op {spec.name}`.", "",
    ]
    if not spec.natives:
        return [*lines, "No native to measure.", ""]
    rows, details = [], []
    for native in spec.natives:
        record = records.get(native.name)
        if record is None:
            rows.append((_code(native.name), "", "not measured yet", "", ""))
            continue
        for entry in record["backends"] or [{"backend": "", "status": record["status"],
                                             "cases": 0, "reason": record.get("reason")}]:
            rows.append((
                _code(native.name), entry["backend"], _result_cell(entry),
                str(entry.get("cases", 0)), _versions(record),
            ))
            details += _details(native, record, entry)
    lines += _table(("native", "backend", "result", "cases", "measured with"), rows)
    return [*lines, "", *details]


def _details(native: Native, record: Mapping[str, Any], entry: Mapping[str, Any]) -> list[str]:
    diffs, unsupported = entry.get("differences", ()), entry.get("unsupported", {})
    if not diffs and not unsupported:
        return []
    lines = [f"### {_code(native.name)} on {entry['backend']}", ""]
    if diffs:
        lines += ["Differs from the spec on:", ""]
        for diff in diffs:
            lines += _difference_lines(diff)
        if lines[-1] != "":
            lines.append("")
    if unsupported:
        skipped = ", ".join(f"{_code(k)} ({v} cases)" for k, v in unsupported.items())
        lines += [f"Cases skipped, option not offered: {skipped}.", ""]
    return lines


def render_page(spec: OpSpec, records: Mapping[str, Any]) -> str:
    """The Markdown page of ``spec``; ``records`` maps native name -> measured record."""
    lines = [
        f"# {spec.name}", "",
        f"Family: {spec.family}. [All ops](README.md)", "",
        "```python", f"xpops.{spec.signature or spec.name}", "```", "",
        "## Definition", "", spec.doc.strip(), "",
        *_inputs(spec), *_conventions(spec), *_errors(spec), *_tolerances(spec),
        *_properties(spec),
        *_capabilities(spec), *_natives(spec), *_measured(spec, records),
    ]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def natives_summary(spec: OpSpec, records: Mapping[str, Any]) -> tuple[int, int, int]:
    """(natives listed, natives that agree with the spec on every measured backend,
    natives that agree on every valid input)."""
    agree = sum(1 for n in spec.natives if records.get(n.name, {}).get("status") == "agrees")
    valid = sum(1 for n in spec.natives if on_valid_inputs(records.get(n.name, {})))
    return len(spec.natives), agree, valid


def _about() -> list[str]:
    backends = ", ".join(f"`{b}`" for b in DEFAULT_BACKENDS)
    return [
        "## How measurements are made", "",
        "Every spec lists its native counterparts, each with an adapter that gives the native "
        "the xpops signature and raises `Unsupported` for options the native does not offer. "
        "`xpops porting --measure` runs each native through the conformance engine "
        "(`xpops.conformance.natives.check_native`) on the backends whose arrays it takes "
        f"(of {backends}), with hypothesis seed {SEED} and {MAX_EXAMPLES} drawn cases per "
        "dtype, plus every named edge case and invalid input of the spec. The same checks "
        "as for xpops apply: dtype, shape, values against the float64 oracle within the "
        "spec's tolerance, properties, invalid inputs raising the documented exception. "
        "A native **agrees** when every case passed, **differs** when some class of input "
        "failed (each class is listed with a minimal example), is **unsupported** when "
        "every case used an option it lacks.", "",
        f"Results live in [`{RECORDS_FILE}`]({RECORDS_FILE}), one record per native with "
        "the library versions it was measured with; the pages are generated from the specs "
        "and that file.", "",
        "```bash",
        "xpops porting --measure                   # every native, on the backends here",
        "xpops porting --measure --missing         # only natives without a record",
        "xpops porting --measure --library torchvision   # e.g. in an environment with it",
        "xpops porting --write                     # regenerate docs/",
        "xpops porting --check                     # exit 1 when docs/ is stale",
        "xpops conformance --impl scipy.special:softmax --op softmax --backend numpy",
        "```", "",
        "The last line reproduces one measurement with the full report of failures.", "",
    ]


def render_index(specs: Iterable[OpSpec], records: Mapping[str, Any]) -> str:
    specs = list(specs)
    totals: dict[str, int] = {}
    rows = []
    for spec in specs:
        recs = records.get(spec.name, {})
        for n in spec.natives:
            status = recs.get(n.name, {}).get("status", "not measured")
            totals[status] = totals.get(status, 0) + 1
        listed, agree, valid = natives_summary(spec, recs)
        rows.append((spec.family, f"[{spec.name}]({page_name(spec.name)})", str(listed),
                     str(agree), str(valid)))
    order = ("agrees", "differs", "unsupported", "not installed", "not measured")
    summary = ", ".join(f"{totals[s]} {s}" for s in order if totals.get(s))
    valid = sum(
        on_valid_inputs(records.get(s.name, {}).get(n.name, {})) for s in specs for n in s.natives
    )
    lines = [
        "# xpops porting reference", "",
        "One page per op, generated from its spec (`src/xpops/spec/`): signature, definition, "
        "every convention as a named edge case, errors, tolerances, capabilities, the native "
        "equivalents with their argument mapping, and the **measured differences** of each "
        "native against the spec. `xpops porting OP` prints a page in the terminal.", "",
        f"{len(specs)} ops, {sum(totals.values())} natives: {summary}. {valid} agree on every "
        "valid input (edge and drawn cases) and differ only in how they reject invalid ones. "
        "Most natives validate less than the spec asks (a wrong dtype or shape passes, or "
        "raises another exception): the pages list each such input.", "",
        *_table(("family", "op", "natives", "agree", "agree on valid inputs"), rows), "",
        *_about(),
    ]
    while lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def render_pages(
    records: Mapping[str, Any], specs: Iterable[OpSpec] | None = None
) -> dict[str, str]:
    """File name -> content of every page, the index included."""
    specs = list(SPECS.values() if specs is None else specs)
    by_op = records.get("records", {})
    pages = {page_name(s.name): render_page(s, by_op.get(s.name, {})) for s in specs}
    pages[INDEX] = render_index(specs, by_op)
    return pages


def write_pages(
    directory: Path, records: Mapping[str, Any], specs: Iterable[OpSpec] | None = None
) -> list[str]:
    """Write every page into ``directory``, remove pages of ops that are gone; the names
    of the files changed."""
    directory.mkdir(parents=True, exist_ok=True)
    pages = render_pages(records, specs)
    changed = []
    for name, text in pages.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    for path in sorted(directory.glob("*.md")):
        if path.name not in pages:
            path.unlink()
            changed.append(path.name)
    return changed


def check_pages(
    directory: Path, records: Mapping[str, Any], specs: Iterable[OpSpec] | None = None
) -> list[str]:
    """Problems of ``directory`` against freshly rendered pages: stale, missing, extra."""
    pages = render_pages(records, specs)
    problems = []
    for name, text in pages.items():
        path = directory / name
        if not path.exists():
            problems.append(f"missing: {name}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"stale: {name}")
    for path in sorted(directory.glob("*.md")):
        if path.name not in pages:
            problems.append(f"extra: {path.name}")
    return problems
