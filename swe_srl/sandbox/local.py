"""LocalSandbox: a task's repository at /testbed under bubblewrap, for machines with no Docker engine.

A throwaway copy of the repo (local_workspace.py) is bound at /testbed in a bwrap container
(local_container.py): new namespaces, the host read-only with /root, /home, /run, /tmp and the
swe-srl checkout hidden, no network unless the limits allow it. Inside, the agent is uid 1000
("agent"); outside, that uid is a host uid picked for this sandbox when we are root, so the
agent cannot read what host root owns and RLIMIT_NPROC counts only this sandbox's processes.
Pids, memory and CPU are capped by a cgroup where we may make one, else by rlimits. The
persistent session is shell.py's, over nsenter'd shells; git runs inside as the agent, never as
host root on the agent's files.
"""

from __future__ import annotations

import logging
import os
import posixpath
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Sequence

from swe_srl.errors import SandboxError
from swe_srl.sandbox import agent_io, live
from swe_srl.sandbox.base import Observation, SandboxLimits
from swe_srl.sandbox.limit_notes import with_limit_note
from swe_srl.sandbox.local_container import AGENT_UID, PATH, TESTBED, BwrapContainer
from swe_srl.sandbox.local_workspace import Workspace
from swe_srl.sandbox.shell import Shell, ShellSession
from swe_srl.sandbox.transport import PipeTransport
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

SHELL = ["bash", "--norc", "--noprofile"]

