"""Rebuild a synthesized task's image on another machine from its row alone.

Task images are never pushed anywhere. The row's `image_source` names the package and version,
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
from swe_srl.host import git
from swe_srl.images.package import PreparedPackage, prepare_package
from swe_srl.images.sdist import REPO_COMMIT
from swe_srl.images.synthesized import ensure_synthesized_image
from swe_srl.tasks.image_source import SynthesizedImage
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path.home() / ".cache" / "swe-srl" / "factory"


def rebuild_task_image(task: Task, source: SynthesizedImage, client: Any, cache: Path = DEFAULT_CACHE) -> str:
    """Make ``task.image`` from its image source; SandboxError naming the task when it cannot."""
    who = f"task {task.instance_id}"
    if not (source.package and source.version and source.pristine_commit):
        raise SandboxError(f"{who}: its image_source lacks package, version or pristine_commit; "
                           "cannot rebuild its image")
    spec = f"{source.package}=={source.version}"
    log.info("%s: image %s is not here; rebuilding it from %s", who, task.image, spec)
    try:
        prepared = prepare_package(spec, cache, client)
        if prepared.base_sha != source.pristine_commit:
            raise SandboxError(f"{who}: {spec}'s sdist unpacks to commit {prepared.base_sha[:12]}, but the task was "
                               f"made from {source.pristine_commit[:12]}; the sdist changed, cannot rebuild")
        with tempfile.TemporaryDirectory(prefix="swe-srl-rebuild-") as tmp:
            sha = _buggy_commit(task, prepared, Path(tmp) / "work")
            testbed = Path(tmp) / "testbed"
            git.export_commit(prepared.pristine, sha, testbed, REPO_COMMIT)
            tag = ensure_synthesized_image(prepared.env, testbed, sha, prepared.name, client, spec)
    except SandboxError:
        raise
    except SweSrlError as err:  # PackageError, DataError: one message naming the task
        raise SandboxError(f"{who}: rebuilding its image failed: {err}") from None
    if tag != task.image:
        raise SandboxError(f"{who}: rebuilt image is {tag}, but the row names {task.image}")
    return tag


def _buggy_commit(task: Task, prepared: PreparedPackage, work: Path) -> str:
    """The commit (in the pristine repo) of the task's buggy tree; it must be the row's base_commit."""
    git.export_commit(prepared.pristine, prepared.base_sha, work, REPO_COMMIT)
    # The gold patch turns the bug into the fix; applied in reverse it puts the bug back.
    git.git(["apply", "-R", "--whitespace=nowarn", "-"], work, stdin=task.patch.encode())
    changed = [p for p in git.git(["diff", "--name-only", "HEAD"], work).split() if p]
    sha = prepared.base_sha
    for path in changed:
        # A mutation changes one file; chaining keeps this right should a patch touch more.
        text = (work / path).read_text(encoding="utf-8")
        sha = git.root_commit_with(prepared.pristine, sha, path, text, REPO_COMMIT)
    if sha != task.base_commit:
        raise SandboxError(f"task {task.instance_id}: the rebuilt buggy repo is commit {sha[:12]}, not the row's "
                           f"base_commit {task.base_commit[:12]}")
    return sha
