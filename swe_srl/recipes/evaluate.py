"""The eval recipe: run a model as an agent on each task, write predictions, grade, report.

For each setting (end-to-end; oracle file edit, where the agent is told the files the gold patch
touches) every task runs once in a fresh sandbox from its image (the official SWE-bench
instance image named in the row, pulled when missing, or the bundled local image); its final
diff is graded by the official harness. Runs are stored one file each under
``out/<setting>/runs`` (jobs/), so an evaluation resumes where it stopped and runs in parallel.
Outputs: ``out/<setting>/predictions.jsonl`` (swebench format), ``out/report.json``,
``out/report.html`` (the chart and a row per task run, evaluate/chart.py).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from swe_srl.agent.client import ModelClient
from swe_srl.agent.identity import ModelIdentity
from swe_srl.agent.loop import AgentConfig, run_agent
from swe_srl.atomic import write_text_atomic
from swe_srl.config.sections import ClusterConfig
from swe_srl.errors import ConfigError
from swe_srl.evaluate.chart import write_chart
from swe_srl.evaluate.grade import graded_apply_failed
from swe_srl.evaluate.oracle import SETTINGS, setting_hint
from swe_srl.evaluate.predictions import Prediction, write_predictions
from swe_srl.evaluate.resolve_rate import EvalReport, SettingReport, setting_report
from swe_srl.evaluate.runs import REPORT_FILE, EvalRun
from swe_srl.images.registry import require_registry_images
from swe_srl.jobs.batch import BatchProgress, BatchResult, Job
from swe_srl.jobs.cluster import held_cluster
from swe_srl.jobs.sandboxed import Act, Execute, JobPlan, run_jobs
from swe_srl.jobs.store import RunStore
from swe_srl.sandbox.backends import DEFAULT_BACKEND
from swe_srl.tasks.gradable import check_rows
from swe_srl.tasks.task import Task
from swe_srl.trajectory import Trajectory

log = logging.getLogger(__name__)

PREDICTIONS_FILE = "predictions.jsonl"


def agent_in(setting: str, make_client: Callable[[], ModelClient], config: AgentConfig) -> Act:
    """The model as an agent, told what ``setting`` tells it (the gold patch's files, in the oracle setting)."""

    def act(job: Job, execute: Execute, diff: Callable[[], str]) -> Trajectory:
        hinted = replace(config, hint=setting_hint(job.task, setting))
        return run_agent(job.task, make_client(), execute, hinted, diff=diff)

    return act


def run_prefix(setting: str) -> str:
    """A job's grading run id is ``f"{run_prefix(setting)}-{sample}"``."""
    return f"eval-{setting}"


def eval_record(setting: str, model: str, log_dir: Path | None = None) -> Callable[[Job, Trajectory], dict[str, Any]]:
    """What the store keeps of one graded run of ``model`` (an identity key) in ``setting``: the prediction,
    the verdict, whether the patch applied (from the grading logs under ``log_dir``, where given), the
    costs, the run."""

    def record(job: Job, trajectory: Trajectory) -> dict[str, Any]:
        task, meta = job.task, trajectory.metadata
        run_id = f"{run_prefix(setting)}-{job.sample}"
        apply_failed = None if log_dir is None else graded_apply_failed(log_dir, run_id, task.instance_id)
        return {
            "key": job.key, "instance_id": task.instance_id, "repo": task.repo, "setting": setting,
            "model": model, "resolved": trajectory.resolved, "patch": trajectory.patch,
            "patch_apply_failed": apply_failed, "stop_reason": meta.get("stop_reason"), "steps": len(trajectory.steps),
            "malformed": meta.get("malformed", 0),
            "tokens": int(meta.get("prompt_tokens", 0)) + int(meta.get("completion_tokens", 0)),
            "cost": meta.get("cost", 0.0), "seconds": meta.get("seconds", 0.0),
            "trajectory": trajectory.to_json(),
        }

    return record


def evaluate(
    tasks: Sequence[Task],
    make_client: Callable[[], ModelClient],
    out_dir: Path,
    *,
    model: ModelIdentity,
    dataset: str,
    settings: Sequence[str] = SETTINGS,
    config: AgentConfig = AgentConfig(),
    workers: int = 1,
    progress: Callable[[str, BatchProgress], None] | None = None,
    run_one: Callable[[Job, str], Mapping[str, Any]] | None = None,
    backend: str = DEFAULT_BACKEND,
    revision: str = "",
    skip_ungradable: bool = False,
    cluster: ClusterConfig = ClusterConfig(),
) -> EvalReport:
    """Evaluate ``make_client``'s model (``model``) on ``tasks`` of ``dataset`` (at ``revision``) in each setting.

    A folder holding runs of another model is refused before anything runs. Every row is checked
    first: one the harness cannot grade stops the evaluation before any sandbox starts, or with
    ``skip_ungradable`` is left out and listed in the report. A stopped evaluation resumes; runs
    that did not finish are listed apart (``SettingReport.failed``) and run again next time.
    ``backend`` names the sandbox backend (sandbox/backends.py), ``cluster`` where the jobs run
    (threads here or a Ray cluster); ``run_one(job, setting)`` replaces the sandbox-and-harness
    runner (tests).
    """
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown or not settings:
        raise ConfigError(f"settings must be some of {', '.join(SETTINGS)}, got {list(settings)}")
    checked = check_rows(tasks, dataset, skip_ungradable=skip_ungradable)
    out_dir = Path(out_dir)
    stores = {setting: RunStore(out_dir / setting / "runs") for setting in settings}
    for store in stores.values():
        store.require_model(model.key)
    if run_one is None:  # the real runner: images first, so a missing one stops before any agent runs
        require_registry_images(checked.tasks)
    jobs = [Job(task, 0) for task in checked.tasks]
    reports = {}
    with held_cluster(cluster):  # one cluster (a local one started once) for every setting
        for setting, store in stores.items():
            log_dir = out_dir / setting / "grading"
            plan = JobPlan(agent_in(setting, make_client, config), eval_record(setting, model.key, log_dir),
                           log_dir, run_prefix(setting), backend, dialect=config.stepwise.observation_dialect)
            runner = (lambda job, s=setting: run_one(job, s)) if run_one else None
            report_progress = None if progress is None else (lambda p, s=setting: progress(s, p))
            result = run_jobs(jobs, plan, store, workers=workers, progress=report_progress, run_one=runner,
                              cluster=cluster)
            reports[setting] = _setting_outputs(setting, jobs, result, model.key, out_dir / setting)
    report = EvalReport(model=model.name, model_id=model.key, dataset=dataset, settings=reports, revision=revision,
                        rows=len(tasks), skipped=tuple(bad.line(dataset) for bad in checked.skipped))
    write_text_atomic(out_dir / REPORT_FILE, json.dumps(report.to_json(), indent=2) + "\n")
    write_chart([EvalRun.read(out_dir)], out_dir)
    return report


def _setting_outputs(setting: str, jobs: Sequence[Job], result: BatchResult, model_key: str,
                     folder: Path) -> SettingReport:
    """Write one setting's predictions (its stored runs, in task order) and return its report: runs that did
    not finish (their own error, or lost to the cluster past its retries) apart from the rates."""
    records = [result.records[job.key] for job in jobs if job.key in result.records]
    write_predictions((Prediction(r["instance_id"], model_key, r.get("patch", "")) for r in records),
                      folder / PREDICTIONS_FILE)
    failed = {job.task.instance_id: result.failed[job.key] for job in jobs if job.key in result.failed}
    failed |= {job.task.instance_id: f"infrastructure: lost to the cluster: {result.infra_failed[job.key]}"
               for job in jobs if job.key in result.infra_failed}
    return setting_report(setting, records, failed)

