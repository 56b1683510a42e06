"""The base image every image of ours is built on: Debian debootstrapped offline, with the agent user.

It is tagged by a hash of its recipe, so it is rebuilt only when the recipe changes.
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

from swe_srl.errors import SandboxError
from swe_srl.host.docker import docker_client, has_image

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
def build_lock(name: str) -> Iterator[None]:
    """One builder per image on this machine, so parallel runs do not build it twice.

    The lock file is removed by its holder before it lets go, so none is left in the temp folder. A
    waiter that then wins the lock on the removed file sees that the path no longer names the file
    it holds, and locks the path anew.
    """
    path = Path(tempfile.gettempdir()) / f"swe-srl-image-{hashlib.sha256(name.encode()).hexdigest()[:16]}.lock"
    while True:
        handle = open(path, "a")
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if os.path.samestat(os.fstat(handle.fileno()), os.stat(path)):
                break
        except FileNotFoundError:
            pass
        handle.close()  # the holder before us removed this file: lock the new one
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def ensure_base_image(client: Any | None = None, recipe: dict[str, Any] = BASE_RECIPE) -> str:
    """The tag of the debootstrapped base image, built if missing (about a minute, needs root)."""
    client = docker_client(client)
    tag = base_tag(recipe)
    if has_image(client, tag) is not None:
        return tag
    with build_lock(tag):
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
        log.info("importing %s into the engine", tag)
        # The tag rides in the repository name: Podman's Docker API ignores a separate `tag`.
        client.api.import_image_from_file(str(archive), repository=tag, changes=recipe["changes"])
    if has_image(client, tag) is None:
        raise SandboxError(f"the engine's import did not produce {tag}")
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
