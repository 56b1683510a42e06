"""Finding a Podman service and what its containers need (no service needed); the suites run on it too."""

from __future__ import annotations

import json
import resource
import socket
from pathlib import Path

import pytest

from swe_srl.errors import SandboxError
from swe_srl.host.podman import ROOTFUL_SOCKET, SOCKET_ENV, container_ulimits, podman_client, podman_socket


def test_container_host_wins_then_the_rootless_socket_then_the_rootful_one(tmp_path, monkeypatch):
    monkeypatch.setenv(SOCKET_ENV, "unix:///somewhere/else.sock")
    assert podman_socket() == "unix:///somewhere/else.sock"
    monkeypatch.delenv(SOCKET_ENV)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    path = tmp_path / "podman" / "podman.sock"
    if not Path(ROOTFUL_SOCKET).is_socket():  # where a rootful service runs, it is the answer before ours exists
        assert podman_socket() == f"unix://{path}"  # none runs: the rootless default is named
    path.parent.mkdir()
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        assert podman_socket() == f"unix://{path}"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert podman_socket() == f"unix://{ROOTFUL_SOCKET}"


def test_no_service_is_an_error_saying_how_to_start_one(tmp_path, monkeypatch):
    monkeypatch.setenv(SOCKET_ENV, f"unix://{tmp_path}/podman.sock")
    with pytest.raises(SandboxError, match=f"no Podman service answers at unix://{tmp_path}/podman.sock.*"
                                           f"`podman system service --time=0 unix://{tmp_path}/podman.sock &`"):
        podman_client()


def test_container_limits_are_no_higher_than_this_process_s_nor_pid_max():
    """Higher ones are what runc may not set where the service cannot raise its own ("rlimit type 7")."""
    limits = {ulimit["Name"]: (ulimit["Soft"], ulimit["Hard"]) for ulimit in container_ulimits()}
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], pid_max)
    assert limits["nproc"] == (nproc, nproc)
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert limits.get("nofile") == (None if nofile == resource.RLIM_INFINITY else (nofile, nofile))


@pytest.mark.podman
def test_env_build_puts_the_images_into_podman_s_store(podman_service, podman_client, tmp_path, monkeypatch, capsys):
    from swe_srl.cli import main
    from swe_srl.images.base import base_tag
    from swe_srl.tasks.bundled import bundled_tasks

    tasks = bundled_tasks()[-1:]
    if not tasks:
        pytest.skip("no bundled tasks in environments/")
    (tmp_path / "tasks.jsonl").write_text(json.dumps(tasks[0].to_row()) + "\n")
    monkeypatch.setenv(SOCKET_ENV, podman_service)
    assert main(["env", "build", "--sandbox", "podman", "--tasks", str(tmp_path / "tasks.jsonl")]) == 0
    image = capsys.readouterr().out.split(f"{tasks[0].instance_id}: ")[1].split()[0]
    assert podman_client.images.get(image).labels["swe-srl.base"] == base_tag()
    assert podman_client.images.get(base_tag())
