"""The second-copy rule, checked on every kept task: no copy of the package is readable from its sandbox.

The environment image has its copies deleted when it is built (images/copies.py); this checks
the result from where an agent stands: a fresh sandbox of the task's own image, as the agent
user, every file outside /testbed, archives opened. A task that fails is dropped (validate.py's
SECOND_COPY) rather than shipped with its answer beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

from swe_srl.errors import SandboxError
from swe_srl.images import copies
from swe_srl.sandbox.docker import DockerSandbox
from swe_srl.tasks.task import Task

SCRIPT = "/tmp/swe-srl-copies.py"
PRINTS = "/tmp/swe-srl-fingerprint.json"
SCAN_TIMEOUT = 300.0  # seconds; a whole image's files, read once


def copies_in_sandbox(task: Task, fingerprint: str) -> list[dict]:
    """The copies of the fingerprinted modules readable in a fresh sandbox of ``task``: {path, module, shared}."""
    sandbox = DockerSandbox.start(task)
    try:
        sandbox.write_file(SCRIPT, Path(copies.__file__).read_text())
        sandbox.write_file(PRINTS, fingerprint)
        seen = sandbox.run(f"python3 {SCRIPT} find {PRINTS}", timeout=SCAN_TIMEOUT)  # the sandbox is thrown away
    finally:
        sandbox.close()
    lines = seen.output.strip().splitlines()
    try:
        return json.loads(lines[-1]) if lines and seen.exit_code == 0 else _failed(task, seen.output)
    except json.JSONDecodeError:
        return _failed(task, seen.output)


def _failed(task: Task, output: str) -> list[dict]:
    tail = "\n".join(output.strip().splitlines()[-5:])
    raise SandboxError(f"task {task.instance_id}: the scan for second copies of its package failed:\n{tail}")
