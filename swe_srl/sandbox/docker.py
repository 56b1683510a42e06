"""DockerSandbox: a task's container, with a persistent agent shell and a root control shell.

Each sandbox holds three bash processes started by `docker exec`: the agent's session (a root
framing shell that runs each command as the non-root user, shell.py), a spare one started ahead
of need (so a reset or restart costs no round trip), and a root control shell that sets the container up and sweeps the agent's processes on
timeouts. The editor's file reads and writes and the diff run as the agent, each in an exec of its
own (agent_io.py): never as root or through the engine's archive API, so the editor has exactly
the agent's rights, and reads and diffs stop at their caps inside the container.

The root shell also leaves /testbed's repository with base_commit and no other history
(history.py). Containers carry the label `swe-srl=1` and their owner (host/owners.py). They are
removed on close, on leaving a `with` block, at interpreter exit (Ctrl-C included) and on SIGTERM
(live.py); ones left by an owner that died without cleaning up (SIGKILL, a crash of the host) are
reaped at the next start on the same host, and every container removes itself at the end of its
lifetime (`limits.lifetime`).
"""

from __future__ import annotations

import logging
import os
import posixpath
import secrets
import shlex
from typing import Any, Sequence

import docker

from swe_srl.errors import SandboxError
from swe_srl.host.docker import docker_client, owned_labels, reap_leftovers, remove_container, start_container
from swe_srl.images.task_image import ensure_task_image
from swe_srl.sandbox import agent_io, live
from swe_srl.sandbox.agent_io import Finished
from swe_srl.sandbox.base import Observation, SandboxLimits
from swe_srl.sandbox.docker_exec import ExecTransport, run_to_end
from swe_srl.sandbox.history import SCRUB_HISTORY
from swe_srl.sandbox.limit_notes import with_limit_note
from swe_srl.sandbox.shell import Shell, ShellSession
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

TESTBED = "/testbed"
LABEL = "swe-srl"
CONTROL_CAP = 1 << 20  # bytes of output a control command (the setup, a sweep) may return
SHELL = ["bash", "--norc", "--noprofile"]
# Official SWE-bench images keep the repo's environment in conda; activate it like their harness.
CONDA_INIT = ("if [ -f /opt/miniconda3/bin/activate ]; then . /opt/miniconda3/bin/activate "
              "&& conda activate testbed; fi >/dev/null 2>&1")
# Make the agent user and give it the repo where an image lacks them (official images do).
SETUP = r"""
if ! id -u {user} >/dev/null 2>&1; then
  useradd -m -u 1000 -s /bin/bash {user} 2>/dev/null || useradd -m -s /bin/bash {user}
fi
uid=$(id -u {user}) && home=$(getent passwd {user} | cut -d: -f6) || exit 90
[ -d {testbed}/.git ] || exit 91
[ "$(stat -c %u {testbed})" = "$uid" ] || chown -R {user}: {testbed}
git config --system --get-all safe.directory 2>/dev/null | grep -qx '\*' || git config --system --add safe.directory '*'
{scrub}
__srl_scrub_history {base} {testbed} >/dev/null 2>&1 || {{ s=$?; [ $s = 92 ] && exit 92; exit 93; }}
chown -R {user}: {testbed}/.git
excl={testbed}/.git/info/exclude
mkdir -p "${{excl%/*}}" && grep -qx '__pycache__/' "$excl" 2>/dev/null || printf '%s\n' '__pycache__/' '*.py[co]' '.pytest_cache/' >> "$excl"
echo "$uid $(id -g {user}) $home"
"""

