"""The one git helper: run git without the user's config, make deterministic commits, diff.

No user or system config (signing, autocrlf, hooks) and, where a commit is made, a fixed
identity and date: a commit's sha then depends on its tree and message alone, so the same files
give the same base_commit (and image tag) on every machine.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from swe_srl.errors import DataError

_ISOLATED = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
# safe.directory: sandboxes' repos belong to another uid than ours.
_OPTS = ["-c", "core.autocrlf=false", "-c", "core.safecrlf=false", "-c", "commit.gpgsign=false",
         "-c", "init.defaultBranch=main", "-c", "core.hooksPath=/dev/null", "-c", "safe.directory=*"]


@dataclass(frozen=True)
class FixedCommit:
    """The author, date and message of a deterministic commit: fixed, so its sha is a function of its tree."""

    email: str  # author and committer email
    message: str  # the commit message
    name: str = "swe-srl"  # author and committer name
    date: str = "2024-01-01T00:00:00+0000"  # author and committer date

    def env(self) -> dict[str, str]:
        return {"GIT_AUTHOR_NAME": self.name, "GIT_AUTHOR_EMAIL": self.email, "GIT_AUTHOR_DATE": self.date,
                "GIT_COMMITTER_NAME": self.name, "GIT_COMMITTER_EMAIL": self.email, "GIT_COMMITTER_DATE": self.date}


def git(args: list[str], cwd: Path, *, commit: FixedCommit | None = None, env: dict[str, str] | None = None,
        stdin: bytes | None = None) -> str:
    """Run git in ``cwd`` (committing as ``commit`` says); DataError naming the folder, with git's stderr, on failure."""
    full_env = {**os.environ, **_ISOLATED, **(commit.env() if commit else {}), **(env or {})}
    done = subprocess.run(["git", *_OPTS, *args], cwd=cwd, env=full_env, input=stdin, capture_output=True)
    if done.returncode != 0:
        raise DataError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}", source=str(cwd))
    return done.stdout.decode(errors="replace")


def init_commit(tree: Path, commit: FixedCommit) -> str:
    """Make ``tree`` a git repo with everything in it (ignored files too) in one commit; its sha."""
    git(["init", "-q", "--template="], tree)
    git(["add", "-A", "-f", "."], tree)
    git(["commit", "-q", "--no-verify", "--allow-empty", "-m", commit.message], tree, commit=commit)
    return git(["rev-parse", "HEAD"], tree).strip()


def root_commit_with(repo: Path, base: str, path: str, text: str, commit: FixedCommit) -> str:
    """A parentless commit (in ``repo``'s store) of ``base``'s tree with ``path`` replaced by ``text``.

    Its sha equals what `init_commit` gives for the same files, so a one-commit repo made from
    those files and this commit agree.
    """
    blob = git(["hash-object", "-w", "--stdin"], repo, stdin=text.encode()).strip()
    mode = git(["ls-tree", base, "--", path], repo).split()[0]
    with tempfile.TemporaryDirectory(prefix="swe-srl-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(["read-tree", base], repo, env=env)
        git(["update-index", "--cacheinfo", f"{mode},{blob},{path}"], repo, env=env)
        tree = git(["write-tree"], repo, env=env).strip()
    return git(["commit-tree", tree, "-m", commit.message], repo, commit=commit).strip()


def diff(repo: Path, old: str, new: str) -> str:
    """The git-format patch from commit ``old`` to commit ``new``."""
    return git(["diff", "--no-color", "--no-ext-diff", "--full-index", old, new], repo)


def export_commit(repo: Path, sha: str, dest: Path, commit: FixedCommit) -> None:
    """Write ``sha``'s tree at ``dest`` as a one-commit repo whose HEAD is ``sha`` again."""
    dest.mkdir(parents=True, exist_ok=True)
    # Not `git archive`: it honours export-ignore / export-subst attributes and would change the tree.
    with tempfile.TemporaryDirectory(prefix="swe-srl-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(["read-tree", sha], repo, env=env)
        git(["checkout-index", "-a", "-f", f"--prefix={dest.resolve()}/"], repo, env=env)
    got = init_commit(dest, commit)
    if got != sha:
        raise DataError(f"exported commit {sha[:12]} re-committed as {got[:12]}; the tree did not round-trip",
                        source=str(dest))
