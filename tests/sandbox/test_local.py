"""LocalSandbox (bubblewrap): isolation, the persistent session, limits, files, diff, reset, cleanup."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import pytest

from swe_srl.errors import SandboxError
from swe_srl.sandbox import local_limits
from swe_srl.sandbox.base import SandboxLimits
from swe_srl.sandbox.local import LocalSandbox
from swe_srl.sandbox.local_workspace import CHECKOUT, PREFIX, Workspace
from tests.sandbox.local_helpers import git, make_repo, make_task, require_bwrap


@pytest.fixture
def repo(tmp_path):
    require_bwrap()
    return make_repo(tmp_path)


@pytest.fixture
def sandbox(repo):
    path, sha = repo
    box = LocalSandbox.start(make_task(sha), SandboxLimits(timeout=20), repo_dir=path)
    yield box
    box.close()


def test_agent_is_unprivileged_in_testbed(sandbox):
    obs = sandbox.run("id -un; id -u; pwd; echo $HOME")
    assert obs.exit_code == 0 and obs.output.split() == ["agent", "1000", "/testbed", "/home/agent"]
    assert sandbox.run("cat /etc/shadow").exit_code != 0
    assert sandbox.run("touch /usr/x").exit_code != 0
    assert sandbox.run("unshare -U true").exit_code != 0  # no nested user namespaces
    assert sandbox.run("test -w /testbed/pkg/__init__.py && touch /tmp/x /home/agent/y").exit_code == 0


def test_host_checkout_and_root_home_are_hidden(sandbox):
    # Hidden means nothing of it can be read: an empty folder over it, or no such path at all
    # (a checkout under /tmp lies in the sandbox's own fresh /tmp), wherever the clone sits.
    marker = CHECKOUT / "pyproject.toml"
    assert marker.is_file()
    assert sandbox.run(f"cat {marker}").exit_code != 0
    assert sandbox.run(f"ls -A {CHECKOUT} 2>/dev/null").output.strip() == ""
    assert sandbox.run("ls -A /root").exit_code != 0


def test_no_network_by_default(sandbox):
    interfaces = sandbox.run("tail -n +3 /proc/net/dev | cut -d: -f1").output.split()
    assert interfaces == ["lo"]
    obs = sandbox.run("python3 -c \"import socket; socket.create_connection(('1.1.1.1', 80), timeout=2)\"")
    assert obs.exit_code != 0 and "unreachable" in obs.output


def test_session_keeps_directory_and_exports(sandbox):
    sandbox.run("cd pkg && export ANSWER=42")
    assert sandbox.run("pwd; echo $ANSWER").output.split() == ["/testbed/pkg", "42"]


def test_timeout_kills_background_and_detached_processes(sandbox):
    obs = sandbox.run("sleep 300 & setsid sleep 301 & sleep 302", timeout=1.5)
    assert obs.timed_out and obs.exit_code is None and 1.4 < obs.duration < 10
    assert sandbox.run("ps -eo args | grep -c '^sleep 30'").output.split()[-1] == "0"
    assert sandbox.run("echo still here").output.strip() == "still here"


def test_exit_ends_shell_and_a_new_one_keeps_state(sandbox):
    sandbox.run("cd /tmp && export KEEP=yes")
    sandbox.run("exit 3")
    assert sandbox.run("pwd; echo $KEEP").output.split()[:2] == ["/tmp", "yes"]


def test_output_cap(repo):
    path, sha = repo
    with LocalSandbox.start(make_task(sha), SandboxLimits(output_cap=2000), repo_dir=path) as box:
        obs = box.run("yes abcdefgh | head -c 200000")
        assert obs.truncated and obs.exit_code == 0 and len(obs.output) < 2600


def test_fork_bomb_is_contained(repo):
    path, sha = repo
    with LocalSandbox.start(make_task(sha), SandboxLimits(pids=64, timeout=5), repo_dir=path) as box:
        obs = box.run("bomb() { bomb | bomb & }; bomb; sleep 60", timeout=3)
        assert obs.timed_out
        after = box.run("echo alive; ps -e --no-headers | wc -l", timeout=30)
        assert after.output.split()[0] == "alive", after.output
        assert int(after.output.split()[-1]) < 8  # init, two shells and ps: the bomb is gone
        assert len([pid for pid, owner in local_limits.processes() if owner == box.workspace.host_uid]) < 10


def test_memory_hog_is_contained(repo):
    path, sha = repo
    with LocalSandbox.start(make_task(sha), SandboxLimits(memory="256m"), repo_dir=path) as box:
        obs = box.run("python3 -c \"b = bytearray(1 << 30); b[::4096] = b'x' * len(b[::4096]); print('SUR' + 'VIVED')\"")
        assert obs.exit_code != 0 and "SURVIVED" not in obs.output
        assert box.run("echo fine").output.strip() == "fine"


def test_files_diff_and_reset(sandbox):
    sandbox.write_file("pkg/__init__.py", "def add(a, b):\n    return a + b\n")
    sandbox.write_file("/testbed/new/dir/notes.txt", "héllo\n")
    assert sandbox.read_file("/testbed/new/dir/notes.txt") == "héllo\n"
    assert sandbox.run("python3 -m pytest -q tests 2>&1 | tail -1").output.strip().startswith("1 passed")
    patch = sandbox.diff()
    assert "-    return a - b\n+    return a + b" in patch and "+++ b/new/dir/notes.txt" in patch
    assert "__pycache__" not in patch and ".pytest_cache" not in patch
    assert sandbox.run("git status --short pkg").output.strip() == "M pkg/__init__.py"  # index untouched
    sandbox.run("cd /tmp && export GONE=1 && sleep 300 &")
    sandbox.reset()
    assert sandbox.diff() == ""
    assert sandbox.run("pwd; echo \"[$GONE]\"; ls new 2>&1 | wc -l; pgrep -c sleep").output.split() == ["/testbed", "[]", "1", "0"]


def test_read_errors(sandbox):
    with pytest.raises(SandboxError, match="no such file"):
        sandbox.read_file("missing.py")
    with pytest.raises(SandboxError, match="not a regular file"):
        sandbox.read_file("/testbed/pkg")
    sandbox.run("printf '\\377\\376' > blob")
    with pytest.raises(UnicodeDecodeError):
        sandbox.read_file("blob")
    assert sandbox.read_bytes("blob") == b"\xff\xfe"


def test_host_files_are_not_read_through_agent_symlinks(sandbox):
    sandbox.run("ln -s /etc/shadow leak")
    with pytest.raises(SandboxError):
        sandbox.read_file("leak")  # read as the agent, inside: permission denied like any agent read


def test_close_removes_processes_files_and_cgroups(repo):
    path, sha = repo
    box = LocalSandbox.start(make_task(sha), repo_dir=path)
    box.run("sleep 300 & setsid sleep 301 &")
    uid, root, groups = box.workspace.host_uid, box.workspace.root, list(box.container.cgroups.dirs.values())
    box.close()
    box.close()  # idempotent
    assert not root.exists() and not any(g.exists() for g in groups)
    assert [pid for pid, owner in local_limits.processes() if owner == uid
            and local_limits._status_field(pid, "State") not in (None, ["Z", "(zombie)"])] == []
    with pytest.raises(SandboxError, match="closed"):
        box.run("true")


def test_starts_at_base_commit_when_head_moved(repo):
    path, sha = repo
    (path / "later.txt").write_text("later\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "later")
    with LocalSandbox.start(make_task(sha), repo_dir=path) as box:
        assert box.run("git rev-parse HEAD; ls later.txt 2>&1 | wc -l").output.split() == [sha, "1"]
        assert box.diff() == ""


def test_unknown_commit_and_missing_repo_are_errors(repo):
    path, _ = repo
    before = set(Path(tempfile.gettempdir()).glob(PREFIX + "*"))
    with pytest.raises(SandboxError, match="has no commit"):
        LocalSandbox.start(make_task("0" * 40), repo_dir=path)
    with pytest.raises(SandboxError, match="not a bundled task"):
        LocalSandbox.start(make_task("0" * 40, "nobody__nothing-1"))
    with pytest.raises(SandboxError, match="not a git repository"):
        LocalSandbox.start(make_task("0" * 40), repo_dir=path / "pkg")
    assert set(Path(tempfile.gettempdir()).glob(PREFIX + "*")) <= before  # failed starts leave nothing


def test_rlimits_contain_when_no_cgroup_can_be_made(repo, monkeypatch):
    monkeypatch.setattr(local_limits, "make_cgroups", lambda *a, **k: local_limits.CgroupSet())
    path, sha = repo
    limits = SandboxLimits(memory="256m", pids=64)
    with LocalSandbox.start(make_task(sha), limits, repo_dir=path) as box:
        assert not box.container.cgroups.dirs
        obs = box.run("python3 -c \"b = bytearray(1 << 30); print('SUR' + 'VIVED')\"")
        assert obs.exit_code != 0 and "MemoryError" in obs.output
        obs = box.run("for i in $(seq 200); do sleep 30 & done; wait", timeout=3)
        assert "fork: retry" in obs.output or "Resource temporarily unavailable" in obs.output
        assert len([pid for pid, owner in local_limits.processes() if owner == box.workspace.host_uid]) <= 64
        assert box.run("echo fine").output.strip() == "fine"


def test_bundled_task_fails_then_passes_with_gold_patch():
    require_bwrap()
    from swe_srl.tasks.bundled import bundled_tasks

    tasks = bundled_tasks()
    if not tasks:
        pytest.skip("no bundled tasks in environments/")
    task = tasks[0]
    test_files = " ".join(sorted({node.split("::")[0] for node in task.fail_to_pass}))
    with LocalSandbox.start(task) as box:
        assert box.run("git rev-parse HEAD").output.strip() == task.base_commit
        box.write_file("/tmp/test.patch", task.test_patch)
        box.write_file("/tmp/gold.patch", task.patch)
        assert box.run("git apply /tmp/test.patch").exit_code == 0
        assert box.run(f"python3 -m pytest -q {test_files}").exit_code != 0
        assert box.run("git apply /tmp/gold.patch").exit_code == 0
        assert box.run(f"python3 -m pytest -q {test_files}").exit_code == 0


def test_leftovers_of_a_dead_owner_or_past_their_lifetime_are_reaped(tmp_path):
    from swe_srl.host import owners

    dead, live, expired, elsewhere = (Path(tempfile.mkdtemp(prefix=PREFIX)) for _ in range(4))
    try:
        metas = {dead: {"owner": owners.owner_id(999999999)}, live: {"owner": owners.owner_id()},
                 expired: {"owner": owners.owner_id(), "expires": time.time() - 1},
                 elsewhere: {"owner": "another-host:boot:1:1:1", "expires": time.time() + 3600}}
        for folder, meta in metas.items():
            (folder / "meta.json").write_text(json.dumps({**meta, "host_uid": None}))
        (dead / "testbed").mkdir()
        Workspace.reap_leftovers()
        assert not dead.exists() and not expired.exists()
        assert live.exists() and elsewhere.exists()
    finally:
        for folder in metas:
            if folder.exists():
                os.system(f"rm -rf {folder}")


def test_parse_memory():
    assert local_limits.parse_memory("2g") == 2 << 30
    assert local_limits.parse_memory("512m") == 512 << 20
    assert local_limits.parse_memory("1024") == 1024
    with pytest.raises(Exception, match="512m"):
        local_limits.parse_memory("lots")


def test_agent_killing_everything_does_not_end_the_sandbox(sandbox):
    sandbox.run("cd pkg && export KEEP=1")
    sandbox.run("kill -9 -1")  # every process the agent may signal: the spare shell too, not pid 1
    assert sandbox.run("echo $KEEP; pwd").output == "1\n/testbed/pkg\n"
    gone = sandbox.run("exit 4")  # the session now needs a shell; its spare is dead
    assert gone.exit_code == 4
    assert sandbox.run("echo $KEEP; pwd").output.startswith("1\n/testbed/pkg\n")
    assert sandbox.run("ps -o pid= -p 1").output.strip() == "1"


CRASHER = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from swe_srl.sandbox.local import LocalSandbox
from tests.sandbox.local_helpers import make_task
box = LocalSandbox.start(make_task({sha!r}), repo_dir=Path({repo!r}))
box.run("sleep 1000 > /dev/null 2>&1 & setsid sleep 1001 > /dev/null 2>&1 &")
print(json.dumps({{"uid": box.workspace.host_uid, "root": str(box.workspace.root)}}), flush=True)
time.sleep(600)
"""


def test_a_crashed_owner_leaves_no_running_process_and_is_reaped(repo):
    import subprocess
    import sys
    import time

    path, sha = repo
    script = CRASHER.format(root=str(Path(__file__).resolve().parents[2]), sha=sha, repo=str(path))
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(owner.stdout.readline())
    finally:
        owner.kill()  # SIGKILL: no atexit, no close()
        owner.wait()
    uid, root = info["uid"], Path(info["root"])

    def running() -> list[int]:
        return [pid for pid, o in local_limits.processes() if o == uid
                and local_limits._status_field(pid, "State") not in (None, ["Z", "(zombie)"])]

    deadline = time.monotonic() + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running() == []  # pid 1 saw its pipe close and left, which ends every process inside
    assert root.exists()
    Workspace.reap_leftovers()
    assert not root.exists()
