"""RLVR's real environment: each episode in a fresh sandbox of its task, each patch graded by the harness.

The reward is the harness's verdict on the final patch in a fresh grading container (see
evaluate/grade.py for what that container may do and which files of a patch are set aside):

- ``resolved``: 1 when every FAIL_TO_PASS and PASS_TO_PASS test passes, else 0;
- ``fail_to_pass`` (shaped): the fraction of FAIL_TO_PASS tests that pass, when every PASS_TO_PASS
  test passes, else 0. It is 1 exactly when the patch resolves the task.

An empty patch scores 0 without a container; a patch that does not apply, or whose test log the
guard does not believe, scores 0 with that cause. A grading that ends in the eval script's time
limit scores 0 too: the tests hang in code the patch changed, which is the policy's doing. Only a
grading the harness could not carry out (the engine, the container) raises, and the episode is masked.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from swe_srl.actions import Action
from swe_srl.dialects import get_dialect
from swe_srl.errors import SandboxError
from swe_srl.evaluate.grade import grade
from swe_srl.evaluate.report import GradeReport
from swe_srl.jobs.episodes import Outcome
from swe_srl.sandbox.backends import start_sandbox
from swe_srl.sandbox.base import Sandbox, SandboxLimits
from swe_srl.sandbox.execute import ToolRunner
from swe_srl.tasks.task import Task


def outcome_of(report: GradeReport, reward: str) -> Outcome:
    """The reward of a graded patch, and its cause; SandboxError when the harness gave no verdict."""
    if report.infrastructure:
        raise SandboxError(f"grading {report.instance_id} failed outside the patch: {report.error}")
    if not report.patch_applied:
        return Outcome(0.0, "patch_not_applied")
    if report.distrusted:
        return Outcome(0.0, "distrusted")
    if report.resolved:
        return Outcome(1.0, "resolved")
    if reward == "fail_to_pass" and report.fail_to_pass and all(s == "PASSED" for s in report.pass_to_pass.values()):
        passed = sum(status == "PASSED" for status in report.fail_to_pass.values())
        return Outcome(passed / len(report.fail_to_pass), "tests_fail")
    return Outcome(0.0, "tests_fail")


class SandboxWorkspace:
    """An episode's sandbox and the agent's tools in it."""

    def __init__(self, sandbox: Sandbox, dialect: str) -> None:
        self.sandbox = sandbox
        self.tools = ToolRunner(sandbox, dialect=get_dialect(dialect))

    def __call__(self, action: Action) -> str:
        return self.tools(action)

    def diff(self) -> str:
        return self.sandbox.diff()

    def close(self) -> None:
        self.sandbox.close()


class SandboxEnvironment:
    """Episodes in sandboxes of ``backend``, tools worded in ``dialect``, patches graded by the harness and
    rewarded as ``reward`` says (config.train.RlvrConfig.reward).

    Grading logs go under ``log_dir`` and are removed once read, except those of a grading that
    raised (kept to diagnose the infrastructure).
    """

    def __init__(self, backend: str, dialect: str, log_dir: Path, *, reward: str = "resolved",
                 grade_timeout: int = 900, limits: SandboxLimits = SandboxLimits()) -> None:
        self.backend, self.dialect, self.log_dir = backend, dialect, Path(log_dir)
        self.reward, self.grade_timeout, self.limits = reward, grade_timeout, limits

    def start(self, task: Task) -> SandboxWorkspace:
        return SandboxWorkspace(start_sandbox(self.backend, task, self.limits), self.dialect)

    def grade(self, task: Task, patch: str, run_id: str) -> Outcome:
        if not patch.strip():
            return Outcome(0.0, "empty_patch")
        report = grade(task, patch, run_id=run_id, log_dir=self.log_dir, timeout=self.grade_timeout)
        outcome = outcome_of(report, self.reward)  # raises before the logs are removed
        shutil.rmtree(self.log_dir / run_id, ignore_errors=True)
        return outcome
