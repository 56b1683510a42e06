"""The host folder behind one local sandbox: the repo copy, the agent's home, passwd, and metadata.

Everything a local sandbox leaves on the host lives under one folder named swe-srl-local-* in
the temp directory, with a meta.json naming its owner process, host uid and cgroups, so that
leftovers of an owner that died (SIGKILL, a crash) are reaped at the next start.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from swe_srl.errors import SandboxError
from swe_srl.host import owners
from swe_srl.images.bundled import environment_dir, materialize_repo
from swe_srl.sandbox import local_limits
from swe_srl.sandbox.history import SCRUB_HISTORY
from swe_srl.tasks.image_source import BundledImage
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

PREFIX = "swe-srl-local-"
GITCONFIG = "[user]\n\tname = agent\n\temail = agent@swe-srl.invalid\n"
EXCLUDES = ("__pycache__/", "*.py[co]", ".pytest_cache/")  # never part of a patch, as in the docker image
CHECKOUT = Path(__file__).resolve().parents[2]  # the swe-srl checkout (gold patches, expert traces)


@dataclass
class Workspace:
    """The host side of a local sandbox."""

    root: Path
    host_uid: int  # the host uid the agent runs as, this sandbox's alone

    @property
    def testbed(self) -> Path:
        return self.root / "testbed"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def passwd(self) -> Path:
        return self.root / "passwd"

    @property
    def group(self) -> Path:
        return self.root / "group"

    @classmethod
    def create(cls, task: Task, user: str, agent_uid: int, repo_dir: Path | None) -> "Workspace":
        """Copy the repo (``repo_dir``, else the bundled task's base) to a fresh folder at base_commit."""
        root = Path(tempfile.mkdtemp(prefix=PREFIX))
        root.chmod(0o711)  # the sandbox's host uid must reach the folders bwrap binds
        workspace = cls(root, local_limits.pick_uid())
        try:
            workspace.save_meta()
            workspace._fill(task, user, agent_uid, repo_dir)
        except BaseException:
            workspace.remove()
            raise
        return workspace

    def _fill(self, task: Task, user: str, agent_uid: int, repo_dir: Path | None) -> None:
        if repo_dir is not None:
            if not (Path(repo_dir) / ".git").exists():
                raise SandboxError(f"task {task.instance_id}: {repo_dir} is not a git repository")
            shutil.copytree(repo_dir, self.testbed, symlinks=True)
        elif isinstance(task.image_source, BundledImage):
            materialize_repo(environment_dir(task, task.image_source), self.testbed)
        else:
            raise SandboxError(f"task {task.instance_id}: not a bundled task (its image is {task.image_source.kind}); "
                               "give the local sandbox its repository with repo_dir=")
        self._checkout_base(task)
        exclude = self.testbed / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a") as handle:
            handle.write("\n" + "\n".join(EXCLUDES) + "\n")
        self.home.mkdir()
        (self.home / ".gitconfig").write_text(GITCONFIG)
        self.passwd.write_text(_with_entry(Path("/etc/passwd"), user, agent_uid,
                                           f"{user}:x:{agent_uid}:{agent_uid}::/home/{user}:/bin/bash"))
        self.group.write_text(_with_entry(Path("/etc/group"), user, agent_uid, f"{user}:x:{agent_uid}:"))
        for path in (self.testbed, self.home):
            _chown_tree(path, self.host_uid)

    def _checkout_base(self, task: Task) -> None:
        """Leave the copy at base_commit with no other history (it is ours and trusted: the agent has
        not touched it yet); see history.py."""
        done = subprocess.run(["bash", "-c", f'{SCRUB_HISTORY}\n__srl_scrub_history "$1" "$2"', "bash",
                               task.base_commit, str(self.testbed)], capture_output=True, text=True)
        if done.returncode == 92:
            raise SandboxError(f"task {task.instance_id}: the repository has no commit {task.base_commit}")
        if done.returncode != 0:
            raise SandboxError(f"task {task.instance_id}: clearing the repository's history failed: "
                               f"{(done.stdout + done.stderr).strip()[-500:]}")

    def default_hidden(self) -> list[Path]:
        """Host folders the agent must not read: the swe-srl checkout, with its gold patches."""
        return [CHECKOUT] if (CHECKOUT / "pyproject.toml").exists() or (CHECKOUT / "environments").is_dir() else []

    def save_meta(self, cgroups: list[str] | None = None) -> None:
        meta = {"owner": owners.owner_id(), "expires": time.time() + owners.DEFAULT_LIFETIME,
                "host_uid": self.host_uid, "cgroups": cgroups or []}
        (self.root / "meta.json").write_text(json.dumps(meta))

    def remove(self) -> None:
        """Delete the folder (rmtree does not follow the agent's symbolic links)."""
        shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    def reap_leftovers(cls) -> None:
        """Kill and remove what sandboxes of owners that died left behind, and those past their lifetime."""
        now = time.time()
        for folder in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
            try:
                meta = json.loads((folder / "meta.json").read_text())
            except (OSError, ValueError):
                continue
            expires = meta.get("expires")
            expired = isinstance(expires, (int, float)) and expires <= now
            if owners.owner_alive(meta.get("owner", "")) and not expired:
                continue
            log.info("reaping the leftover local sandbox %s (%s)", folder,
                     "past its lifetime" if expired else "its owner is gone")
            if meta.get("host_uid") is not None:
                local_limits.kill_uid(int(meta["host_uid"]))
            local_limits.CgroupSet({str(i): Path(p) for i, p in enumerate(meta.get("cgroups", []))}).remove(wait=1.0)
            shutil.rmtree(folder, ignore_errors=True)


def _with_entry(path: Path, name: str, uid: int, entry: str) -> str:
    """The host's passwd or group file with `entry` in place of any line for that name or id."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        lines = []
    kept = [line for line in lines if line.split(":")[0] != name and line.split(":")[2:3] != [str(uid)]]
    return "\n".join([*kept, entry]) + "\n"


def _chown_tree(root: Path, uid: int) -> None:
    os.lchown(root, uid, uid)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, uid)
