"""The Sandbox Protocol that every backend (docker, local) implements, and its records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from swe_srl.tasks.task import Task


@dataclass(frozen=True)
class Observation:
    """What one command produced."""

    output: str  # stdout and stderr interleaved, cut at the output cap
    exit_code: int | None  # None when the command was killed by the timeout
    timed_out: bool = False
    truncated: bool = False  # output went past the cap and was cut
    duration: float = 0.0  # seconds, wall clock


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for the agent's commands."""

    timeout: float = 120.0  # seconds per command; the whole process tree is killed past it
    output_cap: int = 100_000  # bytes of output kept per command
    memory: str = "2g"  # container memory limit (docker syntax)
    cpus: float = 1.0  # CPU quota
    pids: int = 256  # process limit (stops fork bombs)
    network: bool = False  # the agent gets no network unless this is set
    user: str = "agent"  # agent commands run as this non-root user
    # Bytes the editor reads of one file (as the agent); a larger file is refused with a note to use
    # bash, since one `view` of a 1 GB file would otherwise cost the host gigabytes. Its reads end at `timeout`.
    read_cap: int = 4 << 20
    # Bytes of the diff that submit returns; a larger one is refused with a note and never reaches the host whole.
    diff_cap: int = 16 << 20
    # Seconds a container may live; it then removes itself (no leftover outlives its owner by more).
    lifetime: float = 24 * 3600.0
    # Bytes one file may grow to (RLIMIT_FSIZE on every process): a write past it fails and the writer
    # gets SIGXFSZ. It bounds the common runaway (one file written without end), not many files.
    file_size: int = 1 << 30


class Sandbox(Protocol):
    """A task's repository at /testbed, where an agent's commands run."""

    task: Task

    def run(self, command: str, timeout: float | None = None) -> Observation:
        """Run one shell command in the persistent session."""

    def read_file(self, path: str) -> str:
        """The text of a file (absolute, or relative to /testbed), read as the agent user with its rights;
        agent_io.FileAccessError when it may not (missing, no permission, over `limits.read_cap`)."""

    def write_file(self, path: str, content: str) -> None:
        """Create or overwrite a file, making its folders."""

    def diff(self) -> str:
        """The current patch: `git diff` against base_commit, new files included; agent_io.DiffTooLargeError
        past `limits.diff_cap`."""

    def reset(self) -> None:
        """Back to base_commit with a fresh shell session."""

    def close(self) -> None:
        """Stop and remove everything the sandbox made."""
