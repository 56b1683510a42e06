"""Session-wide test setup: where the shared data lives, Docker and Podman availability, a Ray cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

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
def podman_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address (``unix://...``) of a Podman service this fixture starts on a socket of its own and stops
    after, or a skip where podman is not installed."""
    pytest.importorskip("docker")
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed; run .ci/setup (apt-get install podman catatonit)")
    socket = tmp_path_factory.mktemp("podman") / "podman.sock"
    log = socket.with_name("service.log")
    with open(log, "wb") as out:
        # Its own folder as the working directory: conmon drops an "oom" file there when a container is
        # OOM-killed (the memory tests do that), which must not land in the checkout.
        service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{socket}"], stdout=out,
                                   stderr=subprocess.STDOUT, cwd=socket.parent)
    try:
        _wait_until_it_answers(f"unix://{socket}", service, log)
        yield f"unix://{socket}"
    finally:
        service.terminate()
        service.wait(timeout=30)


@pytest.fixture(scope="session")
def podman_client(podman_service: str):
    """A Docker-API client of the Podman service of this session."""
    import docker

    return docker.DockerClient(base_url=podman_service)


def _wait_until_it_answers(address: str, service: subprocess.Popen, log: Path, wait: float = 30.0) -> None:
    """Back once the service at ``address`` answers; a failure with its log if it ends or stays silent."""
    import docker

    deadline = time.monotonic() + wait
    while True:
        try:
            docker.DockerClient(base_url=address).ping()  # asks the API version first: fails until the socket is up
            return
        except docker.errors.DockerException:
            if service.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`podman system service` did not answer at {address}: {log.read_text()[-2000:]}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def two_finals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """runs/a/sft/final and runs/a/srl/final: the same tiny architecture, different weights."""
    pytest.importorskip("torch")
    from swe_srl.train.tiny import tiny_model, tiny_tokenizer

    root = tmp_path_factory.mktemp("runs") / "a"
    tokenizer = tiny_tokenizer()
    folders = []
    for stage, seed in (("sft", 0), ("srl", 1)):
        final = root / stage / "final"
        tiny_model(tokenizer, seed=seed).save_pretrained(final)
        tokenizer.save_pretrained(final)
        folders.append(final)
    return folders[0], folders[1]


@pytest.fixture(scope="module")
def ray_cluster():
    """A head node process (one sandbox slot) for a test module; its nodes import this checkout."""
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'swe-srl[ray]'")
    from ray.cluster_utils import Cluster

    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), before]))  # inherited by the nodes
    # Notice a lost node within a few seconds, not Ray's default tens of seconds.
    fast = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 500, "health_check_failure_threshold": 3}
    try:
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {"swe_srl_sandbox": 1},
                                                                "include_dashboard": False, "_system_config": fast})
        yield cluster
        cluster.shutdown()
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before
