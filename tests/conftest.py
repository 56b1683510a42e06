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
