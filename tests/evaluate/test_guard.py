"""The guard's host side: where it goes into an eval script, and which logs it distrusts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from swe_srl.evaluate.guard import RECORD_BEGIN, RECORD_END, distrust, guard_script
from swe_srl.tasks.eval_script import eval_script, pytest_eval_script


def _log(*records: dict, tests: str = "PASSED t.py::a\nFAILED t.py::b\n") -> str:
    lines = "\n".join(json.dumps(record) for record in records)
    return f"{tests}+ echo '{RECORD_BEGIN}'\n{RECORD_BEGIN}\n{lines}\n{RECORD_END}\n"


def _record(**fields) -> dict:
    return {"exitstatus": 1, "raised": ["t.py::b"], "clean": 1, "rewritten": [], "replaced": [], **fields}


def test_the_guard_goes_in_just_before_a_pytest_command_and_its_record_just_after():
    script, guarded = guard_script(pytest_eval_script("abc", "", ["t.py"]))
    assert guarded
    lines = script.split("\n")
    start = next(i for i, line in enumerate(lines) if "Start Test Output" in line)
    end = next(i for i, line in enumerate(lines) if "End Test Output" in line)
    assert lines[start - 1].startswith('export PYTEST_ADDOPTS="-p swe_srl_guard')
    assert "python3 -m pytest" in lines[start + 1] and end == start + 2
    assert lines[end + 1] == f"echo '{RECORD_BEGIN}'"


def test_a_script_that_does_not_run_pytest_is_left_alone():
    script = eval_script("abc", "", ["t.py"], "./tests/runtests.py --verbosity 2 admin")
    assert guard_script(script) == (script, False)


def _load_lines() -> str:
    """The lines a guarded script runs to write the plugin and export its settings."""
    script, _ = guard_script(pytest_eval_script("abc", "", ["t.py"]))
    return script[script.index("__srl_guard=$(mktemp -d)"):script.index(": '>>>>> Start Test Output'")]


def test_the_guard_lines_are_valid_bash_and_write_the_plugin(tmp_path):
    done = subprocess.run(["bash", "-c", f"set -u\n{_load_lines()}\ncat \"$__srl_guard/swe_srl_guard.py\"; "
                           "echo $PYTEST_ADDOPTS; rm -r \"$__srl_guard\""], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "def pytest_sessionfinish" in done.stdout and done.stdout.rstrip().endswith("-p swe_srl_guard")


def test_a_log_backed_by_its_record_is_believed():
    assert distrust(_log(_record()), {"t.py::a": "PASSED", "t.py::b": "FAILED"}) is None


@pytest.mark.parametrize(("log", "status", "why"), [
    ("PASSED t.py::a\nPASSED t.py::b\n", {"t.py::a": "PASSED", "t.py::b": "PASSED"}, "no guard record"),
    (_log(_record(replaced=["_pytest.python.Function.runtest"])), {}, "machinery was replaced"),
    (_log(_record(rewritten=["t.py::b"])), {}, "turned failing tests into passes"),
    (_log(_record()), {"t.py::a": "PASSED", "t.py::b": "PASSED"}, "passed tests that raised"),
    (_log(_record(raised=[], clean=1)), {"t.py::a": "PASSED", "t.py::c": "PASSED"}, "2 passes, but pytest ran 1"),
])
def test_a_log_its_record_does_not_back_is_distrusted(log, status, why):
    assert why in distrust(log, status)


def test_records_of_several_sessions_add_up():
    log = _log(_record(raised=[], clean=1), _record(raised=[], clean=1))
    assert distrust(log, {"t.py::a": "PASSED", "t.py::c": "PASSED"}) is None


def _guarded_pytest(folder, tests: str, conftest: str):
    """pytest under the guard plugin in ``folder`` on ``test_x.py`` (with ``conftest.py``): its output and record."""
    plugin_dir = folder / "guard"
    plugin_dir.mkdir()
    subprocess.run(["bash", "-c", f"__srl_guard={plugin_dir}\n{_load_lines().split(chr(10), 1)[1]}"], check=True)
    (folder / "test_x.py").write_text(tests)
    (folder / "conftest.py").write_text(conftest)
    record = folder / "record.jsonl"
    env = {"PYTHONPATH": str(plugin_dir), "SWE_SRL_GUARD_RECORD": str(record), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "swe_srl_guard", "-p", "no:cacheprovider", "-rA",
                           "test_x.py"], cwd=folder, env=env, capture_output=True, text=True)
    [seen] = [json.loads(line) for line in record.read_text().splitlines()]
    return done, seen


def test_the_plugin_records_what_pytest_saw_beneath_a_rewriting_hook(tmp_path):
    """The plugin itself, in this machine's pytest: a conftest hook turns a failure into a pass."""
    done, seen = _guarded_pytest(
        tmp_path, "def test_ok():\n    pass\n\n\ndef test_bad():\n    assert False\n",
        "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    report = outcome.get_result()\n    if report.failed:\n"
        "        report.outcome = 'passed'\n")
    assert done.returncode == 0 and "PASSED test_x.py::test_bad" in done.stdout, done.stdout
    assert seen["raised"] == ["test_x.py::test_bad"] and seen["rewritten"] == ["test_x.py::test_bad"]
    assert seen["clean"] == 1 and seen["replaced"] == []


