"""Rebuild a synthesized task's image on another machine from its row alone.

Task images are never pushed anywhere. The row's `synthesis` field names the package and version,
and the repos are deterministic (host/git.py), so the image can be made again: download the sdist,
unpack it (its commit must be the recorded `pristine_commit`), build the environment image, undo
the gold patch to get the bug back (its commit must be the row's base_commit), and build the task
image on top. Any mismatch is an error naming the task, never a silently different task.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from swe_srl.errors import SandboxError, SweSrlError
from swe_srl.factory import image
from swe_srl.factory.sdist import REPO_COMMIT
from swe_srl.host import git
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path.home() / ".cache" / "swe-srl" / "factory"


def rebuild_task_image(task: Task, client: Any, cache: Path = DEFAULT_CACHE) -> str:
    """Make ``task.image`` from its `synthesis` record; SandboxError naming the task when it cannot."""
    from swe_srl.factory.synthesize import prepare_package

    meta = task.extra.get("synthesis")
    who = f"task {task.instance_id}"
    if not isinstance(meta, dict) or not all(k in meta for k in ("package", "version", "pristine_commit")):
        raise SandboxError(f"{who}: its 'synthesis' field lacks package, version or pristine_commit; "
                           "cannot rebuild its image")
    spec = f"{meta['package']}=={meta['version']}"
    log.info("%s: image %s is not here; rebuilding it from %s", who, task.image, spec)
    try:
        prepared = prepare_package(spec, cache, client)
        if prepared.base_sha != meta["pristine_commit"]:
            raise SandboxError(f"{who}: {spec}'s sdist unpacks to commit {prepared.base_sha[:12]}, but the task was "
                               f"made from {meta['pristine_commit'][:12]}; the sdist changed, cannot rebuild")
        with tempfile.TemporaryDirectory(prefix="swe-srl-rebuild-") as tmp:
            work = Path(tmp) / "work"
            git.export_commit(prepared.pristine, prepared.base_sha, work, REPO_COMMIT)
            # The gold patch turns the bug into the fix; applied in reverse it puts the bug back.
            git.git(["apply", "-R", "--whitespace=nowarn", "-"], work, stdin=task.patch.encode())
            changed = [p for p in git.git(["diff", "--name-only", "HEAD"], work).split() if p]
            sha = prepared.base_sha
            for path in changed:
                # A mutation changes one file; chaining keeps this right should a patch touch more.
                sha = git.root_commit_with(prepared.pristine, sha, path, (work / path).read_text(encoding="utf-8"),
                                           REPO_COMMIT)
            if sha != task.base_commit:
                raise SandboxError(f"{who}: the rebuilt buggy repo is commit {sha[:12]}, not the row's base_commit "
                                   f"{task.base_commit[:12]}")
            testbed = Path(tmp) / "testbed"
            git.export_commit(prepared.pristine, sha, testbed, REPO_COMMIT)
            tag = image.ensure_task_image(prepared.env, testbed, sha, prepared.name, client, spec)
    except SandboxError:
        raise
    except SweSrlError as err:  # PackageError, DataError: one message naming the task
        raise SandboxError(f"{who}: rebuilding its image failed: {err}") from None
    if tag != task.image:
        raise SandboxError(f"{who}: rebuilt image is {tag}, but the row names {task.image}")
    return tag

