"""Eval scripts in the shape the swebench 5 harness runs and slices (its start/end markers)."""

from __future__ import annotations

import shlex

from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT
from unidiff import PatchSet, UnidiffParseError

from swe_srl.errors import DataError

# A heredoc delimiter no patch line will equal.
_PATCH_END = "EOF_SWE_SRL_TEST_PATCH"


def patch_files(patch: str) -> dict[str, bool]:
    """Paths a git-format patch writes, each mapped to whether it is new at the base commit (created,
    or the target of a rename), as unidiff parses them (hunks by their line counts, so a removed
    line that starts with "-- " is never taken for a header). A section with no ``diff --git``
    line is not read: this is for git-made patches (a task's gold and test patches).

    Raises DataError when a hunk disagrees with its line counts: git would refuse to apply it too.
    """
    sections = patch[patch.find("diff --git "):] if "diff --git " in patch else ""
    try:
        parsed = PatchSet(sections)
    except UnidiffParseError as err:
        raise DataError(f"malformed patch: {err}") from None
    return {f.path: f.is_added_file or f.is_rename for f in parsed if not f.is_removed_file}


def pytest_eval_script(base_commit: str, test_patch: str, test_files: list[str]) -> str:
    """Restore the test files, apply the hidden tests, run pytest -rA on them, restore again."""
    files = " ".join(shlex.quote(f) for f in test_files)
    return eval_script(base_commit, test_patch, test_files, f"python3 -m pytest -rA -p no:cacheprovider {files}")


def eval_script(base_commit: str, test_patch: str, test_files: list[str], test_command: str,
                setup: tuple[str, ...] = ()) -> str:
    """The script SWE-bench grades with: restore the test files, apply the hidden tests, run them, restore.

    The harness applies the model's patch first, then runs this script as root in /testbed.
    ``setup`` runs first (activating the environment, locale exports); ``test_command`` runs
    between the harness's start and end markers. Test files the hidden test patch creates do not
    exist at ``base_commit``, so `git checkout` cannot restore them (and would refuse the whole
    list); they are removed instead, which also clears the way for `git apply` if the model's
    patch happened to create one.
    """
    added = {path for path, created in patch_files(test_patch).items() if created}
    existing = [f for f in test_files if f not in added]
    steps = []
    if existing:
        steps.append(f"git checkout {base_commit} -- {' '.join(shlex.quote(f) for f in existing)}")
    if added:
        steps.append(f"rm -f -- {' '.join(shlex.quote(f) for f in sorted(added))}")
    restore = "\n".join(steps) if steps else ":"
    lines = [
        "#!/bin/bash",
        "set -uxo pipefail",
        *setup,
        "cd /testbed",
        "git config --global --add safe.directory /testbed",
        restore,
    ]
    if test_patch.strip():
        body = test_patch if test_patch.endswith("\n") else test_patch + "\n"
        lines.append(f"git apply -v - <<'{_PATCH_END}'\n{body}{_PATCH_END}")
    lines += [f": '{START_TEST_OUTPUT}'", test_command, f": '{END_TEST_OUTPUT}'", restore]
    return "\n".join(lines) + "\n"
