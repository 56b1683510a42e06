"""The evaluation report: resolve rate overall and per repository, per setting (pure)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping


@dataclass(frozen=True)
class RepoRate:
    """Resolved instances of one repository (or of all)."""

    resolved: int
    total: int

    @property
    def rate(self) -> float:
        return self.resolved / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"resolved": self.resolved, "total": self.total, "rate": round(self.rate, 4)}


@dataclass(frozen=True)
class SettingReport:
    """One setting's outcome: overall, per repository, and per instance."""

    setting: str
    overall: RepoRate
    per_repo: Mapping[str, RepoRate]
    instances: Mapping[str, bool] = field(default_factory=dict)  # instance id -> resolved, of finished runs
    # instance id -> why its run did not finish (a model server down, a sandbox that would not start):
    # not counted in any rate, not stored, run again by the next evaluation into the same folder
    failed: Mapping[str, str] = field(default_factory=dict)
    steps: int = 0
    tokens: int = 0
    cost: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"setting": self.setting, "overall": self.overall.to_json(),
                "per_repo": {repo: r.to_json() for repo, r in sorted(self.per_repo.items())},
                "instances": dict(sorted(self.instances.items())), "failed": dict(sorted(self.failed.items())),
                "steps": self.steps, "tokens": self.tokens, "cost": round(self.cost, 6)}


@dataclass(frozen=True)
class EvalReport:
    """An evaluation of one model on one dataset, in one or more settings."""

    model: str
    dataset: str  # the hub dataset, "bundled", or the task file
    settings: Mapping[str, SettingReport]
    revision: str = ""  # the hub commit, or the task file's content hash
    rows: int = 0  # rows in the dataset as given (after --instances / --limit)
    skipped: tuple[str, ...] = ()  # "row N (instance): field 'x' ..." for each ungradable row skipped
    model_id: str = ""  # the model's identity (agent/identity.py), as in the predictions' model_name_or_path

    @property
    def failed(self) -> int:
        """Runs that did not finish, over all settings: the evaluation is not complete while any remain."""
        return sum(len(report.failed) for report in self.settings.values())

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "model_name_or_path": self.model_id, "dataset": self.dataset,
                "revision": self.revision, "rows": self.rows,
                "skipped_ungradable": list(self.skipped),
                "settings": {name: report.to_json() for name, report in self.settings.items()}}


def setting_report(setting: str, records: Iterable[Mapping[str, Any]],
                   failed: Mapping[str, str] | None = None) -> SettingReport:
    """Aggregate finished runs' records ({instance_id, repo, resolved, steps, tokens, cost}); ``failed``
    (instance id -> error) are the runs that did not finish, kept apart from the rates."""
    per_repo: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    instances: dict[str, bool] = {}
    steps = tokens = 0
    cost = 0.0
    for record in records:
        resolved = bool(record.get("resolved"))
        instances[record["instance_id"]] = resolved
        counts = per_repo[record.get("repo", "")]
        counts[0] += resolved
        counts[1] += 1
        steps += int(record.get("steps", 0))
        tokens += int(record.get("tokens", 0))
        cost += float(record.get("cost", 0.0))
    total = sum(c[1] for c in per_repo.values())
    resolved = sum(c[0] for c in per_repo.values())
    return SettingReport(
        setting=setting,
        overall=RepoRate(resolved, total),
        per_repo={repo: RepoRate(*counts) for repo, counts in per_repo.items()},
        instances=instances,
        failed={instance: error for instance, error in sorted((failed or {}).items()) if instance not in instances},
        steps=steps,
        tokens=tokens,
        cost=cost,
    )
