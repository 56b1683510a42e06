"""Faults an agent's command can cause in a container sandbox (Docker, Podman): each contained, reported, survived."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from swe_srl.sandbox.base import SandboxLimits

TIGHT = SandboxLimits(timeout=2, output_cap=20_000, memory="256m", cpus=1.0, pids=64)


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker),
                        pytest.param("podman", marks=pytest.mark.podman)])
def sandbox(make_sandbox, request):
    box = make_sandbox(request.param, TIGHT)
    box.run("cd pkg; export MARK=kept")
    return box


def _serves(box) -> None:
    """The next command works, in the saved directory, and can fork."""
    obs = box.run("echo $MARK; pwd; ls | wc -l")
    assert obs.exit_code == 0 and obs.output == "kept\n/testbed/pkg\n1\n", obs.output


def test_a_hanging_command_times_out(sandbox):
    start = time.monotonic()
    obs = sandbox.run("echo started; sleep 1000; echo never")
    assert obs.timed_out and obs.exit_code is None
    assert obs.output.startswith("started\n") and "never" not in obs.output and "timed out after 2" in obs.output
    assert time.monotonic() - start < 2 + 3
    _serves(sandbox)


def test_a_detached_daemon_does_not_outlive_a_timeout(sandbox):
    sandbox.run("setsid sleep 1001 >/dev/null 2>&1 < /dev/null & disown")
    assert sandbox.run("sleep 100", timeout=1).timed_out
    assert sandbox.run("ps -eo args | grep -c '^sleep 100'").output == "0\n"


def test_a_fork_bomb_in_the_foreground_is_killed(sandbox):
    obs = sandbox.run("while true; do sleep 1000 & done")
    assert obs.timed_out and "timed out" in obs.output
    _serves(sandbox)
    assert int(sandbox.run("ps -e --no-headers | wc -l").output) < 10


def _wait_for_the_limit(sandbox, count: int, limit: float = 30.0) -> None:
    """Until the container's pids cgroup holds ``count`` processes and has refused a fork
    (cgroup v1 here; else a pause)."""
    group = _pids_group(sandbox)
    if group is None:
        time.sleep(3)
        return
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        refused = int((group / "pids.events").read_text().split()[1])
        if refused and int((group / "pids.current").read_text()) >= count:
            return
        time.sleep(0.1)


def _pids_group(sandbox) -> Path | None:
    """The container's pids cgroup (v1) as its init process sees it, whatever the engine names it; None elsewhere."""
    pid = sandbox.client.api.inspect_container(sandbox.container.id)["State"]["Pid"]
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:  # the engine's processes are not visible from here
        return None
    paths = [line.split(":", 2)[2] for line in lines if line.split(":")[1] == "pids"]
    group = Path("/sys/fs/cgroup/pids" + paths[0]) if paths else None
    return group if group is not None and group.exists() else None


def test_a_background_fork_bomb_is_swept_before_the_next_command(sandbox):
    sandbox.run("bash -c ':(){ :|:& };:' >/dev/null 2>&1")  # returns at once, forks on behind
    _wait_for_the_limit(sandbox, TIGHT.pids * 7 // 8)
    obs = sandbox.run("echo $MARK; pwd; ls | wc -l")
    assert obs.exit_code == 0 and obs.output.startswith("kept\n/testbed/pkg\n1\n"), obs.output
    assert "process limit" in obs.output and "leftover processes were killed" in obs.output
    _serves(sandbox)


_FORK_TO_THE_LIMIT = (
    "python3 -c 'import os, time\nkids = []\ntry:\n    while True:\n        pid = os.fork()\n"
    "        if pid == 0:\n            time.sleep(60); os._exit(0)\n        kids.append(pid)\n"
    "except OSError:\n    pass\nfor pid in kids:\n    os.kill(pid, 9); os.waitpid(pid, 0)\n'"
)


def test_background_processes_are_kept_until_a_fork_is_refused(sandbox):
    """Half the limit in background sleeps stays while no fork has failed; after a command is
    refused a fork (and cleans up), the sleeps are swept although the count is below 7/8."""
    half = TIGHT.pids // 2 + 4
    count = "ps -eo args | grep -c '^sleep 1000'"
    sandbox.run(f"for i in $(seq {half}); do sleep 1000 & done; until [ $({count}) = {half} ]; do :; done")
    kept = sandbox.run(count)
    assert kept.output == f"{half}\n", kept.output
    sandbox.run(_FORK_TO_THE_LIMIT)
    obs = sandbox.run(count)
    assert "\n0\n" in f"\n{obs.output}" and "leftover processes were killed" in obs.output, obs.output
    _serves(sandbox)


@pytest.mark.slow
def test_gigabytes_of_output_are_capped_and_drained(sandbox):
    obs = sandbox.run("head -c 1000000000 /dev/zero | tr '\\0' x; echo; echo done", timeout=30)
    assert obs.exit_code == 0 and obs.truncated and not obs.timed_out
    assert obs.output.endswith("x\ndone\n") and "bytes of output omitted" in obs.output
    assert len(obs.output) < TIGHT.output_cap + 200
    _serves(sandbox)


def test_endless_output_is_stopped_by_the_timeout(sandbox):
    obs = sandbox.run("yes", timeout=2)
    assert obs.timed_out and obs.truncated and len(obs.output) < TIGHT.output_cap + 400
    _serves(sandbox)


def test_filling_memory_is_killed_and_reported(sandbox):
    obs = sandbox.run("python3 -c 'b = bytearray(1 << 30); print(len(b))'")
    assert obs.exit_code == 137 and not obs.timed_out
    assert "out of memory" in obs.output and "256m" in obs.output
    _serves(sandbox)


def test_there_is_no_network(sandbox):
    obs = sandbox.run("python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 53), timeout=2)'")
    assert obs.exit_code == 1 and "Network is unreachable" in obs.output
    assert sandbox.run("ls /sys/class/net").output.split() == ["lo"]
    _serves(sandbox)


def test_the_agent_cannot_become_root_or_touch_the_image(sandbox):
    assert "Permission denied" in sandbox.run("touch /usr/bin/x").output
    assert sandbox.run("cat /proc/self/status | grep NoNewPrivs").output.split() == ["NoNewPrivs:", "1"]
