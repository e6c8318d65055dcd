"""The HTML reports of ``xpops conformance`` and ``xpops bench``: self-contained, escaped,
well-formed, every op shown, and loaded without errors by headless Chromium where installed."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

import xpops.bench
from xpops.bench import BenchResult
from xpops.bench.report import to_html as bench_html
from xpops.bench.report import write_report as write_bench_report
from xpops.cli import main
from xpops.conformance.engine import Failure, OpResult
from xpops.conformance.report import to_html as conformance_html
from xpops.conformance.report import write_report as write_conformance_report

SCRIPT = "<script>alert('x')</script>"
CHECKS = ["namespace/device/dtype/shape", "values"]


def _conformance_results():
    failure = Failure("values", "float32", "got <nan> & worse", reproducer=f"(x={SCRIPT!r})")
    return [
        OpResult("softmax", "numpy", "pass", 12, 1e-7, 0.25, CHECKS),
        OpResult("softmax", "torch:cpu", "fail", 12, 0.5, 40.0, CHECKS, [failure]),
        OpResult("softmax", "cupy", "not installed", reason="No module named 'cupy'"),
        OpResult("sigmoid", "numpy", "pass", 8, 0.0, 0.0, CHECKS,
                 unsupported={"where= <mask>": 3}),
        OpResult("sigmoid", "torch:cpu", "not provided"),
        OpResult("sigmoid", "cupy", "not installed", reason="No module named 'cupy'"),
        # a status this module has never heard of renders as its text, neutral
        OpResult("iou", "numpy", "unsupported", reason="native lacks <option>"),
    ]


def _bench_results():
    def row(op, backend, workload, ratio, target):
        met = None if target is None else ratio <= target
        return BenchResult(op, backend, workload, "peer<fn>", 2e-3 * ratio, 2e-3, ratio,
                           target, met, 3)

    return [
        row("softmax", "numpy", "4096x4096 float32", 0.9, 1.5),
        row("softmax", "torch:cpu", "4096x4096 float32", 2.5, 1.5),
        row("sigmoid", "numpy", "<rows>", float("inf"), None),
        row("binary_iou", "jax:cpu", "masks", 1.2, 2.0),
    ]


class _Checker(HTMLParser):
    """Records text, attributes and every tag that closes out of order."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.text, self.attrs = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.attrs += attrs
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.attrs += attrs

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _parse(page):
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == [], (checker.errors, checker.stack)
    return checker


def _checked(page):
    """The parsed page, after checking it is well-formed and loads nothing from outside."""
    checker = _parse(page)
    assert "<script" not in page and "<link" not in page and "<img" not in page
    for name, value in checker.attrs:
        if name in ("src", "href"):
            assert value.startswith("#"), (name, value)  # in-page anchors only
    assert not re.search(r"url\(", page)
    return checker, "".join(checker.text)


def test_conformance_html_grid_failures_and_escaping():
    results = _conformance_results()
    page = conformance_html(results)
    checker, text = _checked(page)
    for r in results:
        assert r.op in text and r.backend in text
    # the reproducer is shown as text, never as markup
    assert SCRIPT in text and "&lt;script&gt;" in page
    assert "got <nan> & worse" in text
    # the failing cell links to its failure section
    anchors = dict(checker.attrs)
    assert anchors["href"] == "#fail-softmax-torch-cpu"
    assert 'id="fail-softmax-torch-cpu"' in page
    assert 'class="neutral" title="unsupported; native lacks &lt;option&gt;">unsupported<' in page
    assert "No module named &#x27;cupy&#x27;" in page  # legend of backends not installed
    assert "skipped as unsupported: where= &lt;mask&gt; (3)" in page
    assert "xpops" in text and "numpy " in text  # environment header with versions


def test_bench_html_bars_targets_and_table():
    results = _bench_results()
    page = bench_html(results)
    _, text = _checked(page)
    for op in ("softmax", "sigmoid", "binary_iou"):
        assert f'<section id="{op}"><h2>{op}</h2>' in page
    assert page.count("<rect ") == len(results)
    assert page.count('class="target"') == 3  # the informational row has no target
    assert page.count('<rect class="good"') == 2 and page.count('<rect class="bad"') == 1
    assert "<rows>" in text and "peer<fn>" in text and "&lt;rows&gt;" in page
    assert "2/3" in text  # targets met
    assert "5.00 ms" in text  # medians table: 2 ms x 2.5


