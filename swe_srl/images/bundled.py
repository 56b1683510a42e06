"""Repository images: the base image with a repo at /testbed, for the bundled tasks (and tests' repos).

A bundled task's repo is made from environments/<name>/repo in one deterministic commit whose sha
is the row's base_commit (tasks/bundled.py computes the same sha from the files alone).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, Callable

from swe_srl.errors import DataError, SandboxError
from swe_srl.host.docker import build_image, docker_client, has_image
from swe_srl.host.git import FixedCommit, init_commit
from swe_srl.images.base import AGENT_UID, LABEL_BASE, build_lock, ensure_base_image
from swe_srl.tasks.bundled import BASE_AUTHOR, BASE_DATE, BASE_EMAIL, base_message
from swe_srl.tasks.environments import ENVIRONMENTS_DIR, tree_files
from swe_srl.tasks.image_source import BundledImage
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)


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
    files = tree_files(repo)
    if not files:
        raise DataError("repo/ holds no files", source=str(repo))
    dest.mkdir(parents=True, exist_ok=True)
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((repo / rel).read_bytes())
        target.chmod(0o644)
    commit = FixedCommit(email=BASE_EMAIL, message=base_message(task_dir), name=BASE_AUTHOR, date=BASE_DATE)
    return init_commit(dest, commit)


def environment_dir(task: Task, source: BundledImage) -> Path:
    """The environments/ folder a bundled task's repo comes from; SandboxError when it is not there."""
    task_dir = ENVIRONMENTS_DIR / source.environment
    if not (task_dir / "repo").is_dir():
        raise SandboxError(f"task {task.instance_id}: its bundled environment {source.environment!r} is not in "
                           f"{ENVIRONMENTS_DIR}")
    return task_dir


def ensure_bundled_image(task: Task, source: BundledImage, client: Any) -> str:
    """The image of a bundled task, built when missing."""
    task_dir = environment_dir(task, source)
    name = task.image or f"swe-srl-task.{task.instance_id.lower()}:{task.base_commit[:12]}"
    return ensure_repo_image(name, lambda dest: materialize_repo(task_dir, dest), task, client)


def ensure_repo_image(name: str, materialize: Callable[[Path], str], task: Task, client: Any | None = None) -> str:
    """Build `name` FROM the base with the repo `materialize(dest) -> sha` makes copied to /testbed.

    Rebuilt when missing or when it was built on another base tag.
    """
    client = docker_client(client)
    base = ensure_base_image(client)
    image = has_image(client, name)
    if image is not None and (image.labels or {}).get(LABEL_BASE) == base:
        return name
    with build_lock(name), tempfile.TemporaryDirectory(prefix="swe-srl-task-") as tmp:
        repo = Path(tmp) / "testbed"
        sha = materialize(repo)
        if sha != task.base_commit:
            raise SandboxError(f"task {task.instance_id}: the materialized repo is at {sha}, "
                               f"but the row's base_commit is {task.base_commit}")
        dockerfile = f"FROM {base}\nCOPY --chown={AGENT_UID}:{AGENT_UID} testbed /testbed\nWORKDIR /testbed\n"
        log.info("building task image %s on %s", name, base)
        build_image(client, name, dockerfile, {"testbed": repo}, {LABEL_BASE: base, "swe-srl.instance": task.instance_id})
    return name
