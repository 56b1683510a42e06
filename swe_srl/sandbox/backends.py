"""The sandbox backends by name: what a command's ``--sandbox`` (later the ``sandbox.backend`` field) picks.

Each is a class with ``start(task, limits)`` giving a started Sandbox (base.py); adding one is a
file of its own and a branch here. A backend is imported only when chosen: the names alone are
cheap to read (the CLI's flags), and a machine without an engine never loads the Docker stack.
"""

from __future__ import annotations

from typing import Literal, Protocol

from swe_srl.errors import ConfigError
from swe_srl.sandbox.base import Sandbox, SandboxLimits
from swe_srl.tasks.task import Task

BackendName = Literal["docker", "podman", "local"]
DEFAULT_BACKEND: BackendName = "docker"


class Backend(Protocol):
    """A sandbox class: ``start`` makes a task's sandbox, ready for commands."""

    def start(self, task: Task, limits: SandboxLimits = ...) -> Sandbox: ...


BACKENDS: tuple[BackendName, ...] = ("docker", "podman", "local")


def backend(name: str) -> Backend:
    """The backend called ``name``; ConfigError naming the known ones otherwise."""
    if name == "docker":
        from swe_srl.sandbox.docker import DockerSandbox

        return DockerSandbox
    if name == "podman":
        from swe_srl.sandbox.podman import PodmanSandbox

        return PodmanSandbox
    if name == "local":
        from swe_srl.sandbox.local import LocalSandbox

        return LocalSandbox
    raise ConfigError(f"unknown sandbox backend {name!r}; use one of {', '.join(BACKENDS)}")


def start_sandbox(name: str, task: Task, limits: SandboxLimits = SandboxLimits()) -> Sandbox:
    """A started sandbox of ``task`` on the backend called ``name`` (closed by the caller)."""
    return backend(name).start(task, limits)
