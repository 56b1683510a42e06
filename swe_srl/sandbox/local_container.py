"""The bubblewrap "container" behind a LocalSandbox: its namespaces, its pid 1, and entering it.

bwrap makes new user, pid, mount, network, ipc and uts namespaces over an allowlist of the host's
top-level folders bound read-only (SHOWN_TOP: the system's programs and libraries), fresh /tmp,
/run and /home, and the repo copy at /testbed; nothing else of the host is there.
Its pid 1 is a small reaper (`INIT`) that lives until the pipe we hold on its stdin closes, at
close() or when this process dies; the kernel then kills every process inside. A pid 1 cannot
be signalled from inside its namespace, so the agent cannot end the sandbox with `kill -9 -1`.
Shells and one-off commands enter the namespaces with `nsenter`, like `docker exec`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Sequence

from swe_srl.errors import SandboxError
from swe_srl.sandbox import local_limits
from swe_srl.sandbox.base import SandboxLimits
from swe_srl.sandbox.local_workspace import Workspace

log = logging.getLogger(__name__)

TESTBED = "/testbed"
AGENT_UID = 1000
# The host's top-level folders the agent sees, read-only: the interpreter, git, pytest and the
# libraries they load, and no more. Everything else (other checkouts with their gold patches,
# home folders, data mounts) is absent: an allowlist, so a new host folder is hidden by default.
SHOWN_TOP = ("bin", "etc", "lib", "lib32", "lib64", "libx32", "sbin", "sys", "usr")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Joins the sandbox's cgroups, then runs the rest of the argv: `sh -c JOIN sh FILE... -- ARGV...`.
JOIN = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; shift; exec "$@"'
# pid 1: reap orphans as they end (a signal's wake-up byte ends the wait), leave when stdin closes.
INIT = """
import os, select, signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
wake_r, wake_w = os.pipe()
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)
while True:
    ready = select.select([0, wake_r], [], [])[0]
    if wake_r in ready:
        os.read(wake_r, 512)
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
    if 0 in ready and not os.read(0, 512):
        break
