"""The bundled tasks in environments/: small real repositories, each with a bug and its fix.

Each folder holds task.yaml (the row's hand-written fields), repo/ (the tree at base, no .git),
gold.patch and test.patch. The base commit is not stored: it is made by `materialize_repo` in one
deterministic commit, so the same tree gives the same sha on every machine.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from swe_srl.errors import DataError
from swe_srl.tasks.eval_script import patch_files, pytest_eval_script
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

ENVIRONMENTS_DIR: Path = Path(__file__).resolve().parents[2] / "environments"

# Fixed identity and dates, and no user or system git config (signing, autocrlf, hooks), so
# the commit sha depends on the tree alone.
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "swe-srl",
    "GIT_AUTHOR_EMAIL": "tasks@swe-srl.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "swe-srl",
    "GIT_COMMITTER_EMAIL": "tasks@swe-srl.invalid",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+0000",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}
_GIT_OPTS = ["-c", "core.autocrlf=false", "-c", "core.safecrlf=false", "-c", "commit.gpgsign=false",
             "-c", "init.defaultBranch=main", "-c", "core.hooksPath=/dev/null"]
# Build and test debris that may appear in repo/ when someone runs its tests in place.
_SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = (".pyc", ".pyo")

_FIELDS_STR = ("instance_id", "repo", "problem_statement", "version")
_FIELDS_LIST = ("FAIL_TO_PASS", "PASS_TO_PASS")
_FIELDS_OPTIONAL = ("hints_text", "created_at")

_commit_cache: dict[tuple[str, str], str] = {}


def _tree_files(repo: Path) -> list[Path]:
    """The files of a repo/ tree, relative and sorted, without caches."""
    files = []
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in filenames:
            path = Path(dirpath) / name
            if name.endswith(_SKIP_SUFFIXES):
                continue
            if path.is_symlink():
                raise DataError("symbolic links are not supported in a bundled repo", source=str(path))
            files.append(path.relative_to(repo))
    return sorted(files, key=lambda p: p.as_posix())


def _git(args: list[str], cwd: Path) -> str:
    env = {**os.environ, **_GIT_ENV}
    done = subprocess.run(["git", *_GIT_OPTS, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise DataError(f"git {args[0]} failed: {done.stderr.strip()}", source=str(cwd))
    return done.stdout


def materialize_repo(task_dir: Path, dest: Path) -> str:
    """Make a git repo at ``dest`` holding the task's base tree in one deterministic commit.

    ``dest`` must not exist or be an empty folder. Files are written with mode 0644 whatever
    their mode in the checkout, so the sha does not depend on how environments/ was copied.
    Returns the commit sha, which equals the task's ``base_commit``.
    """
    task_dir, dest = Path(task_dir), Path(dest)
    repo = task_dir / "repo"
    if not repo.is_dir():
        raise DataError("missing the repo/ folder", source=str(task_dir))
    if dest.exists() and any(dest.iterdir()):
        raise DataError("destination is not empty", source=str(dest))
    files = _tree_files(repo)
    if not files:
        raise DataError("repo/ holds no files", source=str(repo))
    dest.mkdir(parents=True, exist_ok=True)
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((repo / rel).read_bytes())
        target.chmod(0o644)
    _git(["init", "-q", "--template="], dest)
    _git(["add", "--", *(p.as_posix() for p in files)], dest)
    _git(["commit", "-q", "--no-verify", "-m", f"Base of {task_dir.name}"], dest)
    return _git(["rev-parse", "HEAD"], dest).strip()


def _fingerprint(repo: Path) -> str:
    """A cheap digest of the tree's listing, so an edited repo/ gets a fresh sha in-process."""
    digest = hashlib.sha256()
    for rel in _tree_files(repo):
        st = (repo / rel).stat()
        digest.update(f"{rel.as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def base_commit(task_dir: Path) -> str:
    """The sha `materialize_repo` gives for this task (made once in a temp dir, then cached)."""
    task_dir = Path(task_dir).resolve()
    key = (str(task_dir), _fingerprint(task_dir / "repo"))
    if key not in _commit_cache:
        with tempfile.TemporaryDirectory(prefix="swe-srl-base-") as tmp:
            _commit_cache[key] = materialize_repo(task_dir, Path(tmp) / "repo")
    return _commit_cache[key]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("missing task.yaml", source=str(path)) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise DataError(f"not valid YAML: {getattr(err, 'problem', err)}", source=str(path), line=line) from None
    if not isinstance(data, dict):
        raise DataError("expected a mapping of fields", source=str(path))
    return data


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
    if not patch_files(text):
        raise DataError("not a git-format patch (no 'diff --git' file sections)", source=str(path))
    return text


def load_bundled_task(task_dir: Path) -> Task:
    """The Task of one environments/<name>/ folder."""
    task_dir = Path(task_dir)
    yaml_path = task_dir / "task.yaml"
    data = _read_yaml(yaml_path)
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
    }
    return Task.from_row(row, source=str(yaml_path))


def _task_dirs() -> list[Path]:
    if not ENVIRONMENTS_DIR.is_dir():
        return []
    return sorted(p for p in ENVIRONMENTS_DIR.iterdir() if (p / "task.yaml").is_file())


def bundled_tasks() -> list[Task]:
    """Every bundled task, in folder-name order."""
    tasks = [load_bundled_task(d) for d in _task_dirs()]
    log.debug("loaded %d bundled tasks from %s", len(tasks), ENVIRONMENTS_DIR)
    return tasks


def bundled_task_dir(instance_id: str) -> Path | None:
    """The environments/<name>/ folder of a bundled task, or None when no task has that id."""
    for task_dir in _task_dirs():
        if _read_yaml(task_dir / "task.yaml").get("instance_id") == instance_id:
            return task_dir
    return None
