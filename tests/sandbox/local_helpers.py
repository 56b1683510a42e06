"""Shared fixtures' helpers for the local (bubblewrap) sandbox tests: a tiny git repo and a Task."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from swe_srl.tasks.task import Task

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid", "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_ENV})
    return done.stdout.strip()


def make_repo(root: Path) -> tuple[Path, str]:
    """A repo with a package and a test; returns it and its one commit's sha."""
    repo = root / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("def add(a, b):\n    return a - b\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_add.py").write_text("from pkg import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo, git(repo, "rev-parse", "HEAD")


def make_task(sha: str, instance_id: str = "local__tiny-1") -> Task:
    return Task(instance_id=instance_id, repo="local/tiny", base_commit=sha, problem_statement="add subtracts",
                patch="")


def require_bwrap() -> None:
    """Skip unless bubblewrap can make a user namespace here and we are root (the backend needs it)."""
    if os.geteuid() != 0:
        pytest.skip("the local sandbox must be started as root")
    if shutil.which("bwrap") is None or shutil.which("nsenter") is None:
        pytest.skip("bubblewrap or nsenter is not installed (apt-get install bubblewrap util-linux)")
    done = subprocess.run(["bwrap", "--unshare-user", "--ro-bind", "/", "/", "true"], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"bubblewrap cannot make a user namespace here: {done.stderr.decode().strip()}")
