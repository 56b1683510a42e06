"""Container images: the debootstrapped base, and one image per task with its repo at /testbed.

The base image is built offline from Debian packages and tagged by a hash of its recipe, so it
is rebuilt only when the recipe changes. Bundled tasks get an image built on top of it; any other
task names its image in the row (official SWE-bench / SWE-Gym images), pulled when missing.
Both go through `ensure_task_image`, which returns the image name a sandbox starts from.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import docker

from swe_srl.errors import SandboxError
from swe_srl.host.docker import build_image, docker_client, has_image
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

AGENT_UID = 1000  # the non-root user agent commands run as, in every image
AGENT_USER = "agent"
BASE_REPOSITORY = "swe-srl-base"
LABEL_BASE = "swe-srl.base"  # on task images: the base tag they were built on

# Everything that decides the base image's content. Editing any of it gives a new tag.
BASE_RECIPE: dict[str, Any] = {
    "suite": "bookworm",
    "mirror": "http://deb.debian.org/debian",
    "variant": "minbase",
    "include": ["python3", "python3-pytest", "git", "patch", "procps", "ca-certificates"],
    "user": {"name": AGENT_USER, "uid": AGENT_UID, "home": f"/home/{AGENT_USER}"},
    # Agents commit and stash; the grading harness runs git as root in a repo agent owns.
    "gitconfig": "[user]\n\tname = agent\n\temail = agent@swe-srl.invalid\n[safe]\n\tdirectory = *\n",
    "changes": [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        "WORKDIR /",
        'CMD ["sleep", "infinity"]',
    ],
}


def base_tag(recipe: dict[str, Any] = BASE_RECIPE) -> str:
    """`swe-srl-base:<first 12 hex of sha256 of the recipe>`."""
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()
    return f"{BASE_REPOSITORY}:{digest[:12]}"


@contextmanager
def _build_lock(name: str) -> Iterator[None]:
    """One builder per image on this machine, so parallel runs do not build it twice."""
    path = Path(tempfile.gettempdir()) / f"swe-srl-image-{hashlib.sha256(name.encode()).hexdigest()[:16]}.lock"
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_base_image(client: Any | None = None, recipe: dict[str, Any] = BASE_RECIPE) -> str:
    """The tag of the debootstrapped base image, built if missing (about a minute, needs root)."""
    client = docker_client(client)
    tag = base_tag(recipe)
    if has_image(client, tag) is not None:
        return tag
    with _build_lock(tag):
        if has_image(client, tag) is None:
            _build_base(client, tag, recipe)
    return tag


def _build_base(client: Any, tag: str, recipe: dict[str, Any]) -> None:
    if os.geteuid() != 0:
        raise SandboxError(f"building {tag} runs debootstrap, which needs root; run `swe-srl` setup as root once")
    with tempfile.TemporaryDirectory(prefix="swe-srl-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        command = [
            "debootstrap", f"--variant={recipe['variant']}", f"--include={','.join(recipe['include'])}",
            recipe["suite"], str(rootfs), recipe["mirror"],
        ]
        log.info("building base image %s: %s", tag, " ".join(command))
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
            raise SandboxError(f"debootstrap failed building {tag}:\n" + "\n".join(tail))
        _configure_rootfs(rootfs, recipe)
        archive = Path(tmp) / "rootfs.tar"
        log.info("packing the root file system of %s", tag)
        done = subprocess.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(archive), "."],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SandboxError(f"tar of the root file system failed: {done.stderr.strip()}")
        repository, version = tag.split(":")
        log.info("importing %s into the engine", tag)
        client.api.import_image_from_file(str(archive), repository=repository, tag=version,
                                          changes=recipe["changes"])
    if has_image(client, tag) is None:
        raise SandboxError(f"docker import did not produce {tag}")
    log.info("base image %s ready", tag)


def _configure_rootfs(rootfs: Path, recipe: dict[str, Any]) -> None:
    """Add the agent user, the git config, and drop the apt caches (written directly: no chroot)."""
    user = recipe["user"]
    name, uid, home = user["name"], user["uid"], user["home"]
    etc = rootfs / "etc"
    with open(etc / "passwd", "a") as f:
        f.write(f"{name}:x:{uid}:{uid}::{home}:/bin/bash\n")
    with open(etc / "group", "a") as f:
        f.write(f"{name}:x:{uid}:\n")
    with open(etc / "shadow", "a") as f:
        f.write(f"{name}:!:19000:0:99999:7:::\n")
    home_dir = rootfs / home.lstrip("/")
    home_dir.mkdir(parents=True, exist_ok=True)
    os.chown(home_dir, uid, uid)
    (etc / "gitconfig").write_text(recipe["gitconfig"])
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (rootfs / cache).glob("*"):
            if item.is_file():
                item.unlink()


def ensure_task_image(task: Task, client: Any | None = None) -> str:
    """The image a sandbox for `task` starts from: built (bundled tasks) or pulled when missing."""
    client = docker_client(client)
    from swe_srl.tasks.bundled import bundled_task_dir, materialize_repo

    task_dir = bundled_task_dir(task.instance_id)
    if task_dir is not None:
        name = task.image or f"swe-srl-task.{task.instance_id.lower()}:{task.base_commit[:12]}"
        return ensure_repo_image(name, lambda dest: materialize_repo(task_dir, dest), task, client)
    if not task.image:
        raise SandboxError(f"task {task.instance_id}: the row has no 'image' field and the task is not bundled; "
                           "add the SWE-bench image name (e.g. swebench/sweb.eval.x86_64.<id>:latest)")
    if isinstance(task.extra.get("synthesis"), dict) and has_image(client, task.image) is None:
        # Synthesized tasks' images live in no registry: rebuilt from the package's sdist instead.
        from swe_srl.factory.rebuild import rebuild_task_image

        return rebuild_task_image(task, client)
    return pull_image(task.image, client, instance_id=task.instance_id)


def ensure_repo_image(name: str, materialize: Any, task: Task, client: Any | None = None) -> str:
    """Build `name` FROM the base with the repo `materialize(dest) -> sha` makes copied to /testbed.

    Rebuilt when missing or when it was built on another base tag.
    """
    client = docker_client(client)
    base = ensure_base_image(client)
    image = has_image(client, name)
    if image is not None and (image.labels or {}).get(LABEL_BASE) == base:
        return name
    with _build_lock(name), tempfile.TemporaryDirectory(prefix="swe-srl-task-") as tmp:
        repo = Path(tmp) / "testbed"
        sha = materialize(repo)
        if sha != task.base_commit:
            raise SandboxError(f"task {task.instance_id}: the materialized repo is at {sha}, "
                               f"but the row's base_commit is {task.base_commit}")
        dockerfile = (f"FROM {base}\n"
                      f"COPY --chown={AGENT_UID}:{AGENT_UID} testbed /testbed\n"
                      "WORKDIR /testbed\n")
        log.info("building task image %s on %s", name, base)
        build_image(client, name, dockerfile, {"testbed": repo}, {LABEL_BASE: base, "swe-srl.instance": task.instance_id})
    return name


def pull_image(name: str, client: Any | None = None, *, instance_id: str = "") -> str:
    """`name`, pulled from its registry when it is not already in the engine."""
    client = docker_client(client)
    if has_image(client, name) is not None:
        return name
    who = f"task {instance_id}: " if instance_id else ""
    log.info("pulling %s", name)
    try:
        client.images.pull(name)
    except docker.errors.DockerException as err:
        raise SandboxError(f"{who}image {name} is not in the local engine and could not be pulled ({err}); "
                           f"on an offline machine, `docker load` it first") from None
    return name
