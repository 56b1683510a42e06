"""The grading rule: a patch cannot change how its tests are run, only the code they test.

Before a patch is graded, the parts of it that write test files or files that configure or extend
the test runner are set aside, so the tests run against the base commit's versions of them (and
the task's test patch). Without this, a ten-line ``conftest.py`` whose report hook turns failures
into passes, or an ``addopts = -p plugin`` in a new ``pytest.ini``, is graded resolved.

A path is set aside when it is (reason in brackets):
- a ``conftest.py`` at any depth [conftest];
- a file that configures pytest or tox at any depth: ``pytest.ini``, ``.pytest.ini``,
  ``pytest.toml``, ``.pytest.toml``, ``tox.ini``, ``setup.cfg``, ``pyproject.toml``, whole
  [runner config];
- ``sitecustomize.py``, ``usercustomize.py`` or a ``.pth`` file, which Python runs at start-up
  [interpreter start-up];
- a file the task's test patch writes, or one named by a FAIL_TO_PASS / PASS_TO_PASS test id
  [test file];
- a file under a test folder of the task: the nearest ancestor named ``tests``, ``test`` or
  ``testing`` of a file the test patch writes (helper modules, fixtures, data) [test folder].

A fix that genuinely needs such a file (a dependency pin in ``pyproject.toml``, say) is rare; the
grading report names every file set aside, so such a task is seen, not silently failed. Plugins
installed outside the repository, or named by the base commit's own configuration and living in
the source tree, are not recognised by path: the rule guards what a patch can add, not what the
repository already loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Iterable, Mapping

from swe_srl.tasks.eval_script import patch_files
from swe_srl.tasks.task import Task

RUNNER_CONFIG = frozenset({"pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml", "tox.ini", "setup.cfg",
                           "pyproject.toml"})
STARTUP = frozenset({"sitecustomize.py", "usercustomize.py"})
TEST_FOLDERS = frozenset({"tests", "test", "testing"})

_SECTION = re.compile(r"^diff --git ", re.MULTILINE)


@dataclass(frozen=True)
class Screened:
    """A patch with the parts grading sets aside removed."""

    patch: str  # what is graded: the sections of the patch that write no protected file
    set_aside: Mapping[str, str]  # path -> reason, for each protected file the patch wrote


def protected_reason(path: str, test_files: frozenset[str], test_folders: frozenset[str]) -> str | None:
    """Why grading sets ``path`` aside, or None when the patch may change it."""
    pure = PurePosixPath(path)
    if pure.name == "conftest.py":
        return "conftest"
    if pure.name in RUNNER_CONFIG:
        return "runner config"
    if pure.name in STARTUP or pure.suffix == ".pth":
        return "interpreter start-up"
    if path in test_files:
        return "test file"
    if any(folder in pure.parents for folder in map(PurePosixPath, test_folders)):
        return "test folder"
    return None


def test_layout(test_patch: str, test_ids: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(test files, test folders) of a task, from its test patch and its test ids."""
    patched = patch_files(test_patch)
    files = set(patched)
    for test_id in test_ids:
        head = test_id.split("::", 1)[0]
        if "::" in test_id and head.endswith(".py"):
            files.add(head)
    folders = set()
    for path in patched:
        parents = [p for p in PurePosixPath(path).parents if p.name in TEST_FOLDERS]
        if parents:
            folders.add(str(parents[0]))
    return frozenset(files), frozenset(folders)


def screen(patch: str, test_patch: str, test_ids: Iterable[str]) -> Screened:
    """Split ``patch`` by file and drop the sections that write protected files."""
    files, folders = test_layout(test_patch, test_ids)
    starts = [m.start() for m in _SECTION.finditer(patch)]
    if not starts:
        return Screened(patch, {})
    kept = [patch[: starts[0]]]
    aside: dict[str, str] = {}
    for start, end in zip(starts, starts[1:] + [len(patch)]):
        section = patch[start:end]
        reasons = {path: protected_reason(path, files, folders) for path in _paths(section)}
        flagged = {path: reason for path, reason in reasons.items() if reason}
        if flagged:
            aside.update(flagged)
        else:
            kept.append(section)
    return Screened("".join(kept), aside)


def _paths(section: str) -> set[str]:
    """Every path one file section of a git patch names: written, deleted or renamed from.

    Read by hand, not with unidiff as patch_files is: this reads the model's patch, which must be
    screened whatever it holds, and unidiff raises on a hunk whose line counts are off (common in
    written patches, which git apply --recount takes); ``screen`` also keeps each section's text
    byte for byte, which unidiff's re-serialised sections do not promise. Only header lines
    (before the first @@) are read, so a removed line starting with "-- " is not a header.
    """
    paths: set[str] = set()
    for line in section.splitlines():
        if line.startswith("@@"):
            break
        for prefix, strip in (("--- ", "a/"), ("rename from ", ""), ("rename to ", ""), ("+++ ", "b/")):
            if line.startswith(prefix):
                name = line[len(prefix):].strip()
                if name != "/dev/null":
                    paths.add(name[len(strip):] if strip and name.startswith(strip) else name)
    if not paths:  # a mode change or binary section with no ---/+++ lines: read the diff --git line
        head = section.split("\n", 1)[0].split(" ")
        paths.update(p[2:] for p in head[2:4] if p[:2] in ("a/", "b/"))
    return paths


def screen_for(task: Task, patch: str) -> Screened:
    """``patch`` screened as grading screens it for ``task``: against its test patch and test ids."""
    return screen(patch, task.test_patch, [*task.fail_to_pass, *task.pass_to_pass])
