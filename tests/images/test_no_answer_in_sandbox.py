"""No bundled task's answer is readable from a sandbox, on any backend.

The answer is the lines the gold and test patches add. From inside a sandbox of a bundled task,
as the agent, every file outside /testbed is looked at: a patch file carrying half of a task's
added lines, a copy of a patched file (images/copies.py's rule on those lines), or a git
repository (a swe-srl checkout) whose history holds `environments/<name>/gold.patch`, is a leak.
One sandbox per backend is scanned for every bundled task's answer at once.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from swe_srl.images import copies
from swe_srl.sandbox.backends import start_sandbox
from swe_srl.tasks.bundled import bundled_tasks
from swe_srl.tasks.eval_script import patch_files

pytestmark = pytest.mark.slow
# Run in the sandbox with copies.py beside it: the leaks of the answer fingerprint, one per line.
SCAN = r'''
import json, os, subprocess, sys
sys.path.insert(0, os.path.dirname(__file__))
from copies import NEAR, SKIP, find_copies, line_hashes
prints, names = json.load(open(sys.argv[1])), sys.argv[2:]
answer = {h for hashes in prints.values() for h in hashes}
leaks = [c["path"] for c in find_copies(prints, skip=SKIP + ("/tmp/swe-srl-scan",))]
for folder, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(folder, d) not in SKIP + ("/tmp/swe-srl-scan",)]
    for name in files:
        path = os.path.join(folder, name)
        if name.endswith((".patch", ".diff")) and not os.path.islink(path):
            try:
                text = open(path, errors="replace").read()
            except OSError:
                continue
            added = set(line_hashes("\n".join(l[1:] for l in text.splitlines() if l.startswith("+"))))
            if added and len(added & answer) >= NEAR * len(added):
                leaks.append(path)
    if ".git" in dirs or ".git" in files:
        for task in names:
            seen = subprocess.run(["git", "-c", "safe.directory=*", "-C", folder, "log", "--all", "--format=%H", "-1",
                                   "--", f"environments/{task}/gold.patch"], capture_output=True, text=True)
            if seen.stdout.strip():
                leaks.append(f"{folder} (git history of environments/{task}/gold.patch)")
print(json.dumps(sorted(set(leaks))))
'''


def _added(patch: str) -> dict[str, str]:
    """Per file of ``patch``: the lines it adds (what the agent must write, not find)."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in patch.splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else ""
        elif line.startswith("+") and current:
            out.setdefault(current, []).append(line[1:])
    return {path: "\n".join(lines) for path, lines in out.items()}


@pytest.mark.parametrize("backend", [pytest.param("docker", marks=pytest.mark.docker),
                                     pytest.param("podman", marks=pytest.mark.podman), "local"])
def test_no_bundled_answer_is_readable_from_a_sandbox(backend, request, monkeypatch):
    if backend == "docker":
        request.getfixturevalue("docker_client")
    elif backend == "podman":  # the backend finds this session's service as a user's: through CONTAINER_HOST
        monkeypatch.setenv("CONTAINER_HOST", request.getfixturevalue("podman_service"))
    elif os.geteuid() != 0 or shutil.which("bwrap") is None:
        pytest.skip("the local sandbox needs root and bubblewrap")
    tasks = bundled_tasks()
    answer: dict[str, str] = {}
    for task in tasks:
        for patch in (task.patch, task.test_patch):
            assert patch_files(patch)
            answer |= _added(patch)
    prints = {path: hashes for path, hashes in copies.fingerprint(answer).items() if hashes}
    names = [task.image_source.environment for task in tasks]
    with start_sandbox(backend, tasks[0]) as sandbox:
        sandbox.write_file("/tmp/swe-srl-scan/copies.py", Path(copies.__file__).read_text())
        sandbox.write_file("/tmp/swe-srl-scan/scan.py", SCAN)
        sandbox.write_file("/tmp/swe-srl-scan/prints.json", json.dumps(prints))
        seen = sandbox.run(f"python3 /tmp/swe-srl-scan/scan.py /tmp/swe-srl-scan/prints.json {' '.join(names)}",
                           timeout=600)
    assert seen.exit_code == 0, seen.output
    assert json.loads(seen.output.strip().splitlines()[-1]) == [], seen.output
