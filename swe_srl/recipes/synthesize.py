"""The synthesis recipe: packages in, validated SWE-bench rows and a report out.

For each PACKAGE==VERSION: download its sdist, unpack it as a git repo, fetch its test
requirements as wheels, build its environment image, run the suite twice at base, mutate the
functions the passing tests call, validate candidates in balanced kind order until enough are
kept, and write each kept bug as a task with its own image. A package that fails at any stage is
reported with the reason and the run goes on with the next one.

With ``cluster.ray`` each package is a task of a Ray cluster taking ``workers`` sandbox slots of
one node (its validation containers); its kept rows come back to this process, which alone
writes ``tasks.jsonl`` and the report. Its images stay on that node: a synthesized row says how
to rebuild its image, and any node that runs it later does.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path
from queue import Queue
from typing import Any, Sequence

from swe_srl.config.sections import ClusterConfig
from swe_srl.config.synthesize import SynthConfig
from swe_srl.errors import ConfigError, PackageError, SweSrlError
from swe_srl.factory.baseline import run_baseline
from swe_srl.factory.candidates import Progress, candidates_for, run_candidates
from swe_srl.factory.kept import PackageRun
from swe_srl.factory.mutations import unknown_kinds
from swe_srl.factory.report import FactoryReport, PackageReport
from swe_srl.factory.runner import ValidationContainer
from swe_srl.host.docker import docker_client
from swe_srl.images.package import prepare_package
from swe_srl.jobs.cluster import require_ray
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

TASKS_FILE = "tasks.jsonl"
REPORT_FILE = "report.json"


def synthesize(specs: Sequence[str], config: SynthConfig, progress: Progress | None = None,
               client: Any | None = None, cluster: ClusterConfig = ClusterConfig()) -> tuple[list[Task], FactoryReport]:
    """Synthesize tasks from every package; rows go to ``config.out / tasks.jsonl`` as they are kept
    (on a cluster: as each package finishes)."""
    if config.kinds is not None and unknown_kinds(config.kinds):
        raise ConfigError(f"{unknown_kinds(config.kinds)}: pick kinds from the known ones, or leave kinds unset")
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / TASKS_FILE).write_text("")
    if cluster.ray:
        return _synthesize_on_ray(specs, config, cluster)
    client = docker_client(client)
    report = FactoryReport()
    tasks: list[Task] = []
    for spec in specs:
        kept, package = run_package(spec, config, client, config.out / TASKS_FILE, progress)
        tasks += kept
        report.packages.append(package)
        report.write(config.out / REPORT_FILE)
    return tasks, report


def run_package(spec: str, config: SynthConfig, client: Any, rows_file: Path,
                progress: Progress | None = None) -> tuple[list[Task], PackageReport]:
    """One package's kept tasks (rows appended to ``rows_file``) and its report; a failure is reported, not raised."""
    package = PackageReport(spec)
    start = time.monotonic()
    tasks: list[Task] = []
    try:
        tasks = synthesize_package(spec, config, package, client, progress, rows_file)
    except PackageError as err:
        package.error, package.stage = str(err), err.stage
        log.error("%s", err)
    except SweSrlError as err:  # anything else we raise on purpose: report it, go on with the next
        package.error, package.stage = f"{spec}: {err}", package.stage or "unexpected"
        log.error("%s: %s", spec, err)
    package.seconds = time.monotonic() - start
    return tasks, package


def _package_on_node(spec: str, config: SynthConfig) -> tuple[list[Task], PackageReport]:
    """`run_package` on a cluster node: rows to a scratch file there, handed back for the driver to write."""
    with tempfile.TemporaryDirectory(prefix="swe-srl-synth-") as scratch:
        return run_package(spec, config, docker_client(), Path(scratch) / TASKS_FILE)


def _synthesize_on_ray(specs: Sequence[str], config: SynthConfig,
                       cluster: ClusterConfig) -> tuple[list[Task], FactoryReport]:
    require_ray(cluster)
    from swe_srl.jobs.ray_batch import map_on_ray  # Ray is loaded only when chosen

    report = FactoryReport()
    tasks: list[Task] = []
    outcomes = map_on_ray(specs, lambda spec: _package_on_node(spec, config), cluster, slots=config.workers)
    for spec, outcome in outcomes:
        if outcome.error:  # only what run_package does not catch: a lost node, an unexpected error
            kept, package = [], PackageReport(spec, error=f"{spec}: {outcome.error}",
                                              stage="cluster" if outcome.infra else "unexpected")
        else:
            kept, package = outcome.value
        with open(config.out / TASKS_FILE, "a") as handle:
            handle.writelines(json.dumps(task.to_row()) + "\n" for task in kept)
        tasks += kept
        report.packages.append(package)
        report.write(config.out / REPORT_FILE)
    return tasks, report


def synthesize_package(spec: str, config: SynthConfig, report: PackageReport, client: Any,
                       progress: Progress | None = None, rows_file: Path | None = None) -> list[Task]:
    """One package (see the module docstring), kept rows appended to ``rows_file`` (default ``config.out /
    tasks.jsonl``); PackageError when it cannot be used at all."""
    start = time.monotonic()
    prepared = prepare_package(spec, config.cache, client)
    containers: Queue[ValidationContainer] = Queue()
    opened: list[ValidationContainer] = []
    try:
        first = ValidationContainer(client, prepared.env, prepared.pristine, spec)
        opened.append(first)
        baseline = run_baseline(first, spec, config.suite_timeout)
        report.passing_tests, report.flaky_tests = len(baseline.passing), len(baseline.flaky)
        report.suite_seconds = baseline.seconds
        candidates, originals = candidates_for(prepared.pristine, baseline, config)
        report.candidates = len(candidates)
        for _ in range(max(1, config.workers) - 1):
            opened.append(ValidationContainer(client, prepared.env, prepared.pristine, spec))
        for c in opened:
            containers.put(c)
        report.setup_seconds = time.monotonic() - start
        run = PackageRun(prepared, baseline, originals, config, client, rows_file or config.out / TASKS_FILE)
        return run_candidates(run, candidates, report, containers, progress)
    finally:
        for c in opened:
            c.close()
