"""Who owns a sandbox container, and reaping the ones whose owner process is gone."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

log = logging.getLogger(__name__)

OWNER_LABEL = "swe-srl.owner"  # "<hostname>:<pid>:<process start time>"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a reused pid apart)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return stat[stat.rfind(b")") + 2:].split()[19].decode()


def owner_id(pid: int | None = None) -> str:
    """This process's owner label value."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or '?'}"


def owner_alive(owner: str) -> bool:
    """Whether the process an owner label names still runs (always True for other hosts)."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    return _start_time(int(pid_text)) == started


def reap_leftovers(client: Any, label: str) -> int:
    """Remove containers with `label` whose owner process on this host is gone; how many."""
    import docker

    reaped = 0
    # ignore_removed: a container another thread removes between the listing and its inspection
    # would otherwise make list() raise NotFound.
    for container in client.containers.list(all=True, filters={"label": f"{label}=1"}, ignore_removed=True):
        owner = container.labels.get(OWNER_LABEL, "")
        if owner and owner_alive(owner):
            continue
        try:
            container.remove(force=True)
            reaped += 1
            log.info("reaped leftover sandbox container %s (owner %s is gone)", container.name, owner or "unknown")
        except docker.errors.NotFound:
            pass
        except docker.errors.DockerException as err:
            log.warning("could not reap leftover container %s: %s", container.name, err)
    return reaped
