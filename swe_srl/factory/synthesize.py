"""The synthesis recipe: packages in, validated SWE-bench rows and a report out.

For each PACKAGE==VERSION: download its sdist, unpack it as a git repo, fetch its test
requirements as wheels, build its environment image, run the suite twice at base, mutate the
functions the passing tests call, validate candidates in balanced kind order until enough are
kept, and write each kept bug as a task with its own image. A package that fails at any stage is
reported with the reason and the run goes on with the next one.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from queue import Queue
from typing import Any, Callable, Sequence

from swe_srl.factory import gitrepo, image, rows
from swe_srl.factory.baseline import Baseline, run_baseline
from swe_srl.factory.errors import PackageError
from swe_srl.factory.mutations import Mutation, balanced_order, mutations_for, unknown_kinds
from swe_srl.factory.report import FactoryReport, PackageReport
from swe_srl.factory.requirements import download_wheels, read_test_requirements
from swe_srl.factory.runner import ValidationContainer
from swe_srl.factory.sdist import (SDIST_SUFFIXES, download_sdist, import_root, is_test_file, normalize, parse_spec,
                                   source_files, unpack)
from swe_srl.factory.source import Module
from swe_srl.factory.rewrite import REWRITTEN, ChatModel, rewrite_client, rewrite_statement
from swe_srl.factory.statement import Failure, changed_lines, parse_failures, write_statement
from swe_srl.factory.validate import GOLD_FAILS, TASK_ERROR, Verdict, validate
from swe_srl.config.synthesize import SynthConfig
from swe_srl.errors import ConfigError, SweSrlError
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

TASKS_FILE = "tasks.jsonl"
REPORT_FILE = "report.json"
Progress = Callable[[str, int, int], None]  # (what, done, total)


def synthesize(specs: Sequence[str], config: SynthConfig, progress: Progress | None = None,
               client: Any | None = None, backend: str = "docker") -> tuple[list[Task], FactoryReport]:
    """Synthesize tasks from every package; rows go to ``config.out / tasks.jsonl`` as they are kept."""
    if backend != "docker":
        raise ConfigError(f"sandbox backend {backend!r}: synthesis validates in docker only for now")
    if config.kinds is not None and unknown_kinds(config.kinds):
        raise ConfigError(f"{unknown_kinds(config.kinds)}: pick kinds from the known ones, or leave kinds unset")
    from swe_srl.sandbox.docker import docker_client

    client = docker_client(client)
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / TASKS_FILE).write_text("")
    report = FactoryReport()
    tasks: list[Task] = []
    for spec in specs:
        package = PackageReport(spec)
        report.packages.append(package)
        start = time.monotonic()
        try:
            tasks += synthesize_package(spec, config, package, client, progress)
        except PackageError as err:
            package.error, package.stage = str(err), err.stage
            log.error("%s", err)
        except SweSrlError as err:  # anything else we raise on purpose: report it, go on with the next
            package.error, package.stage = f"{spec}: {err}", package.stage or "unexpected"
            log.error("%s: %s", spec, err)
        package.seconds = time.monotonic() - start
        report.write(config.out / REPORT_FILE)
    return tasks, report


def _name_version(spec: str, sdist: Path) -> tuple[str, str]:
    if "==" in spec:
        return parse_spec(spec)
    stem = next(sdist.name[: -len(s)] for s in SDIST_SUFFIXES if sdist.name.endswith(s))
    name, _, version = stem.rpartition("-")
    if not name:
        raise PackageError(spec, "cannot tell name and version from the file name (expected NAME-VERSION.tar.gz)")
    return name, version


@dataclass(frozen=True)
class PreparedPackage:
    """A package ready for validation: its pristine repo and environment image (no container yet)."""

    spec: str
    name: str
    version: str
    pristine: Path  # the unpacked sdist as a git repo (one commit: base_sha)
    base_sha: str
    env: str  # environment image tag


def prepare_package(spec: str, cache: Path, client: Any) -> PreparedPackage:
    """Download, unpack, fetch test requirements and build the environment image; PackageError on failure."""
    try:
        sdist = download_sdist(spec, cache / "sdists")
    except PackageError as err:
        raise PackageError(spec, str(err).split(": ", 1)[-1], stage="download") from None
    name, version = _name_version(spec, sdist)
    work = cache / "work" / f"{normalize(name)}-{version}"
    pristine = work / "repo"
    base_sha = unpack(sdist, pristine, spec)
    files = gitrepo.git(["ls-files"], pristine).split()
    if not any(is_test_file(f) for f in files):
        raise PackageError(spec, f"its sdist {sdist.name} ships no tests (no test_*.py or tests/ folder); "
                           "pick a package whose sdist includes its test suite", stage="tests")
    requirements = read_test_requirements(pristine, name)
    fetched, _missing = download_wheels(requirements, work / "wheels", spec)
    env = image.ensure_env_image(name, version, import_root(pristine), work / "wheels", fetched, client, spec)
    return PreparedPackage(spec, name, version, pristine, base_sha, env)


def synthesize_package(spec: str, config: SynthConfig, report: PackageReport, client: Any,
                       progress: Progress | None = None) -> list[Task]:
    """One package (see the module docstring); PackageError when it cannot be used at all."""
    start = time.monotonic()
    prepared = prepare_package(spec, config.cache, client)
    name, version, pristine, base_sha, env = (prepared.name, prepared.version, prepared.pristine,
                                              prepared.base_sha, prepared.env)
    containers: Queue[ValidationContainer] = Queue()
    opened: list[ValidationContainer] = []
    try:
        first = ValidationContainer(client, env, pristine, spec)
        opened.append(first)
        baseline = run_baseline(first, spec, config.suite_timeout)
        report.passing_tests, report.flaky_tests = len(baseline.passing), len(baseline.flaky)
        report.suite_seconds = baseline.seconds
        candidates, originals = candidates_for(pristine, baseline, config)
        report.candidates = len(candidates)
        for _ in range(max(1, config.workers) - 1):
            opened.append(ValidationContainer(client, env, pristine, spec))
        for c in opened:
            containers.put(c)
        report.setup_seconds = time.monotonic() - start
        return _run_candidates(spec, name, version, candidates, originals, baseline, base_sha, env, pristine,
                               config, report, containers, client, progress)
    finally:
        for c in opened:
            c.close()


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


def _run_candidates(spec: str, name: str, version: str, candidates: list[Mutation], originals: dict[str, str],
                    baseline: Baseline, base_sha: str, env: str, pristine: Path, config: SynthConfig,
                    report: PackageReport, containers: Queue, client: Any, progress: Progress | None) -> list[Task]:
    kinds_present = {m.kind for m in candidates}
    quota = math.ceil(config.max_per_package / max(1, len(kinds_present)))
    max_tries = config.max_tries or 5 * config.max_per_package
    # A bug may loop forever; a candidate gets a few times the suite's base time, not the full budget.
    candidate_timeout = min(config.suite_timeout, max(30.0, 5 * baseline.seconds))
    lock = threading.Lock()
    kept: list[Task] = []
    pending: dict[str, int] = {}  # kind -> candidates in flight
    tried: set[int] = set()  # indices into candidates
    rewriter = rewrite_client(config.rewrite_model, config.rewrite_base_url) if config.rewrite_model else None

    def wanted(mutation: Mutation) -> bool:
        # Under the lock: stop a kind at its quota, and everything at the package's target.
        in_flight = sum(pending.values())
        if len(kept) + in_flight >= config.max_per_package or sum(report.tried.values()) >= max_tries:
            return False
        return report.kept[mutation.kind] + pending.get(mutation.kind, 0) < quota

    def work(index: int, mutation: Mutation) -> None:
        with lock:
            if index in tried or not wanted(mutation):
                return
            tried.add(index)
            report.tried[mutation.kind] += 1
            pending[mutation.kind] = pending.get(mutation.kind, 0) + 1
        container = containers.get()
        try:
            verdict = validate(container, baseline, mutation, originals[mutation.path], candidate_timeout)
            try:
                task = _make_task(spec, name, version, mutation, originals[mutation.path], verdict, baseline,
                                  base_sha, env, pristine, config, client, lock) if verdict.kept else None
            except SweSrlError as err:  # one candidate's row could not be made: drop it, go on
                log.warning("%s: candidate %s in %s dropped: %s", spec, mutation.kind, mutation.path, err)
                verdict, task = Verdict(False, TASK_ERROR), None
        finally:
            containers.put(container)
        outcome = None
        if task is not None and rewriter is not None:  # outside the lock: a model call may take a while
            task, outcome = _rewrite(task, mutation, originals[mutation.path], rewriter)
        with lock:
            pending[mutation.kind] -= 1
            if outcome is not None:
                report.rewrites[outcome] += 1
            if task is not None:
                report.kept[mutation.kind] += 1
                kept.append(task)
                with open(config.out / TASKS_FILE, "a") as handle:
                    handle.write(json.dumps(task.to_row()) + "\n")
            else:
                report.drop(mutation.kind, verdict.reason or GOLD_FAILS)
            if progress is not None:
                progress(f"{spec}: {len(kept)} kept of {sum(report.tried.values())} tried", len(kept),
                         config.max_per_package)

    # Kinds whose quota is met are skipped; a second pass lifts the quota to fill up the target.
    for pass_quota in (quota, config.max_per_package):
        quota = pass_quota
        with ThreadPoolExecutor(max_workers=max(1, config.workers)) as pool:
            for future in [pool.submit(work, i, m) for i, m in enumerate(candidates)]:
                future.result()
        if len(kept) >= config.max_per_package:
            break
    return kept


def _rewrite(task: Task, mutation: Mutation, original: str, model: ChatModel) -> tuple[Task, str]:
    """The task with its statement rephrased by ``model``, or unchanged (see rewrite.py); and the outcome."""
    changed = changed_lines(original, mutation.apply(original))
    result = rewrite_statement(model, task.problem_statement, changed, instance_id=task.instance_id)
    if result.outcome != REWRITTEN:
        return task, result.outcome
    return replace(task, problem_statement=result.text), result.outcome


def _make_task(spec: str, name: str, version: str, mutation: Mutation, original: str, verdict: Verdict,
               baseline: Baseline, base_sha: str, env: str, pristine: Path, config: SynthConfig, client: Any,
               lock: threading.Lock) -> Task | None:
    buggy = mutation.apply(original)
    key = mutation.key(original)
    with lock:  # one writer at a time in the pristine repo's object store
        bug_sha = gitrepo.root_commit_with(pristine, base_sha, mutation.path, buggy)
        gold = gitrepo.diff(pristine, bug_sha, base_sha)
    with tempfile.TemporaryDirectory(prefix="swe-srl-synth-") as tmp:
        testbed = Path(tmp) / "testbed"
        with lock:
            gitrepo.export_commit(pristine, bug_sha, testbed)
        tag = image.ensure_task_image(env, testbed, bug_sha, name, client, spec)
    f2p = sorted(verdict.fail_to_pass)
    failures = parse_failures(verdict.run.output if verdict.run else "", f2p)
    shown = next((failures[t] for t in f2p if t in failures and failures[t].error), None)
    changed = changed_lines(original, buggy)
    failure = shown or Failure(f2p[0], (), ())
    iid = rows.instance_id(name, version, mutation.kind, key)
    statement = write_statement(failure, package=name, others=[t for t in f2p if t != failure.test],
                                forbidden=changed, seed=iid)
    task = rows.task_row(
        name=name, version=version, kind=mutation.kind, bug_key=key, base_commit=bug_sha, image=tag, gold=gold,
        statement=statement, fail_to_pass=f2p,
        pass_to_pass=rows.sample_pass_to_pass(set(verdict.still_passing), iid, config.pass_to_pass_cap),
        meta={"package": name, "version": version, "kind": mutation.kind, "path": mutation.path,
              "function": mutation.function, "lineno": mutation.lineno, "description": mutation.description,
              "env_image": env, "pristine_commit": base_sha},
    )
    if config.verify:
        from swe_srl.evaluate.grade import grade

        graded = grade(task, gold, run_id="factory-verify", log_dir=config.out / "verify")
        if not graded.resolved:
            log.warning("%s: gold patch does not resolve %s under the harness; dropped", spec, task.instance_id)
            return None
    return task
