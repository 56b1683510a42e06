"""Owner identity: a process is judged gone only by a reader that can see it."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from swe_srl.host.owners import owner_alive, owner_id


def test_a_live_owner_is_alive_and_a_dead_one_is_not():
    child = subprocess.Popen(["sleep", "30"])
    owner = owner_id(child.pid)
    assert owner_alive(owner) and owner_alive(owner_id())
    child.kill()
    child.wait()
    assert not owner_alive(owner)


def test_an_owner_in_another_pid_namespace_of_the_same_host_counts_as_alive():
    """Its pid 1 is not ours: judging it by our pid 1 would reap a live owner's sandboxes."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) on this machine")
    code = "from swe_srl.host.owners import owner_id; print(owner_id(), flush=True); import time; time.sleep(30)"
    child = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", code],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        theirs = child.stdout.readline().strip()  # type: ignore[union-attr]
        if not theirs:
            pytest.skip(f"cannot make a pid namespace here: {child.stderr.read().strip()}")  # type: ignore[union-attr]
        ours = owner_id()
        assert theirs.split(":")[0] == ours.split(":")[0] and theirs.split(":")[2] != ours.split(":")[2]
        assert theirs.split(":")[3] == "1"  # pid 1 in its namespace: our pid 1 started at another time
        assert owner_alive(theirs)
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize("owner", ["another-host:1:1", "vm:1:2", "other-host:boot:4026531836:1:5"])
def test_owners_this_reader_cannot_judge_count_as_alive(owner):
    assert owner_alive(owner)
