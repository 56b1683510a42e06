"""The environments/ folder: one bundled task per sub-folder, found by its instance id.

Each folder holds task.yaml (the row's hand-written fields), repo/ (the tree at base, no .git),
gold.patch and test.patch; tasks/bundled.py reads them into Tasks.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml

from swe_srl.errors import DataError

ENVIRONMENTS_DIR: Path = Path(__file__).resolve().parents[2] / "environments"
# Build and test debris that may appear in repo/ when someone runs its tests in place.
_SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = (".pyc", ".pyo")


def read_yaml(path: Path) -> dict[str, Any]:
    """A task.yaml as a mapping; DataError naming the file (and line) when it is not one."""
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


def tree_files(repo: Path) -> list[Path]:
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


def task_dirs() -> list[Path]:
    """Every environments/<name>/ folder with a task.yaml, in name order."""
    if not ENVIRONMENTS_DIR.is_dir():
        return []
    return sorted(p for p in ENVIRONMENTS_DIR.iterdir() if (p / "task.yaml").is_file())


@functools.cache
def _dirs_by_id() -> dict[str, Path]:
    # Read once per process: every loaded row without an image_source asks (tasks/image_source.py).
    return {str(read_yaml(d / "task.yaml").get("instance_id")): d for d in task_dirs()}


def bundled_task_dir(instance_id: str) -> Path | None:
    """The environments/<name>/ folder of a bundled task, or None when no task has that id."""
    return _dirs_by_id().get(instance_id)
