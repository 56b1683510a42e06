"""The image a task's sandbox (and its grading) starts from, made as the row's ``image_source`` says."""

from __future__ import annotations

from typing import Any

from swe_srl.errors import SandboxError
from swe_srl.host.docker import docker_client, has_image
from swe_srl.images.bundled import ensure_bundled_image
from swe_srl.images.rebuild import rebuild_task_image
from swe_srl.images.registry import pull_image
from swe_srl.tasks.image_source import BundledImage, SynthesizedImage
from swe_srl.tasks.task import Task


def ensure_task_image(task: Task, client: Any | None = None) -> str:
    """The name of ``task``'s image: built (bundled), pulled (registry) or rebuilt (synthesized) when missing."""
    client = docker_client(client)
    source = task.image_source
    if isinstance(source, BundledImage):
        return ensure_bundled_image(task, source, client)
    if not task.image:
        raise SandboxError(f"task {task.instance_id}: the row has no 'image' field and the task is not bundled; "
                           "add the SWE-bench image name (e.g. swebench/sweb.eval.x86_64.<id>:latest)")
    if isinstance(source, SynthesizedImage) and has_image(client, task.image) is None:
        # Synthesized tasks' images live in no registry: rebuilt from the package's sdist instead.
        return rebuild_task_image(task, source, client)
    return pull_image(task.image, client, instance_id=task.instance_id)
