"""The collect recipe: run a teacher on tasks in sandboxes, grade each run, store the trajectories.

A teacher is the scripted one (swe_srl/agent/scripted.py, a known-fix route per seed), a model
behind the agent loop (an OpenAI-compatible endpoint, a local checkpoint), or recorded runs
replayed. Each (task, sample) runs in its own fresh sandbox (docker or local) on one of
``workers`` threads; the harness grades its final diff; the graded trajectory is stored whole as
``runs/<task>_<sample>.json`` (jobs/), so an interrupted collection resumes where it stopped and
never runs or writes a finished job twice.
At the end the folder gets, each written atomically:

- ``trajectories.swe-gym.jsonl``: SWE-Gym chat rows with ``resolved`` (the bundled data's format),
- ``trajectories.jsonl``: our own store (``Trajectory.to_json`` lines) for step-wise data building,
- ``summary.json``: resolved %, steps, tokens, cost.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from swe_srl.agent.client import ModelClient
from swe_srl.agent.loop import AgentConfig, run_agent
from swe_srl.agent import scripted
from swe_srl.agent.replay import replay
from swe_srl.atomic import remove_stale_temps, write_text_atomic
from swe_srl.config.sections import ClusterConfig
from swe_srl.dialects import DEFAULT_DIALECT, DIALECT_KEY
from swe_srl.errors import ConfigError
from swe_srl.formats.importing import import_paths
from swe_srl.formats.openhands_rows import to_chat_row
from swe_srl.images.registry import require_registry_images
from swe_srl.jobs.batch import BatchProgress, Job
from swe_srl.jobs.sandboxed import Act, Execute, JobPlan, run_jobs
from swe_srl.jobs.store import RunStore
from swe_srl.sandbox.backends import DEFAULT_BACKEND
from swe_srl.tasks.gradable import check_rows
from swe_srl.tasks.task import Task
from swe_srl.trajectory import Trajectory, dumps

log = logging.getLogger(__name__)

ROWS_FILE = "trajectories.swe-gym.jsonl"
STORE_FILE = "trajectories.jsonl"
SUMMARY_FILE = "summary.json"
RUNS_DIR = "runs"

@dataclass(frozen=True)
class CollectSummary:
    runs: int  # jobs run now
    reused: int  # jobs found finished in the output and kept
    resolved: int  # of all stored trajectories
    steps: int  # of all stored trajectories
    path: Path  # the SWE-Gym rows file
    failed: int = 0  # jobs that raised now (not stored; a rerun retries them)
    infra_failed: int = 0  # jobs whose node or worker died past its retries (not stored; a rerun retries them)
    skipped_ungradable: int = 0  # task rows the harness could not grade, left out (--skip-ungradable)
    total: int = 0  # stored trajectories
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    @property
    def resolved_rate(self) -> float:
        return self.resolved / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"runs": self.runs, "reused": self.reused, "failed": self.failed, "infra_failed": self.infra_failed,
                "skipped_ungradable": self.skipped_ungradable, "total": self.total,
                "resolved": self.resolved, "resolved_rate": round(self.resolved_rate, 4), "steps": self.steps,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "cost": round(self.cost, 6), "path": str(self.path)}


@dataclass(frozen=True)
class Teacher:
    """Who acts on each job, through the sandbox's tools (reading its diff too), and its name in run records."""

    act: Act
    model: str  # "scripted", "replay", or the model's identity key (agent/identity.py); one per folder


def scripted_teacher() -> Teacher:
    """The scripted known-fix route; the job's sample is the route's seed."""
    return Teacher(lambda job, execute, diff: scripted.record(job.task, job.sample, execute), "scripted")


def agent_teacher(make_client: Callable[[], ModelClient], model: str, config: AgentConfig = AgentConfig()) -> Teacher:
    """A model (identity key ``model``) behind the agent loop; ``make_client`` is called once per job."""

    def teach(job: Job, execute: Execute, diff: Callable[[], str]) -> Trajectory:
        trajectory = run_agent(job.task, make_client(), execute, config, diff=diff)
        meta = {**trajectory.metadata, "trajectory_id": job.key, "seed": job.sample, "teacher": "agent"}
        return replace(trajectory, metadata=meta)

    return Teacher(teach, model)


def replay_teacher(trajectories: Iterable[Trajectory]) -> Teacher:
    """Re-execute recorded runs: job (task, sample) replays the trajectory whose id is ``<task>_<sample>``."""
    recorded = {t.trajectory_id: t for t in trajectories}

    def teach(job: Job, execute: Execute, diff: Callable[[], str]) -> Trajectory:
        if job.key not in recorded:
            raise ConfigError(f"no recorded trajectory '{job.key}' to replay (have {len(recorded)})")
        trajectory = replay(recorded[job.key], job.task, execute, diff)
        meta = {**trajectory.metadata, "trajectory_id": job.key, "seed": job.sample, "teacher": "replay"}
        return replace(trajectory, metadata=meta)

    return Teacher(teach, "replay")


def recorded_dialect(trajectories: Iterable[Trajectory]) -> str | None:
    """The observation dialect every one of ``trajectories`` was recorded in; None when they differ or name none."""
    names = {t.metadata.get(DIALECT_KEY) for t in trajectories}
    return names.pop() if len(names) == 1 else None


