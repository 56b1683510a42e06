"""The eval recipe: run a model as an agent on each task, write predictions, grade, report.

For each setting (end-to-end; oracle file edit, where the agent is told the files the gold patch
touches) every task runs once in a fresh sandbox from its image (the official SWE-bench
instance image named in the row, pulled when missing, or the bundled local image); its final
diff is graded by the official harness. Runs are stored one file each under
``out/<setting>/runs`` (agent/batch.py), so an evaluation resumes where it stopped and runs in
parallel. Outputs: ``out/<setting>/predictions.jsonl`` (swebench format), ``out/report.json``,
``out/report.html`` (and ``report.png`` with matplotlib).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from swe_srl.agent.batch import BatchProgress, Job, RunStore, run_batch
from swe_srl.atomic import write_text_atomic
from swe_srl.agent.client import ModelClient
from swe_srl.agent.loop import AgentConfig, run_agent
from swe_srl.collect import Grade, StartSandbox, docker_sandbox, harness_grade
from swe_srl.evaluate.chart import write_chart
from swe_srl.evaluate.oracle import END_TO_END, SETTINGS, setting_hint
from swe_srl.evaluate.predictions import Prediction, write_predictions
from swe_srl.evaluate.resolve_rate import EvalReport, setting_report
from swe_srl.errors import ConfigError
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

REPORT_FILE = "report.json"
PREDICTIONS_FILE = "predictions.jsonl"


def eval_job(job: Job, setting: str, make_client: Callable[[], ModelClient], config: AgentConfig, out_dir: Path,
             *, start_sandbox: StartSandbox = docker_sandbox, grade: Grade = harness_grade) -> dict[str, Any]:
    """Run the agent on one task in one setting, grade the patch, and return the record to store."""
    from swe_srl.sandbox.execute import ToolRunner

    task = job.task
    client = make_client()
    sandbox = start_sandbox(task)
    try:
        trajectory = run_agent(task, client, ToolRunner(sandbox), replace(config, hint=setting_hint(task, setting)),
                               diff=sandbox.diff)
    finally:
        sandbox.close()
    resolved = grade(task, trajectory.patch, f"eval-{setting}-{job.sample}", out_dir / setting / "grading")
    meta = trajectory.metadata
    return {
        "key": job.key, "instance_id": task.instance_id, "repo": task.repo, "setting": setting,
        "model": client.name, "resolved": resolved, "patch": trajectory.patch,
        "stop_reason": meta.get("stop_reason"), "steps": len(trajectory.steps), "malformed": meta.get("malformed", 0),
        "tokens": int(meta.get("prompt_tokens", 0)) + int(meta.get("completion_tokens", 0)),
        "cost": meta.get("cost", 0.0), "seconds": meta.get("seconds", 0.0),
        "trajectory": replace(trajectory, resolved=resolved).to_json(),
    }


def evaluate(
    tasks: Sequence[Task],
    make_client: Callable[[], ModelClient],
    out_dir: Path,
    *,
    model: str,
    dataset: str,
    settings: Sequence[str] = SETTINGS,
    config: AgentConfig = AgentConfig(),
    workers: int = 1,
    progress: Callable[[str, BatchProgress], None] | None = None,
    run_one: Callable[[Job, str], Mapping[str, Any]] | None = None,
    backend: str = "docker",
) -> EvalReport:
    """Evaluate ``make_client``'s model on ``tasks`` in each setting; resumes a stopped evaluation.

    ``run_one(job, setting)`` replaces the sandbox-and-harness runner (tests; other backends).
    """
    if backend != "docker":
        raise ConfigError(f"sandbox backend {backend!r}: eval runs its sandboxes in docker only for now")
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown or not settings:
        raise ConfigError(f"settings must be some of {', '.join(SETTINGS)}, got {list(settings)}")
    out_dir = Path(out_dir)
    jobs = [Job(task, 0) for task in tasks]
    repos = {task.instance_id: task.repo for task in tasks}
    reports = {}
    for setting in settings:
        store = RunStore(out_dir / setting / "runs")
        for key, record in store.items():
            if record.get("model") not in (None, model):
                raise ConfigError(f"{store.path(key)} is a run of model {record.get('model')!r}, not {model!r}; "
                                  "evaluate each model into its own --out folder")
        runner = (lambda job, s=setting: run_one(job, s)) if run_one else (
            lambda job, s=setting: eval_job(job, s, make_client, config, out_dir))
        report_progress = None if progress is None else (lambda p, s=setting: progress(s, p))
        result = run_batch(jobs, runner, store, workers=workers, progress=report_progress)
        wanted = [job.key for job in jobs if job.key in result.records]
        records = [result.records[key] for key in wanted]
        write_predictions(
            (Prediction(r["instance_id"], str(r.get("model", model)), r.get("patch", "")) for r in records),
            out_dir / setting / PREDICTIONS_FILE,
        )
        failed = [(job.task.instance_id, repos[job.task.instance_id]) for job in jobs if job.key in result.failed]
        reports[setting] = setting_report(setting, records, failed)
    report = EvalReport(model=model, dataset=dataset, settings=reports)
    write_text_atomic(out_dir / REPORT_FILE, json.dumps(report.to_json(), indent=2) + "\n")
    write_chart(report, out_dir)
    return report


__all__ = ["END_TO_END", "SETTINGS", "eval_job", "evaluate"]
