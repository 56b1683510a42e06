"""Deterministic git repositories for package trees and their buggy variants.

Fixed identity and dates and no user config, so a commit's sha depends on its tree alone: the
same sdist and the same bug give the same base_commit (and image tag) on every machine.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from swe_srl.errors import DataError

_ENV = {
    "GIT_AUTHOR_NAME": "swe-srl", "GIT_AUTHOR_EMAIL": "factory@swe-srl.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+0000", "GIT_COMMITTER_NAME": "swe-srl",
    "GIT_COMMITTER_EMAIL": "factory@swe-srl.invalid", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+0000",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
}
_OPTS = ["-c", "core.autocrlf=false", "-c", "core.safecrlf=false", "-c", "commit.gpgsign=false",
         "-c", "init.defaultBranch=main", "-c", "core.hooksPath=/dev/null"]
MESSAGE = "Initial commit"


def git(args: list[str], cwd: Path, *, env: dict[str, str] | None = None, stdin: bytes | None = None) -> str:
    """Run git with the fixed environment; DataError with its stderr on failure."""
    done = subprocess.run(["git", *_OPTS, *args], cwd=cwd, env={**os.environ, **_ENV, **(env or {})},
                          input=stdin, capture_output=True)
    if done.returncode != 0:
        raise DataError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}", source=str(cwd))
    return done.stdout.decode(errors="replace")


def init_repo(tree: Path) -> str:
    """Make ``tree`` a git repo with everything in it (ignored files too) in one commit; its sha."""
    git(["init", "-q", "--template="], tree)
    git(["add", "-A", "-f", "."], tree)
    git(["commit", "-q", "--no-verify", "--allow-empty", "-m", MESSAGE], tree)
    return git(["rev-parse", "HEAD"], tree).strip()


def root_commit_with(repo: Path, base: str, path: str, text: str) -> str:
    """A parentless commit (in ``repo``'s store) of ``base``'s tree with ``path`` replaced by ``text``.

    Its sha equals what `init_repo` gives for the same files, so the task image's one-commit repo
    and this commit agree.
    """
    blob = git(["hash-object", "-w", "--stdin"], repo, stdin=text.encode()).strip()
    mode = git(["ls-tree", base, "--", path], repo).split()[0]
    with tempfile.TemporaryDirectory(prefix="swe-srl-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(["read-tree", base], repo, env=env)
        git(["update-index", "--cacheinfo", f"{mode},{blob},{path}"], repo, env=env)
        tree = git(["write-tree"], repo, env=env).strip()
    return git(["commit-tree", tree, "-m", MESSAGE], repo).strip()


def diff(repo: Path, old: str, new: str) -> str:
    """The git-format patch from commit ``old`` to commit ``new``."""
    return git(["diff", "--no-color", "--no-ext-diff", "--full-index", old, new], repo)


def export_commit(repo: Path, sha: str, dest: Path) -> None:
    """Write ``sha``'s tree at ``dest`` as a one-commit repo whose HEAD is ``sha`` again."""
    dest.mkdir(parents=True, exist_ok=True)
    # Not `git archive`: it honours export-ignore / export-subst attributes and would change the tree.
    with tempfile.TemporaryDirectory(prefix="swe-srl-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(["read-tree", sha], repo, env=env)
        git(["checkout-index", "-a", "-f", f"--prefix={dest.resolve()}/"], repo, env=env)
    got = init_repo(dest)
    if got != sha:
        raise DataError(f"exported commit {sha[:12]} re-committed as {got[:12]}; the tree did not round-trip",
                        source=str(dest))
