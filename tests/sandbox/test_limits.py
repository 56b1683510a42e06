"""Sandbox limits on every backend: the editor's read cap and rights, and the diff cap."""

from __future__ import annotations

import dataclasses
import resource
import time

import pytest

from swe_srl.actions import Action
from swe_srl.sandbox import agent_io
from swe_srl.sandbox.agent_io import DiffTooLargeError
from swe_srl.sandbox.editor import Editor
from swe_srl.sandbox.execute import execute

from tests.sandbox.conftest import LIMITS

BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("podman", marks=pytest.mark.podman),
            "local"]
pytestmark = pytest.mark.parametrize("backend", BACKENDS)


def _rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_view_of_a_huge_sparse_file_is_refused_without_reading_it(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    assert sandbox.run("truncate -s 1G /testbed/huge.bin && head -c 4 /testbed/huge.bin | wc -c").output == "4\n"
    peak, start = _rss_peak_mb(), time.monotonic()
    out = Editor(sandbox).run("view", "/testbed/huge.bin")
    assert time.monotonic() - start < 10 and _rss_peak_mb() - peak < 64  # was +4.1 GB of host memory
    assert out.startswith(f"The file /testbed/huge.bin is larger than {LIMITS.read_cap} bytes") and "grep -n" in out
    edit = Editor(sandbox).run("str_replace", "/testbed/huge.bin", old_str="a", new_str="b")
    assert edit.startswith("The file /testbed/huge.bin is larger than")


def test_the_read_cap_is_exact(make_sandbox, backend):
    sandbox = make_sandbox(backend, dataclasses.replace(LIMITS, read_cap=1000))
    sandbox.run("head -c 1000 /dev/zero | tr '\\0' x > at.txt && head -c 1001 /dev/zero | tr '\\0' x > over.txt")
    editor = Editor(sandbox)
    assert "     1\txxxx" in editor.run("view", "/testbed/at.txt")
    refused = editor.run("str_replace", "/testbed/over.txt", old_str="x" * 1001, new_str="y")
    assert refused.startswith("The file /testbed/over.txt is larger than 1000 bytes")
    assert sandbox.run("wc -c < over.txt").output == "1001\n"  # untouched


def test_the_editor_reads_with_the_agents_rights(make_sandbox, backend):
    sandbox = make_sandbox(backend)
    sandbox.run("echo top-secret > locked.txt && chmod 000 locked.txt && ln -s /etc/shadow shadow-link")
    assert sandbox.run("cat locked.txt /etc/shadow shadow-link").exit_code != 0  # what the agent's cat may not read
    editor = Editor(sandbox)
    for path in ("/etc/shadow", "/testbed/locked.txt", "/testbed/shadow-link"):
        out = editor.run("view", path)
        assert "permission denied" in out and "root:" not in out and "top-secret" not in out, (path, out)
    assert "permission denied" in editor.run("str_replace", "/testbed/locked.txt", old_str="top", new_str="low")
    assert "permission denied" in editor.run("insert", "/etc/shadow", insert_line="0", new_str="x")
    assert "cannot create /etc/planted.conf" in editor.run("create", "/etc/planted.conf", file_text="x\n")
    assert sandbox.run("test -e /etc/planted.conf").exit_code == 1


def test_a_diff_past_the_cap_is_a_clear_submit_observation(make_sandbox, backend):
    sandbox = make_sandbox(backend, dataclasses.replace(LIMITS, diff_cap=5000))
    sandbox.run("seq 1 300 > small.txt")
    assert "+300\n" in execute(sandbox, Action.submit())
    sandbox.run("seq 1 2000 > big.txt")
    with pytest.raises(DiffTooLargeError):
        sandbox.diff()
    note = execute(sandbox, Action.submit())
    assert note.startswith("[The patch is larger than 5000 bytes, the sandbox's diff cap") and len(note) < 400


def test_a_diff_that_runs_git_out_of_memory_is_a_clear_submit_observation(make_sandbox, backend):
    sandbox = make_sandbox(backend, dataclasses.replace(LIMITS, memory="64m"))
    sandbox.run("seq 1 8000000 > huge.txt")  # 67 MB of text: git holds it whole to diff it
    note = execute(sandbox, Action.submit())
    assert note.startswith("[The patch could not be made: git was killed") and "64m" in note


def test_a_read_past_the_time_limit_is_refused_and_returns_in_time(make_sandbox, backend):
    sandbox = make_sandbox(backend, dataclasses.replace(LIMITS, timeout=1))
    start = time.monotonic()  # the one-off command the editor reads through stops at its timeout
    if backend in ("docker", "podman"):
        done = sandbox._run_as_agent(["sleep", "30"], 10, 1.0)
    else:
        done = sandbox._run_to_end(["sleep", "30"], 1.0)
    assert done.exit_code is None and time.monotonic() - start < 5
    finished = agent_io.Finished(b"", "", None)  # what either backend reports for a read that ran out of time
    with pytest.raises(agent_io.FileAccessError, match="took more than 1 seconds"):
        agent_io.checked_read("/testbed/slow", finished, sandbox.limits, "here")


def test_a_file_written_without_end_stops_at_the_size_limit(make_sandbox, backend):
    sandbox = make_sandbox(backend, dataclasses.replace(LIMITS, file_size=8 << 20))
    obs = sandbox.run("head -c 100M /dev/zero > /testbed/big.bin")
    assert obs.exit_code == 153 and "size limit of 8388608 bytes" in obs.output, obs.output
    assert sandbox.run("stat -c %s /testbed/big.bin").output == f"{8 << 20}\n"
    assert sandbox.run("echo fine").output == "fine\n"
