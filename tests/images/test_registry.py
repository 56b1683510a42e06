"""Before any agent runs, a registry image that is neither in the engine nor answered for by its
registry stops the run, naming the image and how to bring it to an offline machine."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from swe_srl.agent.identity import ModelIdentity
from swe_srl.errors import SandboxError
from swe_srl.images.registry import require_registry_images
from swe_srl.recipes.evaluate import evaluate
from swe_srl.tasks.image_source import BundledImage
from swe_srl.tasks.task import Task

TASK = Task("org__repo-1", "org/repo", "0" * 40, "issue", "", fail_to_pass=("t",),
            image="swebench/sweb.eval.x86_64.org_1776_repo-1:latest", eval_script="#!/bin/bash\n",
            log_parser="parse_log_pytest", eval_type="pass_and_fail")


class _Images:
    def __init__(self, local: set[str], remote: set[str]) -> None:
        self.local, self.remote, self.asked = local, remote, []

    def get(self, name: str):
        if name not in self.local:
            raise docker.errors.ImageNotFound(name)
        return name

    def get_registry_data(self, name: str):
        self.asked.append(name)
        if name not in self.remote:
            raise docker.errors.APIError(f"dial tcp: lookup registry-1.docker.io: no such host ({name})")
        return name


class _Client:
    def __init__(self, local: set[str] = frozenset(), remote: set[str] = frozenset()) -> None:
        self.images = _Images(set(local), set(remote))


def test_local_or_registry_image_passes_without_pulling() -> None:
    require_registry_images([TASK], _Client(local={TASK.image}))
    remote = _Client(remote={TASK.image})
    require_registry_images([TASK], remote)
    assert remote.images.asked == [TASK.image]


def test_missing_image_names_it_and_how_to_provide_it() -> None:
    with pytest.raises(SandboxError) as info:
        require_registry_images([TASK], _Client())
    message = str(info.value)
    assert f"task {TASK.instance_id}: image {TASK.image} is not in the local engine and no registry answers" in message
    assert f"docker pull {TASK.image}" in message and "docker save" in message and "docker load" in message


def test_bundled_images_are_built_here_and_not_asked_for() -> None:
    bundled = Task("swe-srl__x-1", "swe-srl/x", "0" * 40, "issue", "", image="swe-srl-task.x:1",
                   image_source=BundledImage("x"))
    client = _Client()
    require_registry_images([bundled], client)
    assert client.images.asked == []


def test_evaluate_checks_images_before_any_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("swe_srl.images.registry.docker_client", lambda client=None: _Client())
    monkeypatch.setattr("swe_srl.recipes.evaluate.run_jobs",
                        lambda *a, **k: pytest.fail("a job started before the images were checked"))
    with pytest.raises(SandboxError, match="docker load"):
        evaluate([TASK], None, tmp_path, model=ModelIdentity("m", "m"), dataset="rows.jsonl")