class LocalSandbox:
    """A task's repository at /testbed under bubblewrap; see the module docstring."""

    def __init__(self, task: Task, limits: SandboxLimits, workspace: Workspace, hide: Sequence[Path] = ()) -> None:
        self.task = task
        self.limits = limits
        self.workspace = workspace
        self.container = BwrapContainer(workspace, limits, hide)
        self.closed = False
        self.agent: ShellSession | None = None
        self._lock = threading.Lock()  # the session spawns spare shells from a thread
        self._env = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": f"/home/{limits.user}", "USER": limits.user,
                     "LOGNAME": limits.user, "PAGER": "cat", "GIT_PAGER": "cat", "MANPAGER": "cat", "TERM": "dumb"}

    @classmethod
    def start(cls, task: Task, limits: SandboxLimits = SandboxLimits(), repo_dir: Path | None = None,
              *, hide: Sequence[Path] = ()) -> "LocalSandbox":
        """Copy the task's repo (``repo_dir``, else a bundled task's) and start its sandbox.

        ``hide``: more host folders to cover with an empty tmpfs inside (data the agent must not see).
        """
        if os.geteuid() != 0:
            # Each sandbox runs as a host uid of its own, made by setpriv, and its shells enter
            # namespaces that bwrap nests under a second user namespace: both need root.
            raise SandboxError("the local sandbox must be started as root: it gives each sandbox its own host uid "
                               "and enters its user namespace from outside; run as root or use the docker backend")
        for tool in ("bwrap", "nsenter", "setpriv", "prlimit"):
            if shutil.which(tool) is None:
                raise SandboxError(f"the local sandbox needs `{tool}`: apt-get install bubblewrap util-linux")
        Workspace.reap_leftovers()
        workspace = Workspace.create(task, limits.user, AGENT_UID, repo_dir)
        sandbox = cls(task, limits, workspace, hide)
        live.track(sandbox)
        try:
            try:
                sandbox.container.start()
            except SandboxError as err:
                raise SandboxError(f"task {task.instance_id}: {err}") from None
            sandbox.agent = ShellSession(sandbox._spawn_shell, output_cap=limits.output_cap, kill=sandbox._kill,
                                         state_dir="/tmp")
        except BaseException:
            sandbox.close()
            raise
        log.info("local sandbox %s started for %s", workspace.root, task.instance_id)
        return sandbox

    def _revive(self) -> None:
        """Start the container again if it has ended (its pid 1 was OOM-killed, say); /testbed is kept."""
        with self._lock:
            self._check_open()
            if not self.container.alive():
                log.warning("the sandbox for %s had ended; starting it again", self.task.instance_id)
                self.container.stop()
                self.container.start()

    def _spawn_shell(self) -> PipeTransport:
        self._revive()
        return PipeTransport(self.container.enter(SHELL), env=self._env)

    def _kill(self, keep: Sequence[Shell]) -> None:
        """SIGKILL every process in the sandbox but its pid 1 and the `keep` shells."""
        self.container.sweep({shell.pid for shell in keep if shell.pid})

    def _exec(self, script: str, *args: str, data: bytes | None = None, what: str, timeout: float = 300) -> bytes:
        """Run `sh -c script` as the agent in /testbed, outside the agent's session."""
        self._revive()
        try:
            done = subprocess.run(self.container.enter(["sh", "-c", script, "sh", *args]), input=data,
                                  capture_output=True, env=self._env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SandboxError(f"{what} timed out after {timeout:g}s in the sandbox for {self.task.instance_id}") from None
        if done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip()[-500:] or f"exit code {done.returncode}"
            raise SandboxError(f"{what} failed in the sandbox for {self.task.instance_id}: {why}")
        return done.stdout

    def _check_open(self) -> None:
        if self.closed:
            raise SandboxError(f"the local sandbox for {self.task.instance_id} is closed")

    # -- the Sandbox Protocol ---------------------------------------------------------------
    def run(self, command: str, timeout: float | None = None) -> Observation:
        """Run one shell command in the persistent session as the agent user."""
        self._check_open()
        assert self.agent is not None
        limit = self.limits.timeout if timeout is None else timeout
        try:
            obs = self.agent.run(command, limit)
        except OSError:
            # The shell and the spare the session swapped in were both gone (the agent killed
            # every process it could); the command was never sent, and the session has started
            # a new spare by now, so one retry runs it.
            log.warning("the sandbox shells for %s were gone; retrying the command once", self.task.instance_id)
            obs = self.agent.run(command, limit)
        return with_limit_note(obs, self.limits)

    def read_bytes(self, path: str) -> bytes:
        """The bytes of a file (absolute, or relative to /testbed), read as the agent: at most `limits.read_cap`."""
        target = _abspath(path)
        done = self._run_to_end(["sh", "-c", agent_io.READ, "sh", target, str(self.limits.read_cap + 1)],
                                self.limits.timeout)
        return agent_io.checked_read(target, done, self.limits, f"the sandbox for {self.task.instance_id}")

    def _run_to_end(self, argv: list[str], timeout: float) -> agent_io.Finished:
        """``argv`` run as the agent in /testbed; its stdout is bounded by the command itself (head -c)."""
        self._revive()
        try:
            done = subprocess.run(self.container.enter(argv), capture_output=True, env=self._env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return agent_io.Finished(b"", "", None)
        return agent_io.Finished(done.stdout, done.stderr.decode(errors="replace")[-4096:], done.returncode)

    def read_file(self, path: str) -> str:
        """The text of a file; raises UnicodeDecodeError when it is not UTF-8 (editors report it)."""
        return self.read_bytes(path).decode("utf-8")

    def write_bytes(self, path: str, data: bytes) -> None:
        """Create or overwrite a file as the agent, making its folders; an existing file keeps its mode."""
        target = _abspath(path)
        self._exec(agent_io.WRITE, target, data=data, what=f"writing {target}")

    def write_file(self, path: str, content: str) -> None:
        """Create or overwrite a file with UTF-8 text, making its folders."""
        self.write_bytes(path, content.encode("utf-8", "surrogateescape"))

    def diff(self) -> str:
        """`git diff` against base_commit of the working tree, new untracked files included (at most `limits.diff_cap`)."""
        done = self._run_to_end(["bash", "-c", agent_io.DIFF, "bash", self.task.base_commit,
                                 str(self.limits.diff_cap + 1)], agent_io.DIFF_TIMEOUT)
        return agent_io.checked_diff(done, self.limits, f"the sandbox for {self.task.instance_id}")

    def reset(self) -> None:
        """Back to base_commit: every agent process killed, the tree restored, a fresh shell."""
        self._check_open()
        assert self.agent is not None
        self.agent.fresh()
        self._exec('git reset -q --hard "$1" && git clean -fdq', self.task.base_commit, what="reset")

    def close(self) -> None:
        """Kill every process of the sandbox and remove its files and cgroups (idempotent)."""
        if self.closed:
            return
        self.closed = True
        live.forget(self)
        with self._lock:  # no spare shell may revive the container after this
            self.container.stop()
        if self.agent is not None:
            self.agent.close()
        self.container.remove()
        self.workspace.remove()
        log.info("local sandbox %s removed", self.workspace.root)

    def __enter__(self) -> "LocalSandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _abspath(path: str) -> str:
    return posixpath.normpath(posixpath.join(TESTBED, path))
