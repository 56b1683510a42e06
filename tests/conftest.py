"""Session-wide test setup: where the shared data lives, and Docker availability."""

from __future__ import annotations

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
