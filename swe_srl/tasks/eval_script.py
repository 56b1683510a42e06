"""Eval scripts in the shape the swebench 5 harness runs and slices (its start/end markers)."""

from __future__ import annotations

import shlex

from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT

# A heredoc delimiter no patch line will equal.
_PATCH_END = "EOF_SWE_SRL_TEST_PATCH"


def patch_files(patch: str) -> dict[str, bool]:
    """Paths a git-format patch writes, each mapped to whether the patch creates it.

    Only the header of each file section (before its first hunk) is read, so a removed line
    that happens to start with "-- " is never taken for a header.
    """
    files: dict[str, bool] = {}
    in_header = False
    old: str | None = None
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            in_header, old = True, None
        elif not in_header:
            continue
        elif line.startswith("@@"):
            in_header = False
        elif line.startswith("--- "):
            old = line[4:].strip()
        elif line.startswith("+++ "):
            new = line[4:].strip()
            if new != "/dev/null":
                files[new[2:] if new.startswith("b/") else new] = old == "/dev/null"
    return files


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
