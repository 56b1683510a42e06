"""A kept candidate becomes a task: its buggy commit and image, the gold patch, the issue text, the row."""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from swe_srl.evaluate.grade import grade
from swe_srl.factory import rows
from swe_srl.factory.baseline import Baseline
from swe_srl.config.synthesize import SynthConfig
from swe_srl.factory.mutation import Mutation
from swe_srl.factory.rewrite import REWRITTEN, ChatModel, rewrite_statement
from swe_srl.factory.statement import Failure, changed_lines, parse_failures, write_statement
from swe_srl.factory.second_copy import copies_in_sandbox
from swe_srl.factory.validate import GOLD_FAILS, SECOND_COPY, Verdict
from swe_srl.host import git
from swe_srl.images.package import PreparedPackage
from swe_srl.images.sdist import REPO_COMMIT
from swe_srl.images.synthesized import ensure_synthesized_image
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackageRun:
    """What validating one package's candidates and making their tasks needs."""

    package: PreparedPackage  # the pristine repo and the environment image
    baseline: Baseline  # the suite's passing and flaky tests at base, and who calls what
    originals: dict[str, str]  # module path -> its text at base
    config: SynthConfig
    client: Any  # the Docker client
    rows_file: Path  # kept tasks are appended here as they are kept


def make_task(run: PackageRun, mutation: Mutation, verdict: Verdict, lock: threading.Lock) -> tuple[Task | None, str]:
    """The task of a kept candidate and "", or None and why it was dropped.

    Dropped when a copy of the package is readable in its sandbox (SECOND_COPY), or when
    ``config.verify`` finds its gold patch failing under the harness (GOLD_FAILS).
    """
    package, original = run.package, run.originals[mutation.path]
    buggy = mutation.apply(original)
    key = mutation.key(original)
    with lock:  # one writer at a time in the pristine repo's object store
        bug_sha = git.root_commit_with(package.pristine, package.base_sha, mutation.path, buggy, REPO_COMMIT)
        gold = git.diff(package.pristine, bug_sha, package.base_sha)
    with tempfile.TemporaryDirectory(prefix="swe-srl-synth-") as tmp:
        testbed = Path(tmp) / "testbed"
        with lock:
            git.export_commit(package.pristine, bug_sha, testbed, REPO_COMMIT)
        tag = ensure_synthesized_image(package.env, testbed, bug_sha, package.name, run.client, package.spec)
    f2p = sorted(verdict.fail_to_pass)
    iid = rows.instance_id(package.name, package.version, mutation.kind, key)
    task = rows.task_row(
        name=package.name, version=package.version, kind=mutation.kind, bug_key=key, base_commit=bug_sha, image=tag,
        gold=gold, statement=_statement(package.name, verdict, f2p, changed_lines(original, buggy), iid),
        fail_to_pass=f2p,
        pass_to_pass=rows.sample_pass_to_pass(set(verdict.still_passing), iid, run.config.pass_to_pass_cap),
        meta={"package": package.name, "version": package.version, "kind": mutation.kind, "path": mutation.path,
              "function": mutation.function, "lineno": mutation.lineno, "description": mutation.description,
              "env_image": package.env, "pristine_commit": package.base_sha},
    )
    found = copies_in_sandbox(task, package.fingerprint)
    if found:
        log.warning("%s: %s dropped: its sandbox can read %d copies of the package, first %s", package.spec,
                    task.instance_id, len(found), found[0]["path"])
        return None, SECOND_COPY
    if run.config.verify:
        graded = grade(task, gold, run_id="factory-verify", log_dir=run.config.out / "verify")
        if not graded.resolved:
            log.warning("%s: gold patch does not resolve %s under the harness; dropped", package.spec,
                        task.instance_id)
            return None, GOLD_FAILS
    return task, ""


def _statement(name: str, verdict: Verdict, f2p: list[str], changed: list[str], iid: str) -> str:
    """The issue text, written from the first failing test's assertion, never naming the changed lines."""
    failures = parse_failures(verdict.run.output if verdict.run else "", f2p)
    shown = next((failures[t] for t in f2p if t in failures and failures[t].error), None)
    failure = shown or Failure(f2p[0], (), ())
    return write_statement(failure, package=name, others=[t for t in f2p if t != failure.test], forbidden=changed,
                           seed=iid)


def rewrite_task(task: Task, mutation: Mutation, original: str, model: ChatModel) -> tuple[Task, str]:
    """The task with its statement rephrased by ``model``, or unchanged (see rewrite.py); and the outcome."""
    changed = changed_lines(original, mutation.apply(original))
    result = rewrite_statement(model, task.problem_statement, changed, instance_id=task.instance_id)
    if result.outcome != REWRITTEN:
        return task, result.outcome
    return replace(task, problem_statement=result.text), result.outcome
