"""Sandbox fixtures: a tiny deterministic git repo as a Task, and sandboxes over it per backend."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

import pytest

from swe_srl.sandbox.base import SandboxLimits
from swe_srl.tasks.task import Task

# Fixed identity and dates: the same tree gives the same sha, so the test image is built once.
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+0000",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}
FILES = {
    "pkg/__init__.py": "def add(a, b):\n    return a - b\n",
    "tests/test_add.py": "from pkg import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    "README.md": "tiny\n",
}
LIMITS = SandboxLimits(timeout=20, output_cap=10_000, memory="512m", cpus=1.0, pids=128)


def materialize_tiny(dest: Path) -> str:
    """Write the tiny repo at `dest` in one deterministic commit; its sha."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel, text in FILES.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    env = {**os.environ, **_GIT_ENV}
    for args in (["init", "-q", "--template="], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=dest, env=env, check=True,
                       capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=dest, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture(scope="session")
def tiny_files() -> dict[str, str]:
    """The tiny repo's files at base, by path."""
    return dict(FILES)


@pytest.fixture(scope="session")
def tiny_task(tmp_path_factory: pytest.TempPathFactory) -> Task:
    sha = materialize_tiny(tmp_path_factory.mktemp("tiny-probe") / "repo")
    return Task(instance_id="test__tiny-1", repo="test/tiny", base_commit=sha, problem_statement="add subtracts",
                patch="", image=f"swe-srl-test.tiny:{sha[:12]}")


def _tiny_image(client, task: Task) -> str:
    from swe_srl.images.bundled import ensure_repo_image

    assert task.image is not None
    return ensure_repo_image(task.image, materialize_tiny, task, client)


@pytest.fixture(scope="session")
def tiny_image(docker_client, tiny_task: Task) -> str:
    """The tiny repo's image on the base image (builds the base the first time: about a minute)."""
    return _tiny_image(docker_client, tiny_task)


@pytest.fixture(scope="session")
def podman_tiny_image(podman_client, tiny_task: Task) -> str:
    """The tiny repo's image in Podman's store, by the same recipe (the base debootstrapped the first time)."""
    return _tiny_image(podman_client, tiny_task)


ENGINES = ("docker", "podman")  # the backends that drive a container engine, each with a `<name>_client` fixture


def engine_client(request: pytest.FixtureRequest, backend: str):
    """A client of ``backend``'s engine, with the tiny repo's image in its store."""
    request.getfixturevalue("tiny_image" if backend == "docker" else "podman_tiny_image")
    return request.getfixturevalue(f"{backend}_client")


def _local_available() -> str | None:
    """Why the local backend cannot run here, or None."""
    if importlib.util.find_spec("swe_srl.sandbox.local") is None:
        return "swe_srl/sandbox/local.py is not there"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed"
    return None


@pytest.fixture
def make_sandbox(request: pytest.FixtureRequest, tiny_task: Task, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[Callable[..., object]]:
    """A factory `make_sandbox(backend, limits=LIMITS)`; every sandbox it made is closed afterwards."""
    made: list[object] = []

    def make(backend: str, limits: SandboxLimits = LIMITS) -> object:
        if backend in ENGINES:
            from swe_srl.sandbox.backends import backend as backend_class

            sandbox: object = backend_class(backend).start(tiny_task, limits, engine_client(request, backend))
        elif backend == "local":
            why = _local_available()
            if why:
                pytest.skip(f"local backend: {why}")
            from swe_srl.sandbox.local import LocalSandbox

            repo = tmp_path_factory.mktemp("tiny-local") / "repo"
            materialize_tiny(repo)
            try:
                sandbox = LocalSandbox.start(tiny_task, limits, repo_dir=repo)
            except Exception as err:  # bwrap present but unusable (no user namespaces)
                if "namespace" in str(err).lower():
                    pytest.skip(f"local backend cannot run here: {err}")
                raise
        else:
            raise ValueError(backend)
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        sandbox.close()  # type: ignore[attr-defined]


SECRET = "return a + b  # the fix"


def materialize_leaky(dest: Path) -> str:
    """The tiny repo at its base commit, with the fix reachable by every route git offers; the base's sha."""
    base = materialize_tiny(dest)
    env = {**os.environ, **_GIT_ENV}

    def run(*args: str) -> None:
        subprocess.run(["git", *args], cwd=dest, env=env, check=True, capture_output=True)

    fixed = FILES["pkg/__init__.py"].replace("return a - b", SECRET)
    (dest / "pkg/__init__.py").write_text(fixed)
    run("commit", "-qam", "fix")  # a later commit: on a branch, a tag, and main's reflog
    run("branch", "fixed")
    run("tag", "v2")
    run("reset", "-q", "--hard", base)
    (dest / "pkg/__init__.py").write_text(fixed.replace("# the fix", "# the fix, stashed"))
    run("stash", "-q")
    run("pack-refs", "--all")
    blob = dest / ".git" / "unreachable"  # an object nothing refers to
    blob.write_text(SECRET + " (unreachable)\n")
    run("hash-object", "-w", str(blob))
    blob.unlink()
    return base


@pytest.fixture(scope="session")
def leaky_task(tiny_task: Task) -> Task:
    """The tiny task, from an image whose repository holds the fix in its history."""
    return replace(tiny_task, instance_id="test__leaky-1", image=f"swe-srl-test.leaky:{tiny_task.base_commit[:12]}")
