"""PodmanSandbox: the docker backend, driven through a Podman service's Docker API (no root daemon).

Everything but the client and two resource limits is DockerSandbox's: see docker.py for the
sandbox and host/podman.py for finding the service and why the file and process limits are given.
Images come into Podman's store by the same recipe as Docker's (images/): the base is imported from
its debootstrapped root file system and task images are built on it, by Podman's service.
"""

from __future__ import annotations

from typing import Any

from swe_srl.host.podman import container_ulimits, podman_client
from swe_srl.sandbox.docker import DockerSandbox


class PodmanSandbox(DockerSandbox):
    """A task's repository at /testbed in a Podman container; see DockerSandbox."""

    @staticmethod
    def connect(client: Any | None) -> Any:
        return podman_client(client)

    @staticmethod
    def engine_ulimits() -> list[Any]:
        return container_ulimits()
