"""Candidate bugs for one package: which to try, and validating them in parallel until enough are kept.

Candidates are the compiling mutations of the functions the passing tests call, in balanced kind
order. Validation runs on a pool of containers (one per worker); each kind has a quota so the kept
tasks stay balanced, and a second pass lifts it to fill the package's target. A kept candidate
becomes a task (kept.py) and is appended to the rows file at once.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Queue
from typing import Callable

from swe_srl.errors import SweSrlError
from swe_srl.factory.baseline import Baseline
from swe_srl.config.synthesize import SynthConfig
from swe_srl.factory.kept import PackageRun, make_task, rewrite_task
from swe_srl.factory.mutation import Mutation
from swe_srl.factory.mutations import balanced_order, mutations_for
from swe_srl.factory.report import PackageReport
from swe_srl.factory.rewrite import rewrite_client
from swe_srl.factory.runner import ValidationContainer
from swe_srl.factory.source import Module
from swe_srl.factory.validate import TASK_ERROR, Verdict, validate
from swe_srl.images.sdist import source_files
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (what, done, total)


def candidates_for(repo: Path, baseline: Baseline, config: SynthConfig) -> tuple[list[Mutation], dict[str, str]]:
    """Compiling mutations of the functions the passing tests call, in balanced kind order; the module texts."""
    exercised: dict[str, set[str]] = {}
    for key in baseline.callers:
        path, _, qualname = key.partition("::")
        exercised.setdefault(path, set()).add(qualname)
    found: list[Mutation] = []
    originals: dict[str, str] = {}
    for rel in source_files(repo):
        if baseline.callers and rel not in exercised:
            continue
        text = (repo / rel).read_text(encoding="utf-8", errors="replace")
        try:
            module = Module(rel, text)
        except (SyntaxError, ValueError):
            continue
        originals[rel] = text
        found += mutations_for(module, exercised.get(rel) if baseline.callers else None, config.kinds)
    return balanced_order(found, config.seed), originals


def run_candidates(run: PackageRun, candidates: list[Mutation], report: PackageReport,
                   containers: Queue[ValidationContainer], progress: Progress | None) -> list[Task]:
    """Validate ``candidates`` on the ``containers`` until the package's target is kept; the kept tasks."""
    validation = _Validation(run, candidates, report, containers, progress)
    # Kinds whose quota is met are skipped; a second pass lifts the quota to fill up the target.
    for pass_quota in (validation.quota, run.config.max_per_package):
        validation.quota = pass_quota
        with ThreadPoolExecutor(max_workers=max(1, run.config.workers)) as pool:
            for future in [pool.submit(validation.work, i, m) for i, m in enumerate(candidates)]:
                future.result()
        if len(validation.kept) >= run.config.max_per_package:
            break
    return validation.kept


class _Validation:
    """One package's validation state, shared by its worker threads under one lock."""

    def __init__(self, run: PackageRun, candidates: list[Mutation], report: PackageReport,
                 containers: Queue[ValidationContainer], progress: Progress | None) -> None:
        config = run.config
        self.run, self.report, self.containers, self.progress = run, report, containers, progress
        self.quota = math.ceil(config.max_per_package / max(1, len({m.kind for m in candidates})))
        self.max_tries = config.max_tries or 5 * config.max_per_package
        # A bug may loop forever; a candidate gets a few times the suite's base time, not the full budget.
        self.timeout = min(config.suite_timeout, max(30.0, 5 * run.baseline.seconds))
        self.lock = threading.Lock()
        self.kept: list[Task] = []
        self.pending: dict[str, int] = {}  # kind -> candidates in flight
        self.tried: set[int] = set()  # indices into the candidates
        self.rewriter = rewrite_client(config.rewrite_model, config.rewrite_base_url) if config.rewrite_model else None

    def wanted(self, mutation: Mutation) -> bool:
        """Under the lock: stop a kind at its quota, and everything at the package's target."""
        config, report = self.run.config, self.report
        in_flight = sum(self.pending.values())
        if len(self.kept) + in_flight >= config.max_per_package or sum(report.tried.values()) >= self.max_tries:
            return False
        return report.kept[mutation.kind] + self.pending.get(mutation.kind, 0) < self.quota

    def work(self, index: int, mutation: Mutation) -> None:
        """Validate one candidate (unless it is no longer wanted) and record what came of it."""
        with self.lock:
            if index in self.tried or not self.wanted(mutation):
                return
            self.tried.add(index)
            self.report.tried[mutation.kind] += 1
            self.pending[mutation.kind] = self.pending.get(mutation.kind, 0) + 1
        container = self.containers.get()
        try:
            verdict, task = self._validate(container, mutation)
        finally:
            self.containers.put(container)
        outcome = None
        if task is not None and self.rewriter is not None:  # outside the lock: a model call may take a while
            task, outcome = rewrite_task(task, mutation, self.run.originals[mutation.path], self.rewriter)
        self._record(mutation, verdict, task, outcome)

    def _validate(self, container: ValidationContainer, mutation: Mutation) -> tuple[Verdict, Task | None]:
        verdict = validate(container, self.run.baseline, mutation, self.run.originals[mutation.path], self.timeout)
        if not verdict.kept:
            return verdict, None
        try:
            task, reason = make_task(self.run, mutation, verdict, self.lock)
        except SweSrlError as err:  # one candidate's row could not be made: drop it, go on
            log.warning("%s: candidate %s in %s dropped: %s", self.run.package.spec, mutation.kind, mutation.path, err)
            return Verdict(False, TASK_ERROR), None
        return (verdict, task) if task is not None else (Verdict(False, reason), None)

    def _record(self, mutation: Mutation, verdict: Verdict, task: Task | None, outcome: str | None) -> None:
        report = self.report
        with self.lock:
            self.pending[mutation.kind] -= 1
            if outcome is not None:
                report.rewrites[outcome] += 1
            if task is not None:
                report.kept[mutation.kind] += 1
                self.kept.append(task)
                with open(self.run.rows_file, "a") as handle:
                    handle.write(json.dumps(task.to_row()) + "\n")
            else:
                report.drop(mutation.kind, verdict.reason)
            if self.progress is not None:
                self.progress(f"{self.run.package.spec}: {len(self.kept)} kept of {sum(report.tried.values())} tried",
                              len(self.kept), self.run.config.max_per_package)
