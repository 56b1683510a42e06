"""patch_to_actions: the editor actions reproduce exactly what `git apply` makes of a patch."""

from __future__ import annotations

import subprocess
from pathlib import Path

from swe_srl.actions import Action
from swe_srl.tasks.patch_actions import patch_to_actions

BASE = {
    "pkg/core.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
    "pkg/old.py": "X = 1\n",
    "README.md": "# demo\nno newline at end",
}


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, input=stdin, text=True, check=True, capture_output=True).stdout


def _repo(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / name
    for rel, text in BASE.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    return repo


def _apply_actions(repo: Path, actions: list[Action]) -> None:
    """A minimal, independent applier: exact-once string replacement, create, rm."""
    for action in actions:
        if action.tool == "bash":
            subprocess.run(action.get("command").replace("/testbed", str(repo)), shell=True, check=True)
            continue
        path = Path(action.get("path").replace("/testbed", str(repo)))
        if action.get("command") == "create":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(action.get("file_text"))
        else:
            text = path.read_text()
            assert text.count(action.get("old_str")) == 1, action
            path.write_text(text.replace(action.get("old_str"), action.get("new_str")))


def test_actions_reproduce_git_apply(tmp_path: Path) -> None:
    edited = _repo(tmp_path, "edited")
    (edited / "pkg/core.py").write_text(BASE["pkg/core.py"].replace("a - b", "a + b").replace("a * b", "b * a"))
    (edited / "pkg/new.py").write_text("def new():\n    return 1\n")
    (edited / "pkg/old.py").unlink()
    (edited / "README.md").write_text("# demo\nnow with a newline\n")
    _git(edited, "add", "-A")
    patch = _git(edited, "diff", "--cached")

    by_git = _repo(tmp_path, "by_git")
    _git(by_git, "apply", "-", stdin=patch)
    by_actions = _repo(tmp_path, "by_actions")
    actions = patch_to_actions(patch, root="/testbed")
    _apply_actions(by_actions, actions)

    assert [a.get("command") for a in actions if a.tool == "str_replace_editor"].count("str_replace") == 2  # core.py is one hunk, README.md one
    for repo in (by_git, by_actions):
        _git(repo, "add", "-A")
    assert _git(by_actions, "diff", "--cached") == _git(by_git, "diff", "--cached")
    assert _git(by_actions, "diff", "--cached", "--stat").strip()
