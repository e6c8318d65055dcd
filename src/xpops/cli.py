"""The ``xpops`` command: conformance matrix, benchmarks, the list of ops, COCO evaluation."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._text import aligned_table

__all__ = ["main"]


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _progress_bar(stream: Any = sys.stderr) -> Callable[[int, int, str], None]:
    start = time.monotonic()
    interactive = stream.isatty()
    last = [""]

    def show(done: int, total: int, label: str) -> None:
        width = 30
        filled = width * done // max(total, 1)
        elapsed = time.monotonic() - start
        # cells differ widely in cost: the estimate is the mean so far, rough early on
        eta = f" ~{_duration(elapsed / done * (total - done))} left" if 0 < done < total else ""
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
            f"{_duration(elapsed)}{eta} {label}"
        )
        if interactive:
            stream.write("\r" + line.ljust(100)[:100])
            if done == total:
                stream.write("\n")
        elif done == total or label.split(" @ ")[0] != last[0]:
            stream.write(line + "\n")  # a log gets one line per op, not one per cell
        last[0] = label.split(" @ ")[0]
        stream.flush()

    return show


def _conformance_cells(args: argparse.Namespace, chosen: list[Any], names: list[str]) -> tuple[
    list[Any], Any, dict[tuple[str, str], Any]
]:
    """The (op, backend) cells to check, their options, and the cells settled without a
    check (ops an ``--impl`` module does not provide). Raises TargetError for an
    ``--impl`` that names no implementation."""
    from .conformance.natives import array_library, find_natives
    from .conformance.results import OpResult, Status
    from .conformance.targets import TargetError, load_impls
    from .conformance.workers import Cell, CellOptions

    natives = find_natives(args.impl, chosen) if args.impl else {}
    options = CellOptions(impl=args.impl, native=bool(natives), natives=not args.pure,
                          max_examples=args.max_examples, seed=args.seed)
    if natives:  # a native counterpart a spec knows, run through its adapter
        cells = [
            Cell(s.name, b) for s in chosen if s.name in natives for b in names
            if b.split(":")[0] == array_library(natives[s.name])
        ]
        return cells, options, {}
    if args.impl and ":" in args.impl and len(chosen) != 1:
        msg = (f"--impl {args.impl} names one callable: give exactly one --op "
               f"(got {[s.name for s in chosen]})")
        raise TargetError(msg)
    try:
        provided = load_impls(args.impl, [s.name for s in chosen]) if args.impl else None
    except TargetError as exc:
        raise TargetError(f"--impl: {exc}") from exc
    cells, settled = [], {}
    for s in chosen:
        for b in names:
            if provided is not None and s.name not in provided:
                settled[s.name, b] = OpResult(s.name, b, Status.NOT_PROVIDED)
            else:
                cells.append(Cell(s.name, b))
    return cells, options, settled


def _cmd_conformance(args: argparse.Namespace) -> int:
    from . import spec as specs
    from ._report import check_report_path
    from .conformance import backends as backend_mod
    from .conformance.report import (
        REPORT_FORMATS,
        format_failures,
        format_inputs,
        format_matrix,
        write_report,
    )
    from .conformance.results import Status
    from .conformance.targets import TargetError
    from .conformance.workers import check_cell, run_cells

    try:
        for path in args.report:
            check_report_path(path, REPORT_FORMATS)
        chosen = [specs.get(name) for name in args.op] if args.op else list(specs.SPECS.values())
        names = backend_mod.select_names(args.backend)
        if args.jobs is not None and args.jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    except ValueError as exc:
        print(f"xpops conformance: {exc}", file=sys.stderr)
        return 2
    try:
        cells, options, settled = _conformance_cells(args, chosen, names)
    except TargetError as exc:  # a bad --impl: its message alone, status 1
        print(exc, file=sys.stderr)
        return 1
    progress = None if args.quiet else _progress_bar()
    resources = None
    if args.in_process:
        checked = []
        for i, cell in enumerate(cells):
            if progress:
                progress(i, len(cells), cell.label)
            checked.append(check_cell(cell, options))
        if progress:
            progress(len(cells), len(cells), "done")
    else:
        checked, resources = run_cells(
            cells, options, jobs=args.jobs, cell_timeout=args.cell_timeout, progress=progress
        )
    by_cell = {**settled, **{(r.op, r.backend): r for r in checked}}
    order = [(s.name, b) for s in chosen for b in names]
    results = [by_cell[key] for key in order if key in by_cell]
    print(format_matrix(results))
    inputs = format_inputs(results)
    if inputs:
        print()
        print(inputs)
    failures = format_failures(results)
    if failures:
        print()
        print(failures)
    if resources is not None and resources.samples:
        print()
        print(resources.format())
    for path in args.report:
        write_report(results, path, resources)
        print(f"report written to {path}")
    statuses = {r.status for r in results}
    if Status.FAIL in statuses:
        return 1
    if Status.NOT_RUN in statuses:
        return 130
    return 3 if Status.ERROR in statuses else 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from ._report import check_report_path
    from .bench import format_results, run_benchmarks, write_report
    from .bench.report import REPORT_FORMATS

    def say(msg: str) -> None:
        print(msg, file=sys.stderr)

    try:
        if args.report:
            check_report_path(args.report, REPORT_FORMATS)
        results = run_benchmarks(
            ops=args.op or None, backends=args.backend or None, repeats=args.repeats,
            natives=not args.pure, progress=None if args.quiet else say,
        )
    except ValueError as exc:
        print(f"xpops bench: {exc}", file=sys.stderr)
        return 2
    print(format_results(results))
    if args.report:
        write_report(results, args.report)
        print(f"report written to {args.report}")
    return 0


def _cmd_voc_eval(args: argparse.Namespace) -> int:
    import math

    from . import voc_evaluate
    from .io.voc import load_voc

    try:
        data = load_voc(args.annotations_dir, args.detections_dir, names=args.names)
        result = voc_evaluate(
            *data.arrays(), gt_difficult=data.gt_difficult, ap_method=args.ap_method,
            iou_threshold=args.iou_threshold,
        )
    except ValueError as exc:
        print(f"xpops voc-eval: {exc}", file=sys.stderr)
        return 2
    names = [data.class_names[int(k)] for k in result.class_ids]
    width = max([len("mAP"), *(len(n) for n in names)])
    print(f"{'class':<{width}}  {'AP':>6}  objects")
    for name, ap, npos in zip(names, result.per_class_ap, result.num_positives, strict=True):
        shown = "   n/a" if math.isnan(float(ap)) else f"{float(ap):6.4f}"
        print(f"{name:<{width}}  {shown}  {int(npos)}")
    mean = float(result.map)
    print(f"{'mAP':<{width}}  {'   n/a' if math.isnan(mean) else f'{mean:6.4f}'}")
    return 0


def _cmd_coco_eval(args: argparse.Namespace) -> int:
    import json

    from .conformance import backends as backend_mod
    from .io.coco import CocoFormatError, evaluate_coco_files

    try:
        chosen = [b for b in backend_mod.select([args.backend]) if b.available]
    except ValueError as exc:
        print(f"xpops coco-eval: {exc}", file=sys.stderr)
        return 2
    if not chosen:
        print(f"xpops coco-eval: backend {args.backend!r} is not available", file=sys.stderr)
        return 2
    # float64 where the library offers it (JAX's x64 mode): float32 IoUs can fall on the
    # other side of a threshold than pycocotools' doubles
    backend = next((b for b in chosen if "float64" in b.float_dtypes), chosen[0])
    try:
        with backend.activate():
            result = evaluate_coco_files(args.gt, args.dt, xp=backend.xp, device=backend.device)
            stats = [float(v) for v in backend.to_numpy(result.stats)]
            per_class = [float(v) for v in backend.to_numpy(result.per_class_ap)]
            cats = [int(v) for v in backend.to_numpy(result.category_ids)]
    except (OSError, CocoFormatError) as exc:
        print(f"xpops coco-eval: {exc}", file=sys.stderr)
        return 2
    print(result.summary())
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({
                "stats": stats,
                "per_class_ap": dict(zip(map(str, cats), per_class, strict=True)),
                "backend": backend.name,
            }, fh, indent=2)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .spec import SPECS

    rows = [("op", "family", "jit", "grad", "dynamic shape", "dask", "natives")]
    for s in SPECS.values():
        c = s.capabilities
        rows.append((
            s.name, s.family, _yes(c.jit), _yes(c.differentiable),
            _yes(c.data_dependent_shape), _yes(c.lazy),
            ", ".join(n.name for n in s.natives),
        ))
    print("\n".join(aligned_table(rows)))
    return 0


def _docs_dir(given: str | None) -> Path:
    """``given``, else the repository's docs/ (a source checkout), else ./docs."""
    if given:
        return Path(given)
    repo_docs = Path(__file__).resolve().parents[2] / "docs"
    return repo_docs if repo_docs.is_dir() else Path("docs")


