"""An evaluation folder read back for its page: the report, and one row per task run.

``swe-srl eval --out DIR`` leaves ``DIR/report.json`` and, per setting, ``DIR/<setting>/runs/<key>.json``
(one record per finished run, recipes/evaluate.py). A run that did not finish has no record; the
report lists it (``failed``) with its error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from swe_srl.errors import ConfigError, DataError
from swe_srl.evaluate.resolve_rate import EvalReport, RepoRate, SettingReport

REPORT_FILE = "report.json"
RESOLVED, UNRESOLVED, NOT_FINISHED = "resolved", "unresolved", "not finished"
# Why an unresolved run failed, as far as its record tells.
NO_PATCH, NO_APPLY, TESTS_FAIL, INFRASTRUCTURE, LIMIT = (
    "no patch", "patch does not apply", "tests fail", "infrastructure", "step or token limit")
LIMIT_STOPS = ("step_limit", "token_limit", "cost_limit", "context_limit", "malformed_limit")


@dataclass(frozen=True)
class TaskRow:
    """One task's run in one setting, as the page's table shows it."""

    instance_id: str
    setting: str
    status: str  # RESOLVED, UNRESOLVED or NOT_FINISHED
    cause: str = ""  # why it is not resolved, where known (the constants above), or the error
    turns: int | None = None
    tokens: int | None = None
    cost: float | None = None
    record: Path | None = None  # the stored run (its trajectory inside)


@dataclass(frozen=True)
class EvalRun:
    """One evaluation folder: its report and its task rows."""

    folder: Path
    report: EvalReport
    rows: tuple[TaskRow, ...]

    @property
    def name(self) -> str:
        return self.report.model or self.folder.name

    @classmethod
    def read(cls, folder: Path) -> "EvalRun":
        folder = Path(folder)
        path = folder / REPORT_FILE
        if not path.is_file():
            raise ConfigError(f"{folder}: no {REPORT_FILE} here; give the --out folder of `swe-srl eval`")
        try:
            report = report_from_json(json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise DataError(f"not an evaluation report ({err}); run `swe-srl eval` again", source=str(path)) from None
        rows = [row for name, setting in report.settings.items() for row in setting_rows(folder / name / "runs", setting)]
        return cls(folder, report, tuple(rows))


def report_from_json(data: Mapping[str, Any]) -> EvalReport:
    """The EvalReport that ``EvalReport.to_json`` wrote."""
    settings = {name: SettingReport(
        setting=name, overall=_rate(s["overall"]), per_repo={r: _rate(v) for r, v in s["per_repo"].items()},
        instances=dict(s.get("instances", {})), failed=dict(s.get("failed") or {}),
        steps=int(s.get("steps", 0)), tokens=int(s.get("tokens", 0)), cost=float(s.get("cost", 0.0)),
    ) for name, s in data["settings"].items()}
    return EvalReport(model=data["model"], dataset=data["dataset"], settings=settings,
                      revision=data.get("revision", ""), rows=int(data.get("rows", 0)),
                      skipped=tuple(data.get("skipped_ungradable", ())), model_id=data.get("model_name_or_path", ""))


def _rate(data: Mapping[str, Any]) -> RepoRate:
    return RepoRate(int(data["resolved"]), int(data["total"]))


def setting_rows(runs_dir: Path, setting: SettingReport) -> list[TaskRow]:
    """A row per instance of ``setting``: finished runs from their records in ``runs_dir``, then the unfinished."""
    records = {}
    for path in sorted(Path(runs_dir).glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        records[record.get("instance_id", path.stem)] = (path, record)
    rows = [finished_row(setting.setting, *records[i]) if i in records else TaskRow(
        i, setting.setting, RESOLVED if resolved else UNRESOLVED) for i, resolved in setting.instances.items()]
    rows += [TaskRow(i, setting.setting, NOT_FINISHED, f"{INFRASTRUCTURE}: {error}") for i, error in setting.failed.items()]
    return rows


def finished_row(setting: str, path: Path, record: Mapping[str, Any]) -> TaskRow:
    """The row of one stored run."""
    resolved = bool(record.get("resolved"))
    return TaskRow(record.get("instance_id", path.stem), setting, RESOLVED if resolved else UNRESOLVED,
                   "" if resolved else failure_cause(record), turns=turns(record), tokens=record.get("tokens"),
                   cost=record.get("cost"), record=path)


def turns(record: Mapping[str, Any]) -> int | None:
    """The model's turns in a run: its calls (malformed replies too), or its steps where calls are not recorded."""
    calls = (record.get("trajectory") or {}).get("metadata", {}).get("model_calls")
    return int(calls) if calls is not None else record.get("steps")


def failure_cause(record: Mapping[str, Any]) -> str:
    """Why an unresolved run failed: the agent stopped at a limit, left no patch, its patch did not apply
    (where the grading log said so: ``patch_apply_failed``), or the tests failed."""
    if not (record.get("patch") or "").strip():
        stop = record.get("stop_reason")
        return f"{LIMIT} ({stop})" if stop in LIMIT_STOPS else NO_PATCH
    if record.get("patch_apply_failed"):
        return NO_APPLY
    return TESTS_FAIL
