"""The one Docker helper: a client with a clear error, our labels, starting and removing containers,
building and finding images, and reaping what owners that died left behind.

Every container we start carries a kind label (``<label>=1``: a sandbox, a grading or validation
container) and its owner process (host/owners.py), so leftovers of a crashed owner are found and
removed at the next start. It also has a lifetime: its command is a sleep of that many seconds and
the engine removes it when the sleep ends, so not even a leftover no reaper sees outlives the cap;
a reaper on any host removes one past its expiry (label ``swe-srl.expires``) whoever owns it.
"""

from __future__ import annotations

import io
import logging
import os
import tarfile
import time
from pathlib import Path
from typing import Any, Mapping

import docker

from swe_srl.errors import SandboxError, clip
from swe_srl.host.owners import DEFAULT_LIFETIME, OWNER_LABEL, owner_alive, owner_id

log = logging.getLogger(__name__)

EXPIRES_LABEL = "swe-srl.expires"  # unix time after which a container is past its lifetime


def docker_client(client: Any | None = None, *, timeout: int | None = None) -> Any:
    """`client`, or one from the environment (DOCKER_HOST...), checked to answer; SandboxError when none does."""
    if client is not None:
        return client
    try:
        client = docker.from_env(**({"timeout": timeout} if timeout else {}))
        client.ping()
    except docker.errors.DockerException as err:
        where = os.environ.get("DOCKER_HOST") or "the default socket"
        raise SandboxError(f"no Docker engine answers at {where} ({clip(str(err), 240)}); start one "
                           "(`sudo dockerd &`) or point DOCKER_HOST at one. `--sandbox local` (sandbox.backend: "
                           "local) runs the agents' sandboxes without it, in bubblewrap; grading by the swebench "
                           "harness still needs the engine") from None
    return client


def owned_labels(label: str, **more: str) -> dict[str, str]:
    """The labels of a container we start: its kind (``label=1``), its owner (this process), and ``more``."""
    return {label: "1", OWNER_LABEL: owner_id(), **more}


def start_container(client: Any, image: str, labels: Mapping[str, str], *, lifetime: float = DEFAULT_LIFETIME,
                    **options: Any) -> Any:
    """A detached container of ``image`` idling under docker-init for ``lifetime`` seconds, then removed by the
    engine; SandboxError saying why it could not start."""
    seconds = max(int(lifetime), 1)
    expires = {EXPIRES_LABEL: str(int(time.time()) + seconds)}
    try:
        return client.containers.run(image, ["sleep", str(seconds)], detach=True, init=True, auto_remove=True,
                                     labels={**labels, **expires}, **options)
    except docker.errors.DockerException as err:
        raise SandboxError(f"could not start a container from {image}: {err}") from None


def remove_container(container: Any) -> None:
    """Force-remove ``container``; one already gone is fine, any other failure a SandboxError."""
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as err:
        if err.status_code != 409:  # 409: the engine is removing it already (its lifetime ended)
            raise SandboxError(f"could not remove container {container.name}: {err}") from None
    except docker.errors.DockerException as err:
        raise SandboxError(f"could not remove container {container.name}: {err}") from None


def has_image(client: Any, name: str) -> Any | None:
    """The engine's image called ``name``, or None."""
    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None


def build_image(client: Any, tag: str, dockerfile: str, files: Mapping[str, bytes | Path],
                labels: Mapping[str, str]) -> None:
    """`docker build` from an in-memory context: the Dockerfile and ``files`` (bytes, or folders added whole)."""
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for arcname, content in {"Dockerfile": dockerfile.encode(), **files}.items():
            if isinstance(content, Path):
                tar.add(content, arcname=arcname)
            else:
                info = tarfile.TarInfo(arcname)
                info.size = len(content)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(content))
    context.seek(0)
    try:
        client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, forcerm=True,
                            labels=dict(labels))
    except docker.errors.BuildError as err:
        log_text = "".join(str(chunk.get("stream", "")) for chunk in err.build_log)
        raise SandboxError(f"building image {tag} failed: {err.msg}\n{log_text[-2000:]}") from None
    except docker.errors.APIError as err:
        raise SandboxError(f"building image {tag} failed: {err}") from None


def reap_leftovers(client: Any, label: str) -> int:
    """Remove containers with ``label`` whose owner process on this host is gone or whose lifetime is over; how many."""
    reaped = 0
    now = time.time()
    # ignore_removed: a container another thread removes between the listing and its inspection
    # would otherwise make list() raise NotFound.
    for container in client.containers.list(all=True, filters={"label": f"{label}=1"}, ignore_removed=True):
        owner = container.labels.get(OWNER_LABEL, "")
        expires = container.labels.get(EXPIRES_LABEL, "")
        expired = expires.isdigit() and int(expires) <= now
        if owner and owner_alive(owner) and not expired:
            continue
        try:
            container.remove(force=True)
            reaped += 1
            log.info("reaped leftover container %s (%s)", container.name,
                     "past its lifetime" if expired else f"owner {owner or 'unknown'} is gone")
        except docker.errors.NotFound:
            pass
        except docker.errors.DockerException as err:
            log.warning("could not reap leftover container %s: %s", container.name, err)
    return reaped