def test_a_test_that_passes_on_a_rerun_is_not_taken_for_a_rewritten_one(tmp_path):
    """Rerun plugins report a flaky test's later pass; a teardown error has a report of its own."""
    done, seen = _guarded_pytest(
        tmp_path,
        "import pytest\n\nruns = []\n\n\ndef test_flaky():\n    runs.append(1)\n    assert len(runs) > 1\n\n\n"
        "@pytest.fixture\ndef broken():\n    yield\n    raise RuntimeError('teardown')\n\n\n"
        "def test_torn_down(broken):\n    pass\n",
        # a rerun plugin in miniature: run the protocol again after a failure
        "import pytest\nfrom _pytest.runner import runtestprotocol\n\n\n@pytest.hookimpl(tryfirst=True)\n"
        "def pytest_runtest_protocol(item, nextitem):\n    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, "
        "location=item.location)\n    reports = runtestprotocol(item, nextitem=nextitem, log=False)\n"
        "    if any(r.failed for r in reports if r.when == 'call'):\n"
        "        reports = runtestprotocol(item, nextitem=nextitem, log=False)\n"
        "    for report in reports:\n        item.ihook.pytest_runtest_logreport(report=report)\n    return True\n")
    assert "PASSED test_x.py::test_flaky" in done.stdout, done.stdout
    assert seen["raised"] == [] and seen["rewritten"] == [] and seen["replaced"] == []


def test_an_honest_failing_run_is_believed(tmp_path):
    """A failed call is followed by a passed teardown report: that is no rewritten report."""
    done, seen = _guarded_pytest(
        tmp_path, "import pytest\n\n\n@pytest.fixture\ndef resource():\n    yield 1\n\n\n"
        "def test_ok():\n    pass\n\n\ndef test_bad(resource):\n    assert resource == 2\n\n\n"
        "@pytest.fixture\ndef broken_setup():\n    raise RuntimeError('setup')\n\n\n"
        "def test_no_setup(broken_setup):\n    pass\n", "")
    assert done.returncode == 1 and "FAILED test_x.py::test_bad" in done.stdout, done.stdout
    assert seen["raised"] == ["test_x.py::test_bad", "test_x.py::test_no_setup"]
    assert seen["rewritten"] == [] and seen["clean"] == 1
    log = f"{done.stdout}\n{RECORD_BEGIN}\n{json.dumps(seen)}\n{RECORD_END}\n"
    assert distrust(log, {"test_x.py::test_ok": "PASSED", "test_x.py::test_bad": "FAILED",
                          "test_x.py::test_no_setup": "ERROR"}) is None