def _cmd_porting(args: argparse.Namespace) -> int:
    import shutil

    measure_mod = importlib.import_module(".porting.measure", __package__)
    from .porting.page import check_pages, natives_summary, render_page, write_pages
    from .porting.text import markdown_to_text
    from .spec import SPECS

    def fail(msg: str) -> int:
        print(f"xpops porting: {msg}", file=sys.stderr)
        return 2

    modes = [m for m in ("write", "check") if getattr(args, m) is not None]
    directory = _docs_dir(args.write or args.check or args.docs)
    records_path = Path(args.records) if args.records else directory / measure_mod.RECORDS_FILE
    unknown = [op for op in [*args.op, *([args.name] if args.name else [])] if op not in SPECS]
    if unknown:
        return fail(f"unknown op {unknown[0]!r}; `xpops porting` lists the ops")
    if args.measure:
        specs = [SPECS[op] for op in args.op] if args.op else list(SPECS.values())
        names = args.backend or list(measure_mod.DEFAULT_BACKENDS)
        backends = measure_mod.measure_backends(names)
        if not backends:
            return fail(f"none of the backends {names} is available here")
        start = time.monotonic()
        measure_mod.measure(
            specs, backends, records_path, library=args.library, missing=args.missing,
            max_examples=args.max_examples, seed=args.seed,
            progress=None if args.quiet else lambda msg: print(msg, file=sys.stderr),
        )
        print(f"records written to {records_path} ({time.monotonic() - start:.0f}s)")
        if not modes:
            return 0
    records = measure_mod.load_records(records_path)
    if args.check is not None:
        problems = check_pages(directory, records)
        for problem in problems:
            print(problem)
        if problems:
            print(f"{directory} is stale: run `xpops porting --write`", file=sys.stderr)
            return 1
        print(f"{directory} is up to date")
        return 0
    if args.write is not None:
        changed = write_pages(directory, records)
        print(f"{len(changed)} page(s) written to {directory}")
        return 0
    by_op = records.get("records", {})
    if args.name:
        width = shutil.get_terminal_size((100, 24)).columns
        page = render_page(SPECS[args.name], by_op.get(args.name, {}))
        print(page if args.markdown else markdown_to_text(page, width), end="")
        return 0
    rows = [("family", "op", "natives", "agree", "agree on valid inputs")]
    for spec in SPECS.values():
        listed, agree, valid = natives_summary(spec, by_op.get(spec.name, {}))
        rows.append((spec.family, spec.name, str(listed), str(agree), str(valid)))
    print("\n".join(aligned_table(rows)))
    return 0


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xpops",
        description="Array-API ML/vision ops, checked on every installed array library.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    conf = sub.add_parser("conformance", help="check ops against their specs on every backend")
    conf.add_argument("--op", action="append", default=[], help="op name (repeatable)")
    conf.add_argument(
        "--backend", action="append", default=[],
        help="backend name or prefix, e.g. numpy, torch, jax:cpu:x64 (repeatable)",
    )
    conf.add_argument(
        "--impl",
        help="MODULE (attributes named like ops) or MODULE:ATTR; a native counterpart a "
        "spec lists (e.g. torchvision.ops:nms) runs through its adapter",
    )
    conf.add_argument(
        "--max-examples", type=int, default=25,
        help="hypothesis cases per op, backend and dtype (default 25; raise for deeper runs)",
    )
    conf.add_argument("--seed", type=int, default=0)
    conf.add_argument(
        "--report", action="append", default=[],
        help="write results to PATH.json, PATH.md or PATH.html (repeatable)",
    )
    conf.add_argument(
        "--jobs", type=int, default=None,
        help="worker processes checking cells side by side (default: one per core)",
    )
    conf.add_argument(
        "--cell-timeout", type=float, default=1800.0, metavar="SECONDS",
        help="a cell still running after this long is stopped and reported as an error",
    )
    conf.add_argument(
        "--in-process", action="store_true",
        help="check every cell in this process (no isolation: a crash ends the run)",
    )
    conf.add_argument(
        "--pure", action="store_true",
        help="never delegate to a backend's own kernel: check the array-API code alone",
    )
    conf.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    conf.set_defaults(func=_cmd_conformance)

    bench = sub.add_parser("bench", help="time ops next to native peers, as ratios")
    bench.add_argument("--op", action="append", default=[])
    bench.add_argument("--backend", action="append", default=[])
    bench.add_argument("--repeats", type=int, default=7)
    bench.add_argument("--report", help="write results to PATH.json or PATH.html")
    bench.add_argument(
        "--pure", action="store_true",
        help="time xpops' pure array-API path, never a backend's own kernel",
    )
    bench.add_argument("-q", "--quiet", action="store_true")
    bench.set_defaults(func=_cmd_bench)

    voc = sub.add_parser(
        "voc-eval", help="PASCAL VOC per-class AP and mAP of detection files",
        description="Per-class AP and mAP with the PASCAL VOC devkit's rules. Annotations: "
        "VOC XML files; detections: <image>.txt files of 'class_index score x1 y1 x2 y2' "
        "lines, class_index indexing the class names.",
    )
    voc.add_argument("annotations_dir", metavar="ANNOTATIONS_DIR")
    voc.add_argument("detections_dir", metavar="DETECTIONS_DIR")
    voc.add_argument("--names", help="class names file, one per line (default: the 20 "
                     "VOC classes)")
    voc.add_argument("--ap-method", choices=("all_points", "voc11"), default="all_points",
                     help="all_points (VOC 2010+, default) or voc11 (VOC 2007 11-point)")
    voc.add_argument("--iou-threshold", type=float, default=0.5)
    voc.set_defaults(func=_cmd_voc_eval)

    coco = sub.add_parser(
        "coco-eval", help="COCO bbox evaluation of a results file, printed like pycocotools"
    )
    coco.add_argument("gt", metavar="GT.json", help="COCO instances (ground truth) file")
    coco.add_argument("dt", metavar="DT.json", help="COCO bbox results file")
    coco.add_argument("--backend", default="numpy", help="array library (default numpy)")
    coco.add_argument("--json", metavar="OUT", help="also write stats and per-class AP here")
    coco.set_defaults(func=_cmd_coco_eval)

    port = sub.add_parser(
        "porting", help="the porting reference: an op's page, or the list of ops",
        description="Without OP: the ops with their number of natives and how many agree "
        "with the spec. With OP: its page (signature, conventions, natives, measured "
        "differences). --write / --check regenerate or verify docs/; --measure re-runs the "
        "natives against the specs.",
    )
    port.add_argument("name", nargs="?", metavar="OP", help="op whose page to print")
    port.add_argument("--markdown", action="store_true", help="print the page as Markdown")
    port.add_argument("--write", nargs="?", const="", metavar="DIR",
                      help="regenerate the pages (default: docs/)")
    port.add_argument("--check", nargs="?", const="", metavar="DIR",
                      help="exit 1 when the pages are stale, missing or extra")
    port.add_argument("--docs", metavar="DIR", help="where the pages and records are")
    port.add_argument("--records", metavar="PATH", help="measured records (DIR/measured.json)")
    port.add_argument("--measure", action="store_true",
                      help="run the natives against their specs and record the results")
    port.add_argument("--missing", action="store_true",
                      help="with --measure: only natives without a record")
    port.add_argument("--library", help="with --measure: only this library's natives")
    port.add_argument("--op", action="append", default=[], help="with --measure: this op")
    port.add_argument("--backend", action="append", default=[],
                      help="with --measure: exact backend names (default numpy, torch:cpu, "
                      "jax:cpu, jax:cpu:x64)")
    port.add_argument("--max-examples", type=int, default=10)
    port.add_argument("--seed", type=int, default=0)
    port.add_argument("-q", "--quiet", action="store_true")
    port.set_defaults(func=_cmd_porting)

    lst = sub.add_parser("list", help="ops and their capabilities")
    lst.set_defaults(func=_cmd_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # the reader went away (`xpops porting | head`): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
