"""Grade patches with the official swebench 5 harness (`run_instance`) against each task's image.

The harness is driven as it is, with three adjustments made from the outside:
- it writes logs under the relative module constant ``RUN_EVALUATION_LOG_DIR``; we point that
  constant at the directory we choose for the length of the call (no chdir), one root at a time;
- its container runs ``tail -f /dev/null`` as PID 1, which ignores SIGTERM, so its
  ``docker stop --time=15`` cleanup waits the full 15 s; we hand it a client that creates the
  container with ``init=True`` (docker-init forwards the signal) and our label, and force-remove
  whatever it created afterwards in case its CLI-based cleanup failed;
- it returns a cached report.json when one exists, so an instance's log folder is cleared first;
- it prints an EvaluationError to stdout; while we drive it, its module's ``print`` logs instead;
- it starts the container as root with CAP_SYS_ADMIN and the default network; ours gets no
  network, only the capabilities root needs to apply a patch and run tests in a repo owned by
  the agent, no new privileges, and the sandbox's memory, CPU, process and file size limits.

Before a patch reaches the harness, the files it may not change (tests, test-runner
configuration, interpreter start-up hooks) are set aside: see protected_files.py. Where the eval
script runs pytest, a guard plugin watches the run, and a log its record does not back is not
believed: see guard.py.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Iterator

import docker
from swebench.harness import run_evaluation as harness
from swebench.harness.constants import LOG_INSTANCE, LOG_TEST_OUTPUT, RUN_EVALUATION_LOG_DIR
from swebench.harness.grading import get_logs_eval
from swebench.harness.utils import make_test_spec

from swe_srl.errors import ConfigError
from swe_srl.evaluate.guard import distrust, guard_script
from swe_srl.evaluate.protected_files import screen_for
from swe_srl.evaluate.report import GradeReport, build_report, patch_apply_failed
from swe_srl.host.docker import docker_client, owned_labels, reap_leftovers
from swe_srl.images.task_image import ensure_task_image
from swe_srl.sandbox.base import SandboxLimits
from swe_srl.tasks.gradable import check_gradable
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

MODEL_NAME = "swe-srl"  # the harness's model_name_or_path: one folder level under the run id
GRADE_LABEL = "swe-srl.grade"  # "1" on grading containers (with their owner and run id), for reaping
RUN_LABEL = "swe-srl.run"
# The harness names containers f"sweb.eval.{instance_id}.{run_id}", and makes run_id a folder.
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# What root needs in a grading container: write the agent's files, apply patches, run tests.
GRADING_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID"]


def grade(
    task: Task,
    patch: str,
    *,
    run_id: str,
    log_dir: Path | None = None,
    timeout: int = 900,
    client: docker.DockerClient | None = None,
) -> GradeReport:
    """Apply ``patch`` in a fresh container of the task's image, run its eval script, grade it.

    An empty patch is graded as the unchanged base (the harness's own no-patch mode). Logs go to
    ``log_dir / run_id / MODEL_NAME / instance_id`` (``log_dir`` defaults to the harness's
    ``./logs/run_evaluation``); an earlier grading there is replaced. ``timeout`` bounds the
    eval script, in seconds.
    """
    check_gradable(task)
    _check_run_id(run_id)
    client = client or _docker_client()
    reap_leftovers(client, GRADE_LABEL)
    return _grade(task, patch, ensure_task_image(task, client), _HarnessRun(run_id, _root(log_dir), timeout, client))


def grade_many(
    pairs: Iterable[tuple[Task, str]],
    *,
    run_id: str,
    log_dir: Path | None = None,
    timeout: int = 900,
    workers: int = 2,
    client: docker.DockerClient | None = None,
) -> list[GradeReport]:
    """Grade (task, patch) pairs on ``workers`` threads; reports come back in input order.

    Like a harness run, one run holds one patch per instance (its logs live in one folder per
    instance); grade other patches for the same instance under another run id.
    """
    pairs = list(pairs)
    seen: set[str] = set()
    for task, _ in pairs:
        check_gradable(task)
        if task.instance_id in seen:
            raise ConfigError(f"run {run_id}: two patches for {task.instance_id}; "
                              "grade each under its own run id (they would share one log folder)")
        seen.add(task.instance_id)
    _check_run_id(run_id)
    client = client or _docker_client()
    reap_leftovers(client, GRADE_LABEL)
    # Images first and one at a time, so two threads never build the same image.
    images = {task.instance_id: ensure_task_image(task, client) for task, _ in pairs}
    run = _HarnessRun(run_id, _root(log_dir), timeout, client)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(_grade, task, patch, images[task.instance_id], run) for task, patch in pairs]
        return [f.result() for f in futures]


def instance_log_dir(log_dir: Path | None, run_id: str, instance_id: str) -> Path:
    """Where grading ``instance_id`` in run ``run_id`` under ``log_dir`` leaves its logs."""
    return _root(log_dir) / run_id / MODEL_NAME / instance_id


def graded_apply_failed(log_dir: Path, run_id: str, instance_id: str) -> bool | None:
    """Whether the patch graded there did not apply; None where that grading left no run_instance.log."""
    instance_log = instance_log_dir(log_dir, run_id, instance_id) / LOG_INSTANCE
    return patch_apply_failed(instance_log.read_text(errors="replace")) if instance_log.is_file() else None


@dataclass(frozen=True)
class _HarnessRun:
    """What every grading of one harness run shares."""

    run_id: str  # names the grading containers and a log folder
    root: Path  # the log root; an instance's logs go to root / run_id / MODEL_NAME / instance_id
    timeout: int  # seconds for the eval script
    client: docker.DockerClient


def _grade(task: Task, patch: str, image: str, run: _HarnessRun) -> GradeReport:
    run_id, root = run.run_id, run.root
    row = task.to_row()
    row["image"] = image
    row["eval_script"], guarded = guard_script(row["eval_script"])
    spec = make_test_spec(row)
    screened = screen_for(task, patch)
    if screened.set_aside:
        log.info("grading %s: set aside %s", task.instance_id, ", ".join(sorted(screened.set_aside)))
    patch = screened.patch
    skip = not patch.strip()
    if not skip and not patch.endswith("\n"):
        patch += "\n"  # git apply calls a patch whose last line lacks its newline corrupt
    pred = {"instance_id": task.instance_id, "model_name_or_path": MODEL_NAME, "model_patch": patch}
    folder = instance_log_dir(root, run_id, task.instance_id)
    labelling = _LabellingClient(run.client, run_id)
    with _instance_lock(task.instance_id), _harness_logs_at(root):
        shutil.rmtree(folder, ignore_errors=True)  # else run_instance returns the old report.json
        start = time.monotonic()
        try:
            result = harness.run_instance(spec, pred, labelling, run_id, timeout=run.timeout, skip_patch=skip)
        finally:
            labelling.remove_created()
        duration = time.monotonic() - start
    test_log = folder / LOG_TEST_OUTPUT
    status_map: dict[str, str] = {}
    distrusted = None
    if test_log.is_file():
        status_map, _ = get_logs_eval(spec, str(test_log))
        if guarded:
            distrusted = distrust(test_log.read_text(errors="replace"), status_map)
    instance_log = folder / LOG_INSTANCE
    report = build_report(
        instance_id=task.instance_id,
        run_id=run_id,
        fail_to_pass=spec.FAIL_TO_PASS,
        pass_to_pass=spec.PASS_TO_PASS,
        harness_report=result[1] if result else None,
        status_map=status_map,
        instance_log=instance_log.read_text(errors="replace") if instance_log.is_file() else "",
        patch_skipped=skip,
        log_dir=folder,
        duration_s=duration,
    )
    report = replace(report, set_aside=screened.set_aside, distrusted=distrusted,
                     resolved=report.resolved and distrusted is None)
    if distrusted:
        log.warning("grading %s: the test log is not believed: %s", task.instance_id, distrusted)
    log.info("graded %s in %.1fs: resolved=%s", task.instance_id, duration, report.resolved)
    return report


def _docker_client() -> docker.DockerClient:
    """A client that waits as long as the harness's own calls may take."""
    return docker_client(timeout=harness.DOCKER_CLIENT_TIMEOUT)


def _check_run_id(run_id: str) -> None:
    if not _RUN_ID.fullmatch(run_id):
        raise ConfigError(f"run_id {run_id!r}: use letters, digits, '_', '.', '-' (it names containers and a folder)")


def _root(log_dir: Path | None) -> Path:
    return Path(log_dir if log_dir is not None else RUN_EVALUATION_LOG_DIR).resolve()


# The harness reads its log root from a module global; several threads may share one root,
# and a thread wanting another root waits until the current one is released.
_root_cond = threading.Condition()
_root_users = 0


def _harness_print(*args: Any, **_: Any) -> None:
    log.info("swebench: %s", " ".join(str(a) for a in args))


@contextmanager
def _harness_logs_at(root: Path) -> Iterator[None]:
    global _root_users
    with _root_cond:
        _root_cond.wait_for(lambda: _root_users == 0 or harness.RUN_EVALUATION_LOG_DIR == root)
        harness.RUN_EVALUATION_LOG_DIR = root
        harness.print = _harness_print  # a module global shadows the builtin for that module only
        _root_users += 1
    try:
        yield
    finally:
        with _root_cond:
            _root_users -= 1
            if _root_users == 0:
                harness.RUN_EVALUATION_LOG_DIR = RUN_EVALUATION_LOG_DIR
                del harness.print
            _root_cond.notify_all()


_locks_guard = threading.Lock()
_instance_locks: dict[str, threading.Lock] = {}


@contextmanager
def _instance_lock(instance_id: str) -> Iterator[None]:
    with _locks_guard:
        lock = _instance_locks.setdefault(instance_id, threading.Lock())
    with lock:
        yield


class _LabellingClient:
    """The docker client the harness gets: containers start under docker-init, labelled, and tracked."""

    def __init__(self, client: docker.DockerClient, run_id: str) -> None:
        self._client = client
        self.containers = _LabellingContainers(client.containers, run_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def remove_created(self) -> None:
        """Force-remove what the harness created, should its own cleanup have failed."""
        for container_id in self.containers.created:
            try:
                self._client.containers.get(container_id).remove(force=True)
                log.warning("removed grading container %s that the harness left behind", container_id[:12])
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as err:
                log.warning("could not remove grading container %s: %s", container_id[:12], err)


class _LabellingContainers:
    def __init__(self, containers: Any, run_id: str) -> None:
        self._containers = containers
        self._run_id = run_id
        self.created: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._containers, name)

    def create(self, *args: Any, **kwargs: Any) -> Any:
        limits = SandboxLimits()
        kwargs.setdefault("init", True)
        kwargs.pop("cap_add", None)  # the harness asks for SYS_ADMIN (browser sandboxes); no test here needs it
        kwargs.update(cap_drop=["ALL"], cap_add=GRADING_CAPABILITIES, security_opt=["no-new-privileges"],
                      network_mode="none", mem_limit=limits.memory, memswap_limit=limits.memory,
                      nano_cpus=int(limits.cpus * 1e9), pids_limit=limits.pids,
                      ulimits=[docker.types.Ulimit(name="fsize", soft=limits.file_size, hard=limits.file_size)])
        kwargs["labels"] = {**(kwargs.get("labels") or {}), **owned_labels(GRADE_LABEL, **{RUN_LABEL: self._run_id})}
        container = self._containers.create(*args, **kwargs)
        self.created.append(container.id)
        return container
