"""Resource limits and process control for the local (bubblewrap) sandbox, from the host side.

Limits come from a per-sandbox cgroup where this process may make one (cgroup v1 controllers
pids, memory and cpu, or a v2 group with those enabled), else from rlimits. Each sandbox also
gets its own host uid when we are root, which is what makes RLIMIT_NPROC (counted per host
user) a per-sandbox process limit, and lets leftovers be found by uid.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from swe_srl.errors import ConfigError

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
UID_RANGE = (1_100_000, 1_900_000)  # host uids handed to sandboxes; far from any real account
CPU_PERIOD_US = 100_000


def parse_memory(text: str) -> int:
    """Bytes in a docker-style size ("512m", "2g", "1073741824")."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*", text.lower())
    if match is None:
        raise ConfigError(f"memory limit {text!r} is not a size like 512m or 2g")
    scale = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[match.group(2)]
    return int(float(match.group(1)) * scale)


def pick_uid() -> int:
    """A host uid that no running process uses."""
    used = {uid for _, uid in processes()}
    for _ in range(1000):
        uid = UID_RANGE[0] + secrets.randbelow(UID_RANGE[1] - UID_RANGE[0])
        if uid not in used:
            return uid
    raise RuntimeError("no free host uid for a sandbox")


def processes() -> list[tuple[int, int]]:
    """(pid, real uid) of every process on the host."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                found.append((int(entry.name), entry.stat().st_uid))
            except OSError:
                continue
    return found


def _status_field(pid: int, name: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return line.split()[1:]
    except OSError:
        return None
    return None


def pid_namespace(pid: int) -> str | None:
    """The pid namespace a process lives in, as the link text of /proc/PID/ns/pid."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def sweep(namespace: str, keep_inner: set[int], rounds: int = 16) -> list[int]:
    """SIGKILL every process of a pid namespace but the ones whose pid inside is in `keep_inner`.

    Processes are stopped first, round after round until no new one appears (a stopped process
    cannot fork, so a fork bomb cannot outrun the sweep), then killed. Returns their host pids.
    """
    stopped: set[int] = set()
    for _ in range(rounds):
        fresh = 0
        for pid, _uid in processes():
            if pid in stopped or pid_namespace(pid) != namespace:
                continue
            nspid = _status_field(pid, "NSpid")
            if not nspid or int(nspid[-1]) in keep_inner:
                continue
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            stopped.add(pid)
            fresh += 1
        if not fresh:
            break
    parents = {int((_status_field(pid, "PPid") or ["0"])[0]) for pid in stopped}
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # nsenter stops itself when its child is stopped, and would not reap it until continued.
    for parent in parents - stopped - {0}:
        if pid_namespace(parent) != namespace:
            try:
                os.kill(parent, signal.SIGCONT)
            except ProcessLookupError:
                pass
    return sorted(stopped)


def wait_exited(pid: int, timeout: float) -> bool:
    """Wait until `pid` has exited (gone or a zombie); False if it is still running at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        state = _status_field(pid, "State")
        if state is None or state[0] in ("Z", "X"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def wait_reaped(pids: list[int], timeout: float) -> None:
    """Wait (at most `timeout`) until none of `pids` is left, zombies included."""
    deadline = time.monotonic() + timeout
    while any(os.path.exists(f"/proc/{pid}") for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.002)


def kill_uid(uid: int) -> int:
    """SIGKILL every process of a host uid (a sandbox's own uid); returns how many."""
    killed = 0
    for _ in range(16):
        # Zombies cannot be killed and wait for their (host) reaper; they hold nothing.
        victims = [pid for pid, owner in processes() if owner == uid and _status_field(pid, "State") != ["Z", "(zombie)"]]
        if not victims:
            break
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    return killed


@dataclass
class CgroupSet:
    """The cgroup folders of one sandbox (one per v1 controller, or one v2 folder)."""

    dirs: dict[str, Path] = field(default_factory=dict)  # controller ("pids", "memory", "cpu") -> folder

    @property
    def procs_files(self) -> list[str]:
        """Where a process writes its pid to join every group (each v2 folder once)."""
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def remove(self, wait: float = 5.0) -> None:
        """Remove the folders once their processes are gone."""
        deadline = time.monotonic() + wait
        for folder in set(self.dirs.values()):
            while folder.exists():
                try:
                    folder.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        log.warning("cgroup %s still busy; left in place", folder)
                        break
                    time.sleep(0.05)
        self.dirs.clear()


def _own_paths() -> dict[str, str]:
    """Controller -> this process's cgroup path; key "" for the v2 hierarchy."""
    paths: dict[str, str] = {}
    try:
        text = Path("/proc/self/cgroup").read_text()
    except OSError:
        return paths
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def make_cgroups(name: str, *, pids: int, memory: int, cpus: float) -> CgroupSet:
    """A cgroup per controller we may write, with the limits set; empty where there is none."""
    groups = CgroupSet()
    own = _own_paths()
    for controller in ("pids", "memory", "cpu"):
        mount = CGROUP_ROOT / controller
        if controller not in own or not (mount / "cgroup.procs").exists():
            continue
        folder = mount / own[controller].lstrip("/") / name
        try:
            folder.mkdir()
            if controller == "pids":
                (folder / "pids.max").write_text(str(pids))
            elif controller == "memory":
                (folder / "memory.limit_in_bytes").write_text(str(memory))
                swap = folder / "memory.memsw.limit_in_bytes"
                if swap.exists():  # no swapping past the limit either
                    swap.write_text(str(memory))
            else:
                (folder / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
                (folder / "cpu.cfs_quota_us").write_text(str(int(cpus * CPU_PERIOD_US)))
            groups.dirs[controller] = folder
        except OSError as err:
            log.info("no %s cgroup for the sandbox (%s); falling back to rlimits", controller, err)
            try:
                folder.rmdir()
            except OSError:
                pass
    if not groups.dirs and "" in own and (CGROUP_ROOT / "cgroup.controllers").exists():
        folder = CGROUP_ROOT / own[""].lstrip("/") / name
        try:
            folder.mkdir()
            enabled = (folder / "cgroup.controllers").read_text().split()
            settings = {"pids": ("pids.max", str(pids)), "memory": ("memory.max", str(memory)),
                        "cpu": ("cpu.max", f"{int(cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}")}
            for controller, (knob, value) in settings.items():
                if controller in enabled:
                    (folder / knob).write_text(value)
                    groups.dirs[controller] = folder
            if not groups.dirs:
                folder.rmdir()
        except OSError as err:
            log.info("no cgroup v2 group for the sandbox (%s); falling back to rlimits", err)
    return groups


def prlimit_args(*, pids: int | None, memory: int | None, file_size: int) -> list[str]:
    """`prlimit` options for the limits no cgroup covers (None: leave that one alone)."""
    args = [f"--fsize={file_size}"]
    if pids is not None:
        args.append(f"--nproc={pids}")  # per host uid: only a per-sandbox uid makes this per sandbox
    if memory is not None:
        args.append(f"--as={memory}")  # per process, virtual: a rough stand-in for a memory cgroup
    return args
