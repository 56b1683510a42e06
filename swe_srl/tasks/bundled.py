"""The bundled tasks in environments/ (tasks/environments.py) as Tasks: each a small real repository
with a bug and its fix.

The base commit is not stored: it is the sha of one deterministic commit of repo/ (fixed
identity, date and message; images/bundled.py makes that commit), computed here from the files
alone in git's object format, so the same tree gives the same sha on every machine.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from swe_srl.errors import DataError
from swe_srl.tasks.environments import read_yaml, task_dirs, tree_files
from swe_srl.tasks.eval_script import patch_files, pytest_eval_script
from swe_srl.tasks.image_source import FIELD as IMAGE_SOURCE
from swe_srl.tasks.image_source import BundledImage, image_source_json
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

# The base commit's author and committer, date (2024-01-01T00:00:00+0000) and message.
BASE_AUTHOR = "swe-srl"
BASE_EMAIL = "tasks@swe-srl.invalid"
BASE_DATE = "2024-01-01T00:00:00+0000"
_BASE_STAMP = "1704067200 +0000"  # BASE_DATE as git writes it in a commit object

_FIELDS_STR = ("instance_id", "repo", "problem_statement", "version")
_FIELDS_LIST = ("FAIL_TO_PASS", "PASS_TO_PASS")
_FIELDS_OPTIONAL = ("hints_text", "created_at")


def base_message(task_dir: Path) -> str:
    """The message of a bundled task's base commit."""
    return f"Base of {Path(task_dir).name}"


def _object_sha(kind: str, body: bytes) -> bytes:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).digest()


def _tree_sha(repo: Path, files: list[Path]) -> bytes:
    """Git's tree hash of ``files`` under ``repo``, every file a 100644 blob."""
    entries: dict[str, tuple[str, bytes]] = {}  # sort key -> (name, entry)
    subtrees: dict[str, list[Path]] = {}
    for rel in files:
        if len(rel.parts) == 1:
            sha = _object_sha("blob", (repo / rel).read_bytes())
            entries[rel.name] = (rel.name, b"100644 " + rel.name.encode() + b"\0" + sha)
        else:
            subtrees.setdefault(rel.parts[0], []).append(Path(*rel.parts[1:]))
    for name, inner in subtrees.items():
        # Git orders a tree's entries by name, a folder's name taken with a trailing slash.
        entries[name + "/"] = (name, b"40000 " + name.encode() + b"\0" + _tree_sha(repo / name, inner))
    return _object_sha("tree", b"".join(entry for _, (_, entry) in sorted(entries.items())))


def base_commit(task_dir: Path) -> str:
    """The sha of the task's base commit: one commit of repo/ under the fixed author, date and message."""
    task_dir = Path(task_dir)
    repo = task_dir / "repo"
    if not repo.is_dir():
        raise DataError("missing the repo/ folder", source=str(task_dir))
    files = tree_files(repo)
    if not files:
        raise DataError("repo/ holds no files", source=str(repo))
    who = f"{BASE_AUTHOR} <{BASE_EMAIL}> {_BASE_STAMP}"
    body = f"tree {_tree_sha(repo, files).hex()}\nauthor {who}\ncommitter {who}\n\n{base_message(task_dir)}\n"
    return _object_sha("commit", body.encode()).hex()


def _check_fields(data: dict[str, Any], path: Path) -> None:
    def fail(name: str, message: str) -> DataError:
        return DataError(message, source=str(path), field=name)

    unknown = set(data) - {*_FIELDS_STR, *_FIELDS_LIST, *_FIELDS_OPTIONAL}
    if unknown:
        raise fail(sorted(unknown)[0], "unknown field (a typo?)")
    for name in _FIELDS_STR:
        if name not in data or data[name] is None:
            raise fail(name, "missing")
        if not isinstance(data[name], str) or not data[name].strip():
            raise fail(name, f"expected a non-empty string, got {type(data[name]).__name__} (quote numbers)")
    for name in _FIELDS_LIST:
        value = data.get(name)
        if not isinstance(value, list) or not all(isinstance(t, str) and "::" in t for t in value):
            raise fail(name, "expected a list of pytest node ids like tests/test_x.py::test_y")
    if not data["FAIL_TO_PASS"]:
        raise fail("FAIL_TO_PASS", "empty: a task needs at least one test its fix makes pass")
    for name in _FIELDS_OPTIONAL:
        if name in data and not isinstance(data[name], str):
            raise fail(name, f"expected a string, got {type(data[name]).__name__}")


def _read_patch(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"missing {path.name}", source=str(path)) from None
    try:
        written = patch_files(text)
    except DataError as err:
        raise DataError(err.message, source=str(path)) from None
    if not written:
        raise DataError("not a git-format patch (no 'diff --git' file sections)", source=str(path))
    return text


def load_bundled_task(task_dir: Path) -> Task:
    """The Task of one environments/<name>/ folder."""
    task_dir = Path(task_dir)
    yaml_path = task_dir / "task.yaml"
    data = read_yaml(yaml_path)
    _check_fields(data, yaml_path)
    gold = _read_patch(task_dir / "gold.patch")
    test_patch = _read_patch(task_dir / "test.patch")
    sha = base_commit(task_dir)
    nodes = [*data["FAIL_TO_PASS"], *data["PASS_TO_PASS"]]
    test_files = sorted(set(patch_files(test_patch)) | {node.split("::", 1)[0] for node in nodes})
    instance_id = data["instance_id"]
    row = {
        **data,
        "base_commit": sha,
        "patch": gold,
        "test_patch": test_patch,
        "image": f"swe-srl-task.{instance_id.lower()}:{sha[:12]}",
        "eval_script": pytest_eval_script(sha, test_patch, test_files),
        "log_parser": "parse_log_pytest",
        "eval_type": "pass_and_fail",
        IMAGE_SOURCE: image_source_json(BundledImage(task_dir.name)),
    }
    return Task.from_row(row, source=str(yaml_path))


def bundled_tasks() -> list[Task]:
    """Every bundled task, in folder-name order."""
    tasks = [load_bundled_task(d) for d in task_dirs()]
    log.debug("loaded %d bundled tasks", len(tasks))
    return tasks
