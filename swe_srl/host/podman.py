"""A Docker-API client of a Podman service: the docker backend's code, run without a root Docker daemon.

Podman serves Docker's REST API from a process its user starts (`podman system service --time=0
unix://<socket>`); this finds that socket, checks it answers, and gives a docker SDK client of it.
The socket is ``CONTAINER_HOST`` (Podman's own variable, ``unix://`` form) when set, else the
rootless default ``$XDG_RUNTIME_DIR/podman/podman.sock``, else the rootful ``/run/podman/podman.sock``.

One difference reaches our containers: Podman sets the open-file and process limits of a container
itself (a million files) instead of inheriting its service's, and where the service may not raise
its own limits (inside another container, say) runc cannot start the container ("error setting
rlimit type 7"). `container_ulimits` gives limits no higher than this process's, as Docker would.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path
from typing import Any

import docker

from swe_srl.errors import SandboxError

SOCKET_ENV = "CONTAINER_HOST"
ROOTFUL_SOCKET = "/run/podman/podman.sock"


def podman_socket() -> str:
    """The service's address: ``$CONTAINER_HOST``, else the first default socket that exists."""
    if os.environ.get(SOCKET_ENV):
        return os.environ[SOCKET_ENV]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    candidates = [Path(runtime) / "podman" / "podman.sock"] if runtime else []
    for path in [*candidates, Path(ROOTFUL_SOCKET)]:
        if path.is_socket():
            return f"unix://{path}"
    return f"unix://{candidates[0] if candidates else ROOTFUL_SOCKET}"


def podman_client(client: Any | None = None) -> Any:
    """`client`, or one of the Podman service at `podman_socket()`; SandboxError saying how to start one."""
    if client is not None:
        return client
    address = podman_socket()
    try:
        client = docker.DockerClient(base_url=address)
        client.ping()
    except docker.errors.DockerException as err:
        path = address.removeprefix("unix://")
        raise SandboxError(
            f"no Podman service answers at {address} ({err}); start one with "
            f"`podman system service --time=0 unix://{path} &`, or set {SOCKET_ENV}=unix://<its socket>"
        ) from None
    return client


def container_ulimits() -> list[Any]:
    """The file and process limits a container needs on Podman: no higher than this process's, so runc never has
    to raise them.

    The process limit is also kept to the kernel's pid_max (no more processes can exist): a rootful service
    was seen holding that, lower than the shell that started it, and refusing any higher.
    """
    ceilings = {"nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
                "nproc": min(resource.getrlimit(resource.RLIMIT_NPROC)[1], _pid_max())}
    return [docker.types.Ulimit(name=name, soft=hard, hard=hard) for name, hard in ceilings.items()
            if hard != resource.RLIM_INFINITY]


def _pid_max() -> int:
    try:
        return int(Path("/proc/sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        return resource.RLIM_INFINITY