def test_bench_html_without_results():
    page = bench_html([])
    _checked(page)
    assert "no benchmarks ran" in page


def test_reports_chosen_by_extension(tmp_path):
    conf, bench = _conformance_results(), _bench_results()
    for ext in ("json", "md", "html"):
        write_conformance_report(conf, str(tmp_path / f"c.{ext}"))
    for ext in ("json", "html"):
        write_bench_report(bench, str(tmp_path / f"b.{ext}"))
    assert json.loads((tmp_path / "c.json").read_text())["results"][0]["op"] == "softmax"
    assert json.loads((tmp_path / "b.json").read_text())[1]["ratio"] == 2.5
    assert (tmp_path / "c.md").read_text().startswith("| op |")
    assert (tmp_path / "b.html").read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match=r"\.json, \.md or \.html, got '.*c\.txt'"):
        write_conformance_report(conf, str(tmp_path / "c.txt"))
    with pytest.raises(ValueError, match=r"\.json or \.html, got '.*b\.md'"):
        write_bench_report(bench, str(tmp_path / "b.md"))


def test_cli_conformance_html(tmp_path, capsys):
    report = tmp_path / "c.html"
    code = main(["conformance", "--op", "softmax", "--backend", "numpy", "--max-examples", "3",
                 "-q", "--report", str(report)])
    assert code == 0
    text = "".join(_parse(report.read_text()).text)
    assert "softmax" in text and "pass" in text


def test_cli_bench_html_and_bad_extension(tmp_path, capsys, monkeypatch):
    calls = []

    def fake_run(**kwargs):
        calls.append(kwargs)
        return _bench_results()

    monkeypatch.setattr(xpops.bench, "run_benchmarks", fake_run)
    report = tmp_path / "b.html"
    assert main(["bench", "-q", "--report", str(report)]) == 0
    assert "binary_iou" in report.read_text()
    # a report path of an unknown kind is refused before anything runs
    assert main(["bench", "-q", "--report", str(tmp_path / "b.txt")]) == 2
    assert main(["conformance", "--op", "softmax", "--report", str(tmp_path / "c.csv")]) == 2
    assert len(calls) == 1
    err = capsys.readouterr().err
    assert "--report must end in .json or .html" in err
    assert "--report must end in .json, .md or .html" in err


# --- headless Chromium ------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (Debian package `chromium`)"
)


def _render(path, tmp_path):
    """The DOM Chromium builds from ``path`` and the console messages it logged."""
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the pages have no script, so any console message (a script error, a load the
    # Content-Security-Policy blocked) is a defect
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


@needs_chromium
def test_chromium_renders_both_reports(tmp_path):
    pages = {
        "conformance.html": (conformance_html(_conformance_results()),
                             {r.op for r in _conformance_results()}),
        "bench.html": (bench_html(_bench_results()), {r.op for r in _bench_results()}),
    }
    doms = {}
    for name, (page, ops) in pages.items():
        path = tmp_path / name
        path.write_text(page, encoding="utf-8")
        doms[name], console = _render(path, tmp_path)
        assert console == [], (name, console)
        checker = _Checker()
        checker.feed(doms[name])
        assert ops <= {t.strip() for t in checker.text}, (name, ops)  # each op as a cell/title
        assert "<script" not in doms[name]
    # the reproducer's markup stayed text in the live DOM
    assert "&lt;script&gt;alert" in doms["conformance.html"]


@needs_chromium
def test_chromium_check_sees_a_broken_page(tmp_path):
    """The console check is not vacuous: an external image and a script error are reported."""
    path = tmp_path / "broken.html"
    page = conformance_html(_conformance_results())
    path.write_text(page.replace("</main>", '<img src="http://example.invalid/x.png">'
                                           "<script>nosuch()</script></main>"))
    _, console = _render(path, tmp_path)
    assert any("example.invalid" in line for line in console)
    assert any("script" in line for line in console)