"""


class BwrapContainer:
    """One sandbox's namespaces and the processes in them, seen from the host."""

    def __init__(self, workspace: Workspace, limits: SandboxLimits, hide: Sequence[Path] = ()) -> None:
        self.workspace = workspace
        self.limits = limits
        self.hide = tuple(Path(p) for p in hide)
        self.memory = local_limits.parse_memory(limits.memory)
        self.cgroups = local_limits.CgroupSet()
        self.process: subprocess.Popen[bytes] | None = None
        self.init_pid = 0  # host pid of the sandbox's pid 1
        self.pid_namespace = ""  # "pid:[inode]", to tell the sandbox's processes apart on the host
        self._rlimits: list[str] = []

    def start(self) -> None:
        """Make the namespaces and pid 1 (again, after stop(): the workspace and cgroups are kept)."""
        ws, limits = self.workspace, self.limits
        if not self.cgroups.dirs:
            self.cgroups = local_limits.make_cgroups(ws.root.name, pids=limits.pids, memory=self.memory,
                                                     cpus=limits.cpus)
            ws.save_meta(cgroups=[str(p) for p in self.cgroups.dirs.values()])
        # RLIMIT_NPROC counts per host uid: the sandbox's own uid makes it a per-sandbox limit.
        self._rlimits = local_limits.prlimit_args(pids=limits.pids, file_size=limits.file_size,
                                                  memory=None if "memory" in self.cgroups.dirs else self.memory)
        info_read, info_write = os.pipe()
        argv = self._wrap(self._setpriv() + ["bwrap", *self._bwrap_args(), "--info-fd", str(info_write),
                                             "--", "python3", "-I", "-S", "-c", INIT])
        try:
            self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, pass_fds=(info_write,), env={"PATH": PATH},
                                            start_new_session=True)
        finally:
            os.close(info_write)
        with os.fdopen(info_read, "rb") as info_file:
            raw = info_file.read()  # bwrap closes the fd once the namespaces are made
        if not raw:
            assert self.process.stderr is not None
            self.process.wait(timeout=10)
            why = self.process.stderr.read().decode(errors="replace").strip()
            raise SandboxError(f"bubblewrap did not start: {why[-500:] or 'no reason given'}")
        info = json.loads(raw)
        self.pid_namespace = f"pid:[{info['pid-namespace']}]"
        self.init_pid = int(info["child-pid"])
        self._wait_for_init()
        try:  # the OOM killer should take the agent's hog, not the sandbox's pid 1
            Path(f"/proc/{self.init_pid}/oom_score_adj").write_text("-1000")
        except OSError:
            pass

    def _wait_for_init(self, timeout: float = 30.0) -> None:
        """Wait until bwrap has exec'd pid 1: only then are the uid maps and mounts in place."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if Path(f"/proc/{self.init_pid}/cmdline").read_bytes().startswith(b"python3\0"):
                    return
            except OSError:
                break  # it died: bwrap's stderr says why
            time.sleep(0.002)
        why = ""
        if self.process is not None and self.process.poll() is not None and self.process.stderr is not None:
            why = self.process.stderr.read().decode(errors="replace").strip()[-500:]
        raise SandboxError(f"the sandbox's pid 1 did not start: {why or 'timed out'}")

    def alive(self) -> bool:
        return bool(self.init_pid) and not local_limits.wait_exited(self.init_pid, timeout=0.0)

    def stop(self) -> None:
        """Kill every process of the container (pid 1 first: the kernel takes the rest)."""
        # Killing pid 1 while the shells' nsenter parents still live lets them reap their
        # children; orphans would go to the host's init, and the namespace waits for their reaping.
        if self.init_pid:
            try:
                os.kill(self.init_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            local_limits.wait_exited(self.init_pid, timeout=5.0)
        if self.process is not None:
            try:  # bwrap leaves by itself once it has reaped pid 1 (killed first, pid 1 is orphaned)
                self.process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            for stream in (self.process.stdin, self.process.stderr):
                if stream is not None:
                    stream.close()
            self.process = None

    def remove(self) -> None:
        """Stop, kill whatever still runs as the sandbox's host uid, and remove the cgroups."""
        self.stop()
        local_limits.kill_uid(self.workspace.host_uid)
        self.cgroups.remove()

    def sweep(self, keep_inner: set[int]) -> int:
        """SIGKILL every process inside but pid 1 and `keep_inner` (pids as seen inside); how many."""
        killed = local_limits.sweep(self.pid_namespace, {1, *keep_inner})
        # Let their parents reap them before anyone closes a shell's transport: a shell whose
        # nsenter parent is killed first is orphaned to the host's init, which may reap it late,
        # and until then the sandbox's pid namespace cannot end.
        local_limits.wait_reaped(killed, timeout=2.0)
        return len(killed)

    def enter(self, argv: list[str]) -> list[str]:
        """`argv` run inside the namespaces as the agent, in /testbed, under the limits."""
        return self._wrap(["nsenter", "--target", str(self.init_pid), "--user", "--mount", "--pid", "--net",
                           "--ipc", "--uts", "--root", "--wd", f"--setuid={AGENT_UID}", f"--setgid={AGENT_UID}",
                           "--", "setpriv", "--no-new-privs", "--", *argv])

    def _setpriv(self) -> list[str]:
        uid = self.workspace.host_uid
        return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]

    def _wrap(self, argv: list[str]) -> list[str]:
        """`argv` inside the sandbox's cgroups and under its rlimits."""
        limited = (["prlimit", *self._rlimits, "--"] if self._rlimits else []) + argv
        files = self.cgroups.procs_files
        return ["/bin/sh", "-c", JOIN, "swe-srl-join", *files, "--", *limited] if files else limited

    def _bwrap_args(self) -> list[str]:
        ws, user = self.workspace, self.limits.user
        args = ["--unshare-all", "--unshare-user", "--disable-userns", "--new-session", "--as-pid-1",
                "--uid", str(AGENT_UID), "--gid", str(AGENT_UID), "--hostname", "sandbox"]
        if self.limits.network:
            args.append("--share-net")
        for entry in sorted(os.scandir("/"), key=lambda e: e.name):
            if entry.name not in SHOWN_TOP:
                continue
            if entry.is_symlink():
                args += ["--symlink", os.readlink(entry.path), entry.path]
            else:
                args += ["--ro-bind", entry.path, entry.path]
        args += ["--proc", "/proc", "--dev", "/dev", "--size", str(self.memory), "--tmpfs", "/tmp",
                 "--tmpfs", "/run", "--tmpfs", "/home", "--bind", str(ws.home), f"/home/{user}",
                 "--bind", str(ws.testbed), TESTBED,
                 "--ro-bind", str(ws.passwd), "/etc/passwd", "--ro-bind", str(ws.group), "/etc/group"]
        if "pids" in self.cgroups.dirs:  # so the shell's own fork-bomb check reads this sandbox's counter
            args += ["--ro-bind", str(self.cgroups.dirs["pids"]), "/sys/fs/cgroup/pids"]
        for path in [*ws.default_hidden(), *self.hide]:
            if path.is_dir() and path.parts[1:2] and path.parts[1] in SHOWN_TOP:
                args += ["--tmpfs", str(path)]
        return args + ["--clearenv", "--setenv", "PATH", PATH, "--chdir", TESTBED]
