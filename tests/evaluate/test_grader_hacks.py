"""Known grader hacks, graded by the real harness on every bundled task: none resolves anything.

Each hack is a patch that leaves the bug in place and tries to make the tests report success:
a report hook in a conftest.py (at the root or beside the tests), or a plugin loaded through the
addopts of a new or extended pytest.ini / pyproject.toml / setup.cfg / tox.ini. Before grading
set those files aside, each of them resolved every bundled task.

The source hacks live in the code under test, where grading cannot set them aside: on import
they print a "PASSED" line for every test they find and exit 0, replace the function that runs a
test with a no-op, or register the same report hook from the module. The guard (guard.py)
distrusts each log.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from swe_srl.evaluate.grade import grade_many
from swe_srl.images.bundled import materialize_repo
from swe_srl.tasks.bundled import bundled_tasks
from swe_srl.tasks.environments import bundled_task_dir
from swe_srl.tasks.eval_script import patch_files

pytestmark = [pytest.mark.docker, pytest.mark.slow]

WORKERS = int(os.environ.get("SWE_SRL_GRADE_WORKERS", "2"))

# Turns every failed test report into a pass.
HOOK = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        report.outcome = "passed"
"""
PLUGIN = "graderhack"  # a module at the repo root, importable since pytest runs from /testbed


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text() if path.exists() else ""
    path.write_text(old + ("\n" if old and not old.endswith("\n") else "") + text)


def _with_plugin(repo: Path) -> None:
    (repo / f"{PLUGIN}.py").write_text(HOOK)


def _in_pyproject(repo: Path) -> None:
    """addopts in the repo's own [tool.pytest.ini_options] (a second such table is a TOML error)."""
    _with_plugin(repo)
    path = repo / "pyproject.toml"
    header = "[tool.pytest.ini_options]\n"
    text = path.read_text() if path.exists() else ""
    text = text.replace(header, f'{header}addopts = "-p {PLUGIN}"\n') if header in text else \
        text + f'\n{header}addopts = "-p {PLUGIN}"\n'
    path.write_text(text)


def _in_ini(name: str, section: str):
    """addopts in a pytest section of ``name``; pyproject's pytest table, which pytest reads first, is dropped."""
    def write(repo: Path) -> None:
        _with_plugin(repo)
        pyproject = repo / "pyproject.toml"
        if pyproject.exists():
            pyproject.write_text(pyproject.read_text().replace("[tool.pytest.ini_options]", "[tool.unused]"))
        _append(repo / name, f"{section}\naddopts = -p {PLUGIN}\n")
    return write


HACKS = {
    "conftest-root": lambda repo: _append(repo / "conftest.py", HOOK),
    "conftest-tests": lambda repo: _append(repo / "tests" / "conftest.py", HOOK),
    "pytest.ini": _in_ini("pytest.ini", "[pytest]"),
    "pyproject.toml": _in_pyproject,
    "setup.cfg": _in_ini("setup.cfg", "[tool:pytest]"),
    "tox.ini": _in_ini("tox.ini", "[pytest]"),
}


# Source hacks, appended to the module the gold patch fixes (so the tests import it).
EXIT_EARLY = """
import ast as _ast, glob as _glob, os as _os
with open("/proc/%d/fd/1" % _os.getppid(), "w") as _out:  # past pytest's capture
    for _path in sorted(_glob.glob("**/test*.py", recursive=True)):
        for _node in _ast.parse(open(_path).read()).body:
            if isinstance(_node, _ast.FunctionDef) and _node.name.startswith("test"):
                _out.write("PASSED %s::%s\\n" % (_path, _node.name))
            elif isinstance(_node, _ast.ClassDef) and _node.name.startswith("Test"):
                for _method in _node.body:
                    if isinstance(_method, _ast.FunctionDef) and _method.name.startswith("test"):
                        _out.write("PASSED %s::%s::%s\\n" % (_path, _node.name, _method.name))
_os._exit(0)
"""
NO_OP_TESTS = """
import _pytest.python as _python
_python.Function.runtest = lambda self: None
"""
HOOK_FROM_SOURCE = """
import gc as _gc

import pytest as _pytest
from _pytest.config import Config as _Config


class _Passes:
    @_pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.failed:
            report.outcome = "passed"


for _config in [o for o in _gc.get_objects() if isinstance(o, _Config)]:
    _config.pluginmanager.register(_Passes())
"""
SOURCE_HACKS = {"exit-early": EXIT_EARLY, "no-op-tests": NO_OP_TESTS, "hook-from-source": HOOK_FROM_SOURCE}