class DockerSandbox:
    """A task's repository at /testbed in a container; see the module docstring."""

    def __init__(self, task: Task, limits: SandboxLimits, client: Any, container: Any) -> None:
        self.task = task
        self.limits = limits
        self.client = client
        self.container = container
        self.container_name: str = container.name
        self.closed = False
        self.control: ShellSession | None = None
        self.agent: ShellSession | None = None
        self.agent_uid = 1000

    @classmethod
    def start(cls, task: Task, limits: SandboxLimits = SandboxLimits(), client: Any | None = None) -> "DockerSandbox":
        """Start a container for `task` from its image (built or pulled if needed) and open its shells."""
        client = cls.connect(client)
        reap_leftovers(client, LABEL)
        image = ensure_task_image(task, client)
        name = f"swe-srl-{_slug(task.instance_id)}-{os.getpid()}-{secrets.token_hex(3)}"
        try:
            container = start_container(
                client, image, owned_labels(LABEL, **{"swe-srl.instance": task.instance_id}), name=name,
                hostname="sandbox", network_mode="bridge" if limits.network else "none",
                mem_limit=limits.memory, memswap_limit=limits.memory, nano_cpus=int(limits.cpus * 1e9),
                pids_limit=limits.pids, security_opt=["no-new-privileges"], lifetime=limits.lifetime,
                ulimits=[docker.types.Ulimit(name="fsize", soft=limits.file_size, hard=limits.file_size),
                         *cls.engine_ulimits()],
            )
        except SandboxError as err:
            raise SandboxError(f"task {task.instance_id}: {err}") from None
        sandbox = cls(task, limits, client, container)
        live.track(sandbox)
        try:
            sandbox._open_shells()
        except BaseException:
            sandbox.close()
            raise
        log.info("sandbox %s started for %s from %s", name, task.instance_id, image)
        return sandbox

    @staticmethod
    def connect(client: Any | None) -> Any:
        """`client`, or one of the engine this backend drives (podman.py swaps in Podman's service)."""
        return docker_client(client)

    @staticmethod
    def engine_ulimits() -> list[Any]:
        """Resource limits this backend's engine must be given besides the file size (none for Docker: its
        containers inherit the daemon's)."""
        return []

    def _exec(self, user: str, env: dict[str, str] | None = None) -> ExecTransport:
        return ExecTransport(self.client.api, self.container.id, SHELL, user=user, workdir=TESTBED, environment=env)

    def _open_shells(self) -> None:
        user = self.limits.user
        self.control = ShellSession(lambda: self._exec("root"), output_cap=CONTROL_CAP, spare=False,
                                    state_dir="/dev/shm", pid_guard=False, inline=True)
        setup = self.control.run(SETUP.format(user=user, testbed=TESTBED, base=shlex.quote(self.task.base_commit),
                                              scrub=SCRUB_HISTORY), timeout=300)
        if setup.exit_code != 0:
            why = {91: f"{TESTBED} is not a git repository",
                   92: f"the repository has no commit {self.task.base_commit}",
                   93: "clearing the repository's git history failed"}.get(setup.exit_code or 0,
                                                                         setup.output.strip()[-500:])
            raise SandboxError(f"task {self.task.instance_id}: the container cannot host the agent: {why}")
        uid, gid, home = setup.output.split()[-3:]
        self.agent_uid = int(uid)
        env = {"HOME": home, "USER": user, "LOGNAME": user, "PAGER": "cat", "GIT_PAGER": "cat",
               "MANPAGER": "cat", "TERM": "dumb"}
        # The framing shell is root, out of the agent's reach; each command runs as the agent.
        self.agent = ShellSession(lambda: self._exec("root", env), output_cap=self.limits.output_cap,
                                  kill=self._kill, init=CONDA_INIT, state_dir="/dev/shm", run_as=f"{uid}:{gid}")

    def _kill(self, keep: Sequence[Shell]) -> None:
        """SIGKILL every process of the agent user except the `keep` shells (see shell_script.SWEEP)."""
        assert self.control is not None
        pids = " ".join(str(shell.pid) for shell in keep if shell.pid)
        done = self.control.run(f"__srl_sweep {self.agent_uid} {pids}", timeout=60)
        if done.exit_code != 0:
            raise SandboxError(f"sweeping the agent's processes failed: {done.output.strip()[-300:]}")

    def _check_open(self) -> None:
        if self.closed:
            raise SandboxError(f"sandbox {self.container_name} for {self.task.instance_id} is closed")

    # -- the Sandbox Protocol ---------------------------------------------------------------
    def run(self, command: str, timeout: float | None = None) -> Observation:
        """Run one shell command in the persistent session as the agent user."""
        self._check_open()
        assert self.agent is not None
        return with_limit_note(self.agent.run(command, self.limits.timeout if timeout is None else timeout),
                               self.limits)

    def read_bytes(self, path: str) -> bytes:
        """The bytes of a file (absolute, or relative to /testbed), read as the agent: at most `limits.read_cap`."""
        self._check_open()
        target, cap = self._abspath(path), self.limits.read_cap
        done = self._run_as_agent(["sh", "-c", agent_io.READ, "sh", target, str(cap + 1)], cap + 1, self.limits.timeout)
        return agent_io.checked_read(target, done, self.limits, self._where())

    def _run_as_agent(self, argv: list[str], cap: int, timeout: float, stdin: bytes = b"") -> Finished:
        """``argv`` run to its end in /testbed as the agent, in an exec of its own (stdout kept apart)."""
        return run_to_end(self.client.api, self.container.id, argv, user=self.limits.user, cap=cap,
                          timeout=timeout, stdin=stdin, workdir=TESTBED, environment={"HOME": "/tmp"})

    def _where(self) -> str:
        return f"sandbox {self.container_name} ({self.task.instance_id})"

    def read_file(self, path: str) -> str:
        """The text of a file; raises UnicodeDecodeError when it is not UTF-8 (editors report it)."""
        return self.read_bytes(path).decode("utf-8")

    def write_bytes(self, path: str, data: bytes) -> None:
        """Create or overwrite a file as the agent, making its folders; an existing file keeps its mode."""
        self._check_open()
        target = self._abspath(path)
        done = self._run_as_agent(["sh", "-c", agent_io.WRITE, "sh", target], 0, self.limits.timeout, data)
        if done.exit_code != 0:
            why = "timed out" if done.exit_code is None else done.errors.strip()[-500:]
            raise SandboxError(f"writing {target} failed in {self._where()}: {why}")

    def write_file(self, path: str, content: str) -> None:
        """Create or overwrite a file with UTF-8 text, making its folders."""
        self.write_bytes(path, content.encode("utf-8", "surrogateescape"))

    def diff(self) -> str:
        """`git diff` against base_commit of the working tree, new untracked files included (at most `limits.diff_cap`)."""
        self._check_open()
        cap = self.limits.diff_cap
        done = self._run_as_agent(["bash", "-c", agent_io.DIFF, "bash", self.task.base_commit, str(cap + 1)], cap + 1,
                                  agent_io.DIFF_TIMEOUT)
        return agent_io.checked_diff(done, self.limits, self._where())

    def reset(self) -> None:
        """Back to base_commit: every agent process killed, the tree restored, a fresh shell."""
        self._check_open()
        assert self.agent is not None
        self.agent.fresh()
        # Through the fresh agent shell: it is already the agent in /testbed, so this costs two git
        # processes and no setpriv/sh round trip through the control shell.
        # The agent's scratch files in /tmp go too, so no episode sees another's leftovers.
        done = self.agent.run(
            f"git reset -q --hard {self.task.base_commit} && git clean -fdq"
            " && find /tmp /var/tmp -mindepth 1 -maxdepth 1 -user agent -exec rm -rf {} +",
            timeout=300,
        )
        if done.exit_code != 0:
            raise SandboxError(f"reset of sandbox {self.container_name} ({self.task.instance_id}) failed: "
                               f"{done.output.strip()[-500:]}")

    def close(self) -> None:
        """Remove the container and everything in it (idempotent)."""
        if self.closed:
            return
        self.closed = True
        live.forget(self)
        for session in (self.agent, self.control):
            if session is not None:
                session.close()
        remove_container(self.container)
        log.info("sandbox %s removed", self.container_name)

    def __enter__(self) -> "DockerSandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _abspath(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(TESTBED, path))


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "_.-" else "-" for c in text.lower())[:60]
