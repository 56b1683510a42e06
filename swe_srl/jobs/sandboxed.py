"""Run tasks in sandboxes, grade them, store each run resumably: the one path collect and eval take.

One job (jobs/batch.py) runs as: start a fresh sandbox of its task on the chosen backend, let the
teacher or agent act through the sandbox's tools, close the sandbox, grade the final patch with
the harness, and turn the graded trajectory into the record the store keeps. `run_jobs` does that
for many jobs on parallel workers and skips the ones already stored: threads of this process, or
with ``cluster.ray`` tasks of a Ray cluster (jobs/ray_batch.py, imported only then); the unit of
work is the plain Job record either way, and the driver alone writes the store.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from swe_srl.actions import Action
from swe_srl.config.sections import ClusterConfig
from swe_srl.dialects import DEFAULT_DIALECT, get_dialect
from swe_srl.errors import SandboxError
from swe_srl.evaluate.grade import GRADE_LABEL, grade
from swe_srl.host.docker import docker_client, reap_leftovers
from swe_srl.images.task_image import ensure_task_image
from swe_srl.jobs.batch import BatchProgress, BatchResult, Job, run_batch
from swe_srl.jobs.cluster import require_ray
from swe_srl.jobs.store import RunStore
from swe_srl.sandbox.backends import DEFAULT_BACKEND, start_sandbox
from swe_srl.sandbox.execute import ToolRunner
from swe_srl.tasks.task import Task
from swe_srl.trajectory import Trajectory

Execute = Callable[[Action], str]
# The teacher or agent: acts on one job through the sandbox's tools (``execute``) and can read its diff.
Act = Callable[[Job, Execute, Callable[[], str]], Trajectory]
Grade = Callable[[Task, str, str, Path], bool]  # task, patch, run id, log dir -> resolved
Record = Callable[[Job, Trajectory], dict[str, Any]]  # a graded run -> the record stored for it
StartSlot = Callable[[], AbstractContextManager[Any]]  # held while a sandbox starts (a node's cap on starts)


def harness_grade(task: Task, patch: str, run_id: str, log_dir: Path) -> bool:
    """Whether the official swebench harness resolves ``task`` with ``patch``; SandboxError when the
    harness failed for a reason outside the patch, so the job is not stored and a rerun retries it."""
    report = grade(task, patch, run_id=run_id, log_dir=log_dir)
    if report.infrastructure:
        raise SandboxError(f"grading {task.instance_id} failed outside the patch: {report.error}")
    return report.resolved


@dataclass(frozen=True)
class JobPlan:
    """How every job of a batch runs: acting how, on which backend, graded where, leaving what record."""

    act: Act  # the teacher or the agent
    record: Record  # what the store keeps of a graded run
    log_dir: Path  # the harness's logs go under it
    run_prefix: str  # a job's grading run id is f"{run_prefix}-{sample}"
    backend: str = DEFAULT_BACKEND  # the sandbox backend (sandbox/backends.py)
    grade: Grade = harness_grade
    dialect: str = DEFAULT_DIALECT  # how the sandbox's tools word their results (swe_srl/dialects)


def run_job(job: Job, plan: JobPlan, start_slot: StartSlot = nullcontext) -> dict[str, Any]:
    """Run one job in a fresh sandbox (started inside ``start_slot``), grade its patch, return the record to store."""
    with start_slot():
        sandbox = start_sandbox(plan.backend, job.task)
    try:
        trajectory = plan.act(job, ToolRunner(sandbox, dialect=get_dialect(plan.dialect)), sandbox.diff)
    finally:
        sandbox.close()
    resolved = plan.grade(job.task, trajectory.patch, f"{plan.run_prefix}-{job.sample}", plan.log_dir)
    return plan.record(job, replace(trajectory, resolved=resolved))


def run_jobs(
    jobs: Sequence[Job],
    plan: JobPlan,
    store: RunStore,
    *,
    workers: int = 1,
    progress: Callable[[BatchProgress], None] | None = None,
    run_one: Callable[[Job], Mapping[str, Any]] | None = None,
    cluster: ClusterConfig = ClusterConfig(),
) -> BatchResult:
    """Run every job not yet in ``store`` as ``plan`` says, on ``workers`` threads or ``cluster``; see the module
    docstring. ``run_one`` replaces `run_job` (tests; runners that need no sandbox).
    """
    if not cluster.ray:
        runner = run_one or (lambda job: run_job(job, plan))
        return run_batch(jobs, runner, store, workers=workers, progress=progress)
    require_ray(cluster)
    from swe_srl.jobs.ray_batch import NodeWork, run_batch_on_ray  # Ray is loaded only when chosen

    if run_one is not None:
        return run_batch_on_ray(jobs, lambda job, slot: run_one(job), store, cluster, progress=progress)
    tasks = list({job.task.instance_id: job.task for job in jobs}.values())
    node_work = NodeWork(prepare=lambda: [ensure_task_image(task) for task in tasks], clean=reap_node)
    return run_batch_on_ray(jobs, lambda job, slot: run_job(job, plan, slot), store, cluster, progress=progress,
                            node_work=node_work)


def reap_node() -> int:
    """Remove this host's sandbox and grading containers whose owner died (a worker lost with its node); how many."""
    from swe_srl.sandbox.docker import LABEL as SANDBOX_LABEL

    client = docker_client()
    return reap_leftovers(client, SANDBOX_LABEL) + reap_leftovers(client, GRADE_LABEL)
