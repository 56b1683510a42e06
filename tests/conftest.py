"""Session-wide test setup: where the shared data lives, and Docker and Podman availability."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SHARED_TRAJECTORIES = SHARED / "data" / "trajectories"


def shared_file(*parts: str) -> Path:
    """A file from ../shared/data/trajectories, or a skip that says why it is missing."""
    path = SHARED_TRAJECTORIES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared trajectory data is not beside this checkout")
    return path


@pytest.fixture(scope="session")
def docker_client():
    """A client of a running Docker engine, or a skip saying there is none."""
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env()
        client.ping()
    except Exception as err:  # any failure to reach the engine means: no engine here
        pytest.skip(f"no Docker engine answers ({err}); run .ci/setup to install and start one")
    return client


@pytest.fixture(scope="session")
def podman_client(tmp_path_factory: pytest.TempPathFactory):
    """A client of a Podman service this fixture starts on a socket of its own (stopped after), or a skip."""
    docker = pytest.importorskip("docker")
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed; run .ci/setup (apt-get install podman catatonit)")
    socket = tmp_path_factory.mktemp("podman") / "podman.sock"
    log = socket.with_name("service.log")
    with open(log, "wb") as out:
        service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{socket}"], stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        yield _answering(lambda: docker.DockerClient(base_url=f"unix://{socket}"), service, log)
    finally:
        service.terminate()
        service.wait(timeout=30)


def _answering(connect, service: subprocess.Popen, log: Path, wait: float = 30.0):
    """A client ``connect()`` makes once the service answers; a failure with its log if it ends or stays silent."""
    deadline = time.monotonic() + wait
    while True:
        try:
            client = connect()  # asks the service's API version: fails until the socket is up
            client.ping()
            return client
        except Exception:
            if service.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`podman system service` did not answer: {log.read_text()[-2000:]}")
            time.sleep(0.1)
