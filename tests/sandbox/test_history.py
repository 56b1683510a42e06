"""No route through git reaches the fix from inside a sandbox, on any backend (history.py).

The task's image (docker, podman) or repository copy (local) holds the fix on a branch, a tag, main's
reflog, a stash, packed refs and an unreachable object; the sandbox shows base_commit alone.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.sandbox.conftest import ENGINES, LIMITS, SECRET, _local_available, materialize_leaky

ROUTES = [
    "git log --all --oneline | wc -l",
    "git branch -a --format='%(refname)'; git tag; git stash list; git reflog --all | grep -c 'fix' || true",
    "cat .git/packed-refs 2>/dev/null | grep -c . || true",
    "git cat-file --batch-all-objects --batch | grep -c 'the fix' || true",
    "git fsck --unreachable --no-reflogs 2>/dev/null | grep -c unreachable || true",
]
EXPECTED = ["1", "refs/heads/main\n0", "0", "0", "0"]


def _all_objects(repo) -> str:
    return subprocess.run("git cat-file --batch-all-objects --batch", shell=True, cwd=repo, capture_output=True,
                          text=True, errors="replace").stdout


def _start(backend: str, leaky_task, request, tmp_path):
    repo = tmp_path / "repo"
    materialize_leaky(repo)
    assert SECRET in _all_objects(repo) and "v2" in subprocess.run(["git", "tag"], cwd=repo, capture_output=True,
                                                                    text=True).stdout
    if backend in ENGINES:
        from swe_srl.images.bundled import ensure_repo_image
        from swe_srl.sandbox.backends import backend as backend_class

        client = request.getfixturevalue(f"{backend}_client")
        ensure_repo_image(leaky_task.image, materialize_leaky, leaky_task, client)
        return backend_class(backend).start(leaky_task, LIMITS, client)
    why = _local_available()
    if why:
        pytest.skip(f"local backend: {why}")
    from swe_srl.sandbox.local import LocalSandbox

    return LocalSandbox.start(leaky_task, LIMITS, repo_dir=repo)


@pytest.mark.parametrize("backend", [pytest.param("docker", marks=pytest.mark.docker),
                                     pytest.param("podman", marks=pytest.mark.podman), "local"])
def test_no_git_route_reaches_the_fix(backend, leaky_task, request, tmp_path):
    with _start(backend, leaky_task, request, tmp_path) as sandbox:
        seen = [sandbox.run(route).output.strip() for route in ROUTES]
        assert seen == EXPECTED
        head = sandbox.run("git rev-parse HEAD; git status --short | wc -l; cat pkg/__init__.py").output
        assert head.split("\n")[:3] == [leaky_task.base_commit, "0", "def add(a, b):"]
        assert sandbox.diff() == ""
        sandbox.run("sed -i 's/a - b/a + b/' pkg/__init__.py")
        assert "+    return a + b" in sandbox.diff()
