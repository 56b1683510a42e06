"""Eval scripts in the shape the swebench 5 harness runs and slices (its start/end markers)."""

from __future__ import annotations

import shlex

from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT

# A heredoc delimiter no patch line will equal.
_PATCH_END = "EOF_SWE_SRL_TEST_PATCH"


def pytest_eval_script(base_commit: str, test_patch: str, test_files: list[str]) -> str:
    """Restore the test files, apply the hidden tests, run pytest -rA on them, restore again.

    The harness applies the model's patch first, then runs this script as root in /testbed.
    """
    files = " ".join(shlex.quote(f) for f in test_files)
    restore = f"git checkout {base_commit} -- {files}" if test_files else ":"
    lines = [
        "#!/bin/bash",
        "set -uxo pipefail",
        "cd /testbed",
        "git config --global --add safe.directory /testbed",
        restore,
    ]
    if test_patch.strip():
        body = test_patch if test_patch.endswith("\n") else test_patch + "\n"
        lines.append(f"git apply -v - <<'{_PATCH_END}'\n{body}{_PATCH_END}")
    lines += [
        f": '{START_TEST_OUTPUT}'",
        f"python3 -m pytest -rA -p no:cacheprovider {files}",
        f": '{END_TEST_OUTPUT}'",
        restore,
    ]
    return "\n".join(lines) + "\n"