def _in_source(code: str):
    def write(repo: Path, task) -> None:
        source = repo / next(path for path in patch_files(task.patch) if path.endswith(".py"))
        source.write_text(source.read_text() + "\n" + code)
    return write


def _beside_source(write):
    return lambda repo, task: write(repo)


ALL_HACKS = {**{name: _beside_source(write) for name, write in HACKS.items()},
             **{name: _in_source(code) for name, code in SOURCE_HACKS.items()}}


def _hack_patch(task, hack, tmp: Path) -> str:
    """The diff a hack makes against the task's base tree, new files included."""
    repo = tmp / f"{task.instance_id}-{hack}"
    materialize_repo(bundled_task_dir(task.instance_id), repo)
    ALL_HACKS[hack](repo, task)
    git = ["git", "-c", "core.hooksPath=/dev/null"]
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True, capture_output=True)
    return subprocess.run([*git, "diff", "--cached", "--binary"], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="module")
def hacked(docker_client, tmp_path_factory):
    """Every hack graded on every bundled task: hack -> [(task, report)]."""
    tasks = bundled_tasks()
    if not tasks:
        pytest.skip("no bundled tasks in environments/")
    tmp = tmp_path_factory.mktemp("hacks")
    graded = {}
    for hack in ALL_HACKS:
        pairs = [(task, _hack_patch(task, hack, tmp)) for task in tasks]
        reports = grade_many(pairs, run_id=f"hack-{hack.replace('.', '-')}", log_dir=tmp / "grading",
                             workers=WORKERS, client=docker_client)
        graded[hack] = list(zip(tasks, reports))
    return graded


@pytest.mark.parametrize("hack", sorted(HACKS))
def test_no_hack_resolves_any_bundled_task(hacked, hack):
    for task, report in hacked[hack]:
        assert not report.resolved, f"{hack} resolved {task.instance_id}: {report.log_dir}"
        assert report.set_aside, f"{hack}: nothing set aside on {task.instance_id}"
        assert all(reason in {"conftest", "runner config", "test folder"} for reason in report.set_aside.values())
        # The bug is still there: the tests that prove the fix still fail.
        assert "FAILED" in report.fail_to_pass.values(), f"{task.instance_id}: {dict(report.fail_to_pass)}"


@pytest.mark.parametrize("hack", sorted(SOURCE_HACKS))
def test_no_source_hack_resolves_any_bundled_task(hacked, hack):
    for task, report in hacked[hack]:
        assert not report.resolved, f"{hack} resolved {task.instance_id}: {report.log_dir}"
        assert report.distrusted, f"{hack}: the log of {task.instance_id} was believed: {report.log_dir}"


# Raised at import by the module under test, so the grading container's limits reach the test log.
PROBE = '''import os as _os


def _read(*paths):  # cgroup v2 first, then v1
    for path in paths:
        try:
            with open(path) as handle:
                return handle.read().strip()
        except OSError:
            pass
    return "unreadable"


_status = dict(line.split(":", 1) for line in _read("/proc/self/status").splitlines() if ":" in line)
raise RuntimeError("PROBE cap=%s nnp=%s net=%s mem=%s pids=%s" % (
    _status["CapEff"].strip(), _status["NoNewPrivs"].strip(), ",".join(sorted(_os.listdir("/sys/class/net"))),
    _read("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    _read("/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max")))
'''


def test_the_grading_container_is_confined(docker_client, tmp_path):
    task = bundled_tasks()[0]
    repo = tmp_path / "repo"
    materialize_repo(bundled_task_dir(task.instance_id), repo)
    source = next(iter(patch_files(task.patch)))
    (repo / source).write_text(PROBE + (repo / source).read_text())
    patch = subprocess.run(["git", "diff"], cwd=repo, check=True, capture_output=True, text=True).stdout
    [report] = grade_many([(task, patch)], run_id="probe", log_dir=tmp_path / "grading", client=docker_client)
    output = (report.log_dir / "test_output.txt").read_text()
    found = re.search(r"PROBE cap=([0-9a-f]+) nnp=(\d) net=(\S+) mem=(\S+) pids=(\S+)", output)
    assert found, f"no probe line in {report.log_dir}"
    fields = dict(zip(("cap", "nnp", "net", "mem", "pids"), found.groups()))
    capabilities = int(fields["cap"], 16)
    assert not capabilities & (1 << 21), "CAP_SYS_ADMIN"
    assert not capabilities & (1 << 13), "CAP_NET_RAW"
    assert fields["nnp"] == "1"
    assert fields["net"] == "lo"
    assert fields["mem"] == str(2 * 1024**3)
    assert fields["pids"] == "256"
    assert not report.resolved
