"""The pytest plugin: --xpops-impl items and the xpops_conformance fixture."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

_MODULE = '''
from array_api_compat import array_namespace

import xpops


def softmax(x, /, *, axis=-1, where=None):
    return xpops.softmax(x, axis=axis, where=where)


def log_sigmoid(x, /):
    """Naive: log(1 / (1 + exp(-x))) underflows to -inf for very negative x."""
    xp = array_namespace(x)
    return xp.log(1 / (1 + xp.exp(-x)))
'''

# installed, the entry point loads the plugin; from a source checkout, -p does
_PLUGIN = () if any(e.value == "xpops.conformance.pytest_plugin"
                    for e in entry_points(group="pytest11")) else (
    "-p", "xpops.conformance.pytest_plugin")
_ARGS = (*_PLUGIN, "-p", "no:cacheprovider", "--xpops-backend=numpy",
         "--xpops-max-examples=2")


@pytest.fixture
def project(pytester):
    pytester.makepyfile(myops=_MODULE)
    pytester.syspathinsert()
    return pytester


def test_items_per_op_and_backend_pass_and_fail_with_a_reproducer(project):
    result = project.runpytest_inprocess(*_ARGS, "--xpops-impl=myops", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*xpops::softmax?numpy? PASSED*",
        "*xpops::log_sigmoid?numpy? FAILED*",
        "*FAIL log_sigmoid @ numpy*",
        "*input: (np.array(*",
    ])


def test_one_callable_with_an_op_and_the_op_filter(project):
    result = project.runpytest_inprocess(*_ARGS, "--xpops-impl=myops:softmax",
                                         "--xpops-op=softmax", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["xpops::softmax[[]numpy[]]"])
    result = project.runpytest_inprocess(*_ARGS, "--xpops-impl=myops", "--xpops-op=softmax")
    result.assert_outcomes(passed=1)


def test_a_native_the_specs_know_runs_through_its_adapter(project):
    pytest.importorskip("scipy")
    result = project.runpytest_inprocess(*_ARGS, "--xpops-impl=scipy.special:log_expit",
                                         "--collect-only", "-q")
    result.stdout.fnmatch_lines(["xpops::log_sigmoid[[]numpy[]]"])


def test_without_the_option_there_are_no_extra_items(project):
    project.makepyfile(test_mine="def test_one():\n    assert True\n")
    result = project.runpytest_inprocess(*_PLUGIN, "-p", "no:cacheprovider", "--collect-only",
                                         "-q")
    result.stdout.fnmatch_lines(["test_mine.py::test_one", "1 test collected*"])


def test_fixture_fails_a_naive_implementation(project):
    project.makepyfile(test_fixture='''
import myops


def test_correct(xpops_conformance):
    (result,) = xpops_conformance(myops.softmax, op="softmax", max_examples=2)
    assert result.status == "pass"


def test_naive(xpops_conformance):
    xpops_conformance(myops.log_sigmoid, op="log_sigmoid", max_examples=2)
''')
    result = project.runpytest_inprocess(*_PLUGIN, "-p", "no:cacheprovider", "test_fixture.py")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*FAIL log_sigmoid @ numpy*"])


def test_loading_the_plugin_imports_no_array_library():
    code = ("import sys, xpops.conformance.pytest_plugin; "
            "print(sorted(m for m in ('torch', 'jax', 'xpops.spec', 'hypothesis') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_one_callable_without_an_op_is_a_usage_error(project):
    result = project.runpytest_inprocess(*_ARGS, "--xpops-impl=myops:softmax")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*give exactly one --xpops-op*"])


def test_a_target_that_does_not_import_is_a_usage_error(project):
    result = project.runpytest_inprocess(*_ARGS, "--xpops-impl=no_such_module_xyz")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--xpops-impl: cannot import 'no_such_module_xyz'*"])