def run_record(model: str) -> Callable[[Job, Trajectory], dict[str, Any]]:
    """What the store keeps of one graded run of ``model``: the whole trajectory."""

    def record(job: Job, trajectory: Trajectory) -> dict[str, Any]:
        return {"key": job.key, "instance_id": job.task.instance_id, "sample": job.sample, "model": model,
                "resolved": trajectory.resolved, "trajectory": trajectory.to_json()}

    return record


def collect(
    tasks: Sequence[Task],
    teacher: Teacher,
    out_dir: Path,
    *,
    samples: Sequence[int] = (0,),
    workers: int = 1,
    progress: Callable[[BatchProgress], None] | None = None,
    run_one: Callable[[Job], Mapping[str, Any]] | None = None,
    backend: str = DEFAULT_BACKEND,
    skip_ungradable: bool = False,
    source: str = "tasks",
    dialect: str = DEFAULT_DIALECT,
    cluster: ClusterConfig = ClusterConfig(),
) -> CollectSummary:
    """Collect one graded trajectory per (task, sample) into ``out_dir``; resumes a stopped run.

    Every row of ``tasks`` (read from ``source``) is checked first: one the harness cannot grade
    stops the collection before any sandbox starts, or with ``skip_ungradable`` is left out and
    counted; a folder holding runs of another teacher is refused. The sandbox's tools word their
    results in ``dialect``. ``backend`` names the sandbox backend (sandbox/backends.py), ``cluster``
    where the jobs run (threads here or a Ray cluster); ``run_one`` replaces the sandbox-and-harness
    job runner (tests).
    """
    checked = check_rows(tasks, source, skip_ungradable=skip_ungradable)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_dir)  # an output rewrite cut short by the last crash
    store = RunStore(out_dir / RUNS_DIR)
    _adopt_rows(out_dir / ROWS_FILE, store)
    store.require_model(teacher.model)
    if run_one is None:  # the real runner: images first, so a missing one stops before any agent runs
        require_registry_images(checked.tasks)
    jobs = [Job(task, sample) for task in checked.tasks for sample in samples]
    plan = JobPlan(teacher.act, run_record(teacher.model), out_dir / "grading", "collect", backend, dialect=dialect)
    try:
        result = run_jobs(jobs, plan, store, workers=workers, progress=progress, run_one=run_one, cluster=cluster)
    except BaseException:
        write_outputs(out_dir, store)  # after Ctrl-C too: the outputs hold every run finished so far
        raise
    return write_outputs(out_dir, store, runs=result.ran, reused=result.reused, failed=len(result.failed),
                         infra_failed=len(result.infra_failed), skipped=len(checked.skipped))


def _adopt_rows(rows_file: Path, store: RunStore) -> None:
    """Rows a collection of the older layout (one rows file, no runs/) left: stored as finished runs."""
    if not rows_file.is_file() or store.keys():
        return
    adopted = 0
    for trajectory in import_paths([rows_file], format="swe-gym"):
        key = trajectory.trajectory_id
        task_id, _, sample = key.rpartition("_")
        if not sample.isdigit() or task_id != trajectory.task_id:
            continue
        meta = {**trajectory.metadata, "seed": int(sample)}
        record = {"key": key, "instance_id": task_id, "sample": int(sample), "resolved": trajectory.resolved,
                  "trajectory": replace(trajectory, source_format="agent", metadata=meta).to_json()}
        store.put(key, record)
        adopted += 1
    log.info("adopted %d runs from %s", adopted, rows_file)


def write_outputs(out_dir: Path, store: RunStore, *, runs: int = 0, reused: int = 0, failed: int = 0,
                  infra_failed: int = 0, skipped: int = 0) -> CollectSummary:
    """Rebuild the rows file, the trajectory store and the summary from every stored run."""
    trajectories: list[Trajectory] = []
    for key, record in store.items():
        trajectories.append(Trajectory.from_json(record["trajectory"], source=str(store.path(key))))
    rows = [json.dumps(to_chat_row(t, sample=int(t.metadata.get("seed", 0))), ensure_ascii=False) for t in trajectories]
    write_text_atomic(out_dir / ROWS_FILE, "".join(line + "\n" for line in rows))
    write_text_atomic(out_dir / STORE_FILE, "".join(dumps(t) + "\n" for t in trajectories))
    summary = CollectSummary(
        runs=runs, reused=reused, failed=failed, infra_failed=infra_failed, skipped_ungradable=skipped,
        total=len(trajectories), path=out_dir / ROWS_FILE,
        resolved=sum(bool(t.resolved) for t in trajectories),
        steps=sum(len(t.steps) for t in trajectories),
        prompt_tokens=sum(int(t.metadata.get("prompt_tokens", 0)) for t in trajectories),
        completion_tokens=sum(int(t.metadata.get("completion_tokens", 0)) for t in trajectories),
        cost=sum(float(t.metadata.get("cost", 0.0)) for t in trajectories),
    )
    write_text_atomic(out_dir / SUMMARY_FILE, json.dumps(summary.to_json(), indent=2) + "\n")
    return summary


def collect_scripted(
    tasks: Sequence[Task],
    seeds: Sequence[int],
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
) -> CollectSummary:
    """Record one scripted route per (task, seed) and write graded SWE-Gym rows to ``out_dir``."""
    report = None if progress is None else (lambda p: progress(f"{p.key} ({p.done}/{p.total})"))
    return collect(tasks, scripted_teacher(), out_dir, samples=seeds, workers=workers, progress=report)
