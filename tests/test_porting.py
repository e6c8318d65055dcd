"""The porting reference: docs/ is current, complete, and says what was measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xpops.cli import main
from xpops.conformance.backends import select
from xpops.conformance.engine import Failure, OpResult
from xpops.porting.measure import (
    RECORDS_FILE,
    condense,
    load_records,
    measure,
    measure_native,
    native_status,
    save_records,
)
from xpops.porting.page import check_pages, page_name, render_page, show, write_pages
from xpops.porting.text import markdown_to_text
from xpops.spec import SPECS

DOCS = Path(__file__).resolve().parents[1] / "docs"
RECORDS = load_records(DOCS / RECORDS_FILE)
STATUSES = {"agrees", "differs", "unsupported", "not installed", "not measured"}


def _page(op: str) -> str:
    return (DOCS / page_name(op)).read_text(encoding="utf-8")


def test_docs_are_current() -> None:
    problems = check_pages(DOCS, RECORDS)
    assert not problems, f"docs/ is stale ({problems}): run `xpops porting --write`"


def test_every_op_has_a_page_linked_from_the_index() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for op in SPECS:
        assert (DOCS / page_name(op)).is_file(), op
        assert f"]({page_name(op)})" in index, op


def test_every_native_has_a_record() -> None:
    missing = [
        f"{spec.name}: {native.name}"
        for spec in SPECS.values() for native in spec.natives
        if native.name not in RECORDS["records"].get(spec.name, {})
    ]
    assert not missing, f"not measured ({missing}): run `xpops porting --measure --missing`"
    for spec in SPECS.values():
        for native in spec.natives:
            record = RECORDS["records"][spec.name][native.name]
            assert record["status"] in STATUSES
            if record["status"] == "not installed":  # the page says which library is absent
                assert all(b.get("reason") for b in record["backends"]), native.name
            elif record["status"] != "not measured":
                assert record["versions"], native.name


def test_nms_page_states_the_strict_comparison_and_torchvision_result() -> None:
    page = _page("nms")
    assert "IoU > iou_threshold" in page
    assert "| IoU exactly the threshold is kept |" in page
    assert "`torchvision.ops.nms`" in page.split("## Measured differences")[1]
    record = RECORDS["records"]["nms"]["torchvision.ops.nms"]
    assert record["status"] in ("agrees", "differs")
    assert record["versions"]["torchvision"]


def test_softmax_page_lists_scipy_empty_axis_difference() -> None:
    measured = _page("softmax").split("## Measured differences")[1]
    scipy_section = measured.split("### `scipy.special.softmax` on numpy")[1]
    assert "edge case `empty axis`" in scipy_section
    assert "zero-size array" in scipy_section


def test_porting_lists_ops(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["porting"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:4] == ["family", "op", "natives", "agree"]
    assert all(f" {op} " in out for op in SPECS)


def test_porting_prints_a_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["porting", "softmax"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("softmax\n=======")
    assert "scipy.special.softmax" in out and "```" not in out and "`" not in out


def test_porting_unknown_op(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["porting", "sofmax"]) == 2
    assert "unknown op 'sofmax'" in capsys.readouterr().err


def test_check_reports_stale_missing_and_extra(tmp_path: Path) -> None:
    specs = [SPECS["sigmoid"], SPECS["box_area"]]
    write_pages(tmp_path, RECORDS, specs)
    assert check_pages(tmp_path, RECORDS, specs) == []
    (tmp_path / "sigmoid.md").write_text("old\n", encoding="utf-8")
    (tmp_path / "box_area.md").unlink()
    (tmp_path / "gone.md").write_text("", encoding="utf-8")
    assert check_pages(tmp_path, RECORDS, specs) == [
        "stale: sigmoid.md", "missing: box_area.md", "extra: gone.md"
    ]
    assert main(["porting", "--check", str(tmp_path)]) == 1


def test_condense_groups_differences_by_class() -> None:
    spec = SPECS["softmax"]
    edge = next(c for c in spec.edge_cases if c.name == "empty axis")
    result = OpResult("softmax", "numpy", "fail", cases=9, impl="lib.softmax",
                      unsupported={"no where": 3})
    result.failures = [
        Failure("error", dtype, "raised ValueError: empty", repr(edge))
        for dtype in ("float32", "float64")
    ] + [
        Failure("invalid", "float32", "integer input: returned normally, expected TypeError",
                repr(spec.invalid_cases[0].case)),
        Failure("invalid", "float32", "axis out of range: raised IndexError (bad), expected "
                "ValueError"),
        Failure("values", "float64", "value mismatch", "(np.array([1.0], dtype=float64))"),
    ]
    entry = condense(spec, result)
    assert entry["status"] == "differs" and entry["unsupported"] == {"no where": 3}
    kinds = [(d["kind"], d["name"], d["dtypes"]) for d in entry["differences"]]
    assert kinds == [
        ("edge case", "empty axis", ["float32", "float64"]),
        ("invalid input", "axis out of range", ["float32"]),
        ("invalid input", "integer input", ["float32"]),
        ("drawn case", "", ["float64"]),
    ]
    messages = [d["message"] for d in entry["differences"]]
    assert messages[1] == "raises IndexError instead of ValueError: bad"
    assert messages[2] == "returns normally (spec: raises TypeError)"
    assert entry["differences"][0]["example"] == "(np.empty((3, 0), dtype=float64))"
    assert native_status([entry, {"status": "agrees"}]) == "differs"
    assert native_status([{"status": "not installed"}]) == "not installed"


def test_measure_is_incremental_and_keeps_measurements(tmp_path: Path) -> None:
    pytest.importorskip("scipy")
    numpy = [b for b in select(["numpy"]) if b.name == "numpy"]
    path, said = tmp_path / RECORDS_FILE, []
    spec = SPECS["sigmoid"]
    measure([spec], numpy, path, library="scipy", max_examples=2, progress=said.append)
    record = load_records(path)["records"]["sigmoid"]["scipy.special.expit"]
    assert record["status"] in ("agrees", "differs") and record["versions"]["scipy"]
    assert [b["backend"] for b in record["backends"]] == ["numpy"]
    assert len(said) == 1 and list(load_records(path)["records"]["sigmoid"]) == [
        "scipy.special.expit"
    ]
    measure([spec], numpy, path, missing=True, max_examples=2, progress=said.append)
    assert len(said) == 3  # torch's and jax's natives had no record; scipy's is kept
    # no backend here takes a native's arrays: recorded as not measured, with the reason
    absent = measure_native(spec, spec.natives[0], [], max_examples=0)
    assert absent["status"] == "not measured" and absent["reason"]
    # records of natives the specs no longer list are dropped on the next measurement
    data = load_records(path)
    data["records"]["sigmoid"]["renamed.expit"] = dict(record)
    save_records(data, path)
    measure([spec], numpy, path, missing=True, max_examples=2)
    assert "renamed.expit" not in load_records(path)["records"]["sigmoid"]


def test_values_are_shown_independently_of_numpy_printing() -> None:
    assert show(np.array([1.0, 0.5, np.nan, -np.inf])) == "[1., 0.5, nan, -inf]"
    assert show(np.array([[0, 1]], dtype=np.int64)) == "[[0, 1]] int64"
    assert show(np.empty((0, 4))) == "empty(0, 4) float64"
    assert show(np.zeros(100)) == "<float64 array of shape (100,)>"


def test_markdown_to_text_wraps() -> None:
    page = render_page(SPECS["sigmoid"], RECORDS["records"].get("sigmoid", {}))
    text = markdown_to_text(page, width=60)
    assert text.startswith("sigmoid\n=======")
    assert all(len(line) <= 60 for line in text.splitlines() if not line.startswith("    "))
