"""Bundled tasks: each is well formed, its base sha is stable, and its eval script tells the gold
fix from the base on the host (no Docker): FAIL_TO_PASS fail at base and pass with gold.patch,
PASS_TO_PASS pass in both. The eval script itself is what runs, pointed at a temp copy."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT
from swebench.harness.log_parsers import PARSER_REGISTRY

from swe_srl.errors import DataError
from swe_srl.images.bundled import materialize_repo
from swe_srl.tasks.bundled import bundled_tasks, load_bundled_task
from swe_srl.tasks.environments import ENVIRONMENTS_DIR, bundled_task_dir
from swe_srl.tasks.eval_script import patch_files

TASKS = bundled_tasks()
IDS = [t.instance_id for t in TASKS]


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=repo, input=stdin, text=True, capture_output=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _run_eval(task, repo: Path, home: Path) -> dict[str, str]:
    """Run the task's eval script against ``repo`` and parse it as the swebench harness would."""
    bindir = home / "bin"
    bindir.mkdir(exist_ok=True)
    # The script calls python3; here that must be this interpreter (it has pytest).
    wrapper = bindir / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    script = task.eval_script.replace("cd /testbed", f"cd {repo}").replace("safe.directory /testbed", f"safe.directory {repo}")
    env = {**os.environ, "HOME": str(home), "PATH": f"{bindir}:{os.environ['PATH']}", "GIT_CONFIG_NOSYSTEM": "1"}
    # The task image has bare pytest; this venv's plugins (hypothesis, ...) only slow start-up.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("GIT_CONFIG_GLOBAL", None)
    env.pop("PYTHONPATH", None)  # the task's package must come from the repo, as in its image
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as in the image: caches appear, .gitignore hides them
    # One stream, as the harness captures it: the markers come from `set -x` on stderr.
    done = subprocess.run(["bash", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    log = done.stdout
    assert START_TEST_OUTPUT in log and END_TEST_OUTPUT in log, log[-3000:]
    body = log.split(START_TEST_OUTPUT, 1)[1].split(END_TEST_OUTPUT, 1)[0]
    return PARSER_REGISTRY[task.log_parser](body, None)


def test_at_least_eight_distinct_tasks():
    assert len(TASKS) >= 8
    assert len(set(IDS)) == len(IDS)
    assert len({t.base_commit for t in TASKS}) == len(TASKS)


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_task_fields(task):
    name = bundled_task_dir(task.instance_id).name
    assert task.instance_id == f"swe-srl__{name}-1"
    assert task.repo == f"swe-srl/{name}"
    assert task.version == "0.1"
    assert re.fullmatch(r"[0-9a-f]{40}", task.base_commit)
    assert task.image == f"swe-srl-task.{task.instance_id.lower()}:{task.base_commit[:12]}"
    assert (task.log_parser, task.eval_type) == ("parse_log_pytest", "pass_and_fail")
    assert task.gradable
    assert task.fail_to_pass and not set(task.fail_to_pass) & set(task.pass_to_pass)
    # The hidden tests touch only tests/, the gold patch only the package: the fix is in the code.
    assert all(p.startswith("tests/") for p in patch_files(task.test_patch))
    assert not any(p.startswith("tests/") for p in patch_files(task.patch))
    # An issue text, not a hint: it never quotes the gold patch's added lines.
    added = [l[1:].strip() for l in task.patch.splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert not [l for l in added if len(l) > 12 and l in task.problem_statement]


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_fail_at_base_pass_with_gold(task, tmp_path):
    repo = tmp_path / "testbed"
    assert materialize_repo(bundled_task_dir(task.instance_id), repo) == task.base_commit

    before = _run_eval(task, repo, tmp_path)
    assert _git(repo, "status", "--porcelain") == "", "the eval script must leave the tree as it found it"
    _git(repo, "apply", "-", stdin=task.patch)
    after = _run_eval(task, repo, tmp_path)

    for test in task.fail_to_pass:
        assert before.get(test) == "FAILED", (test, before.get(test))
        assert after.get(test) == "PASSED", (test, after.get(test))
    for test in task.pass_to_pass:
        assert before.get(test) == "PASSED", (test, before.get(test))
        assert after.get(test) == "PASSED", (test, after.get(test))
    # Every test the script ran is accounted for in one list or the other.
    assert set(after) == {*task.fail_to_pass, *task.pass_to_pass}


def _git_object(kind: str, body: bytes) -> bytes:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).digest()


def _tree_sha(folder: Path) -> bytes:
    """Git's tree hash of ``folder``, computed without git (files as 100644, caches skipped)."""
    entries = []
    for child in folder.iterdir():
        if child.name in {"__pycache__", ".pytest_cache"} or child.suffix == ".pyc":
            continue
        if child.is_dir():
            entries.append((child.name + "/", b"40000 " + child.name.encode() + b"\0" + _tree_sha(child)))
        else:
            sha = _git_object("blob", child.read_bytes())
            entries.append((child.name, b"100644 " + child.name.encode() + b"\0" + sha))
    return _git_object("tree", b"".join(e for _, e in sorted(entries)))


@pytest.mark.parametrize("task", TASKS, ids=IDS)
def test_base_commit_is_a_function_of_the_tree_alone(task):
    """The sha git made equals one computed from the files and the fixed identity and dates,
    so no git version, config, umask or clock can change it."""
    task_dir = bundled_task_dir(task.instance_id)
    who = "swe-srl <tasks@swe-srl.invalid> 1704067200 +0000"
    commit = f"tree {_tree_sha(task_dir / 'repo').hex()}\nauthor {who}\ncommitter {who}\n\nBase of {task_dir.name}\n"
    assert _git_object("commit", commit.encode()).hex() == task.base_commit


def test_materialize_ignores_caller_git_identity_and_umask(tmp_path, monkeypatch):
    task_dir = bundled_task_dir(TASKS[0].instance_id)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Someone Else")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2001-02-03T04:05:06+0100")
    old = os.umask(0o077)
    try:
        sha = materialize_repo(task_dir, tmp_path / "a")
    finally:
        os.umask(old)
    assert sha == TASKS[0].base_commit
    with pytest.raises(DataError, match="not empty"):
        materialize_repo(task_dir, tmp_path / "a")


def test_unknown_instance_id_has_no_dir():
    assert bundled_task_dir("nobody__nothing-1") is None


@pytest.fixture
def task_copy(tmp_path) -> Path:
    src = ENVIRONMENTS_DIR / "inikit"
    dest = tmp_path / "inikit"
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _edit_yaml(task_dir: Path, old: str, new: str) -> None:
    path = task_dir / "task.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('version: "0.1"', "version: 0.1", "version"),
        ("problem_statement: |", "problem_statmnt: |", "problem_statmnt"),
        ("FAIL_TO_PASS:\n", "FAIL_TO_PASS:\n  - 42\n", "FAIL_TO_PASS"),
        ("PASS_TO_PASS:\n", "PASS_TO_PASS: {}\nUNUSED:\n", "UNUSED"),
        ("instance_id: swe-srl__inikit-1", "instance_id: ''", "instance_id"),
    ],
)
def test_bad_task_yaml_names_file_and_field(task_copy, old, new, field):
    _edit_yaml(task_copy, old, new)
    with pytest.raises(DataError) as info:
        load_bundled_task(task_copy)
    assert info.value.field == field
    assert info.value.source == str(task_copy / "task.yaml")
    assert "task.yaml" in str(info.value) and field in str(info.value)


def test_missing_required_field(task_copy):
    path = task_copy / "task.yaml"
    path.write_text(re.sub(r"(?m)^repo: .*\n", "", path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(DataError, match="field 'repo': missing"):
        load_bundled_task(task_copy)


def test_invalid_yaml_names_line(task_copy):
    (task_copy / "task.yaml").write_text("instance_id: a\nrepo: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_bundled_task(task_copy)
    assert info.value.line is not None and "task.yaml" in str(info.value)


def test_missing_patch_names_the_file(task_copy):
    (task_copy / "gold.patch").unlink()
    with pytest.raises(DataError, match="gold.patch"):
        load_bundled_task(task_copy)
