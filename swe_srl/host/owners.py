"""Who owns what we start (containers, local sandboxes): a process, named so that a reused pid is told apart."""

from __future__ import annotations

import os
import socket

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
