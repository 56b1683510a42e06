"""Who owns what we start (containers, local sandboxes), and how long it may live.

An owner is a process, named so that it is told apart from every other one that could read the
name: ``<hostname>:<boot id>:<pid namespace>:<pid>:<process start time>``. Hostnames repeat
across machines and containers, pids repeat across pid namespaces and reboots, and a pid is
reused within one: only a reader on the same host, boot and pid namespace can judge whether the
owner still runs, and for every other reader the owner counts as alive. What an owner no reader
can judge leaves behind is reaped by its lifetime instead (a container's expiry label, a local
sandbox's ``expires``), whoever owns it.
"""

from __future__ import annotations

import os
import socket
from functools import cache

OWNER_LABEL = "swe-srl.owner"
DEFAULT_LIFETIME = 24 * 3600.0  # seconds a container or local sandbox lives unless its starter says otherwise


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a reused pid apart)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return stat[stat.rfind(b")") + 2:].split()[19].decode()


@cache
def _machine() -> tuple[str, str, str]:
    """This reader's host name, boot id and pid namespace: where a pid means one process."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = "?"
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = "?"
    return socket.gethostname(), boot, namespace


def owner_id(pid: int | None = None) -> str:
    """This process's owner label value."""
    pid = os.getpid() if pid is None else pid
    return ":".join([*_machine(), str(pid), _start_time(pid) or "?"])


def owner_alive(owner: str) -> bool:
    """Whether the owner may still run: False only when this reader can see that it is gone.

    An owner on another host, boot or pid namespace, or named in an older form, counts as alive.
    """
    parts = owner.split(":")
    if len(parts) != 5 or tuple(parts[:3]) != _machine() or not parts[3].isdigit():
        return True
    return _start_time(int(parts[3])) == parts[4]
