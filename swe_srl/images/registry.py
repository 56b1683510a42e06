"""Images that live in a registry (official SWE-bench / SWE-Gym instance images): pulled when missing."""

from __future__ import annotations

import logging
from typing import Any, Iterable

import docker

from swe_srl.errors import SandboxError
from swe_srl.host.docker import docker_client, has_image
from swe_srl.tasks.image_source import RegistryImage
from swe_srl.tasks.task import Task

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
                           f"{how_to_provide(name)}") from None
    return name


def require_registry_images(tasks: Iterable[Task], client: Any | None = None) -> None:
    """Before any agent runs: every registry image is in the engine or its registry answers for it.

    Only the registry's manifest is asked for (nothing is pulled here); the first image found
    in neither raises SandboxError naming it and how to provide it.
    """
    client = docker_client(client)
    for task in tasks:
        if not isinstance(task.image_source, RegistryImage) or not task.image:
            continue  # bundled and synthesized images are built here; a missing name is the row check's
        if has_image(client, task.image) is not None:
            continue
        try:
            client.images.get_registry_data(task.image)
        except docker.errors.DockerException as err:
            raise SandboxError(f"task {task.instance_id}: image {task.image} is not in the local engine and no "
                               f"registry answers for it ({err}); {how_to_provide(task.image)}") from None


def how_to_provide(name: str) -> str:
    """What to run to get ``name`` into an engine that cannot reach its registry."""
    return (f"on a machine with network access run `docker pull {name}` and `docker save {name} -o image.tar`, "
            f"copy image.tar here and run `docker load -i image.tar` (`podman load -i image.tar` for the podman "
            f"backend)")
