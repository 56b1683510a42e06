"""Images that live in a registry (official SWE-bench / SWE-Gym instance images): pulled when missing."""

from __future__ import annotations

import logging
from typing import Any

import docker

from swe_srl.errors import SandboxError
from swe_srl.host.docker import docker_client, has_image

log = logging.getLogger(__name__)


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
