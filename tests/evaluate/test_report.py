"""build_report / harness_error: reading the harness's outcome back, without Docker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from swebench.harness.constants import APPLY_PATCH_FAIL, APPLY_PATCH_PASS, END_TEST_OUTPUT, START_TEST_OUTPUT
from swebench.harness.grading import get_eval_report, get_logs_eval
from swebench.harness.utils import make_test_spec

from swe_srl.evaluate.report import MISSING, GradeReport, build_report, harness_error

F2P = ["tests/test_a.py::test_fixed"]
P2P = ["tests/test_a.py::test_kept", "tests/test_b.py::test_other"]

# run_instance.log as the harness writes it when every apply command failed.
APPLY_FAILED_LOG = f"""2025-01-01 - INFO - Failed to apply patch to container: git apply --verbose
2025-01-01 - INFO - {APPLY_PATCH_FAIL}:
error: patch failed: pkg/a.py:3
Traceback (most recent call last):
  File "run_evaluation.py", line 331, in run_instance
swebench.harness.utils.EvaluationError: Error in evaluation for demo__x-1: {APPLY_PATCH_FAIL}:
error: patch failed: pkg/a.py:3
error: pkg/a.py: patch does not apply
Check (/logs/run_instance.log) for more information.
"""


def _row() -> dict:
    return {
        "instance_id": "demo__x-1",
        "image": "img:1",
        "eval_script": f"#!/bin/bash\nset -uxo pipefail\n: '{START_TEST_OUTPUT}'\npytest -rA\n: '{END_TEST_OUTPUT}'\n",
        "repo": "demo/x",
        "version": "1.0",
        "FAIL_TO_PASS": F2P,
        "PASS_TO_PASS": P2P,
        "log_parser": "parse_log_pytest",
        "eval_type": "pass_and_fail",
    }


def _grade_from_log(tmp_path: Path, pytest_summary: str) -> GradeReport:
    """Run the harness's own parser and grader on a synthetic test log, then build our report."""
    spec = make_test_spec(_row())
    log = tmp_path / "test_output.txt"
    log.write_text(f"+ : '{START_TEST_OUTPUT}'\n{pytest_summary}\n+ : '{END_TEST_OUTPUT}'\n")
    pred = {"instance_id": spec.instance_id, "model_patch": "diff", "model_name_or_path": "m"}
    harness_report = get_eval_report(spec, pred, str(log), include_tests_status=True)
    status_map, _ = get_logs_eval(spec, str(log))
    return build_report(
        instance_id=spec.instance_id,
        run_id="r1",
        fail_to_pass=spec.FAIL_TO_PASS,
        pass_to_pass=spec.PASS_TO_PASS,
        harness_report=harness_report,
        status_map=status_map,
        instance_log=f"INFO - {APPLY_PATCH_PASS}:\nChecking patch pkg/a.py...",
        patch_skipped=False,
        log_dir=tmp_path,
    )


def test_all_passing_log_is_resolved_with_each_status(tmp_path: Path) -> None:
    summary = "\n".join(f"PASSED {t}" for t in F2P + P2P)
    report = _grade_from_log(tmp_path, summary)
    assert report.resolved and report.patch_applied and report.error is None
    assert report.fail_to_pass == {F2P[0]: "PASSED"}
    assert report.pass_to_pass == {t: "PASSED" for t in P2P}


def test_failing_and_missing_tests_are_reported_and_not_resolved(tmp_path: Path) -> None:
    summary = f"FAILED {F2P[0]} - AssertionError: 1 != 2\nPASSED {P2P[0]}"
    report = _grade_from_log(tmp_path, summary)
    assert not report.resolved
    assert report.fail_to_pass == {F2P[0]: "FAILED"}
    assert report.pass_to_pass == {P2P[0]: "PASSED", P2P[1]: MISSING}
    json.dumps(report.to_json())  # the record is JSON-ready


def test_no_report_means_patch_failure_with_the_harness_message() -> None:
    report = build_report(
        instance_id="demo__x-1",
        run_id="r1",
        fail_to_pass=F2P,
        pass_to_pass=P2P,
        harness_report=None,
        status_map={},
        instance_log=APPLY_FAILED_LOG,
        patch_skipped=False,
    )
    assert not report.resolved and not report.patch_applied
    assert report.error is not None and report.error.startswith(f"Error in evaluation for demo__x-1: {APPLY_PATCH_FAIL}")
    assert "patch does not apply" in report.error and "Check (" not in report.error
    assert set(report.fail_to_pass.values()) == {MISSING}


def test_unparseable_test_output_is_an_error_even_with_a_report() -> None:
    harness_report = {"demo__x-1": {"patch_successfully_applied": False, "resolved": False}}
    report = build_report(
        instance_id="demo__x-1",
        run_id="r1",
        fail_to_pass=F2P,
        pass_to_pass=[],
        harness_report=harness_report,
        status_map={},
        instance_log=f"{APPLY_PATCH_PASS}",
        patch_skipped=False,
    )
    assert report.patch_applied and not report.resolved
    assert report.error is not None and "could not be parsed" in report.error


@pytest.mark.parametrize(
    "log, expected",
    [
        ("ERROR - Error in evaluating model for x: boom\nTraceback (most recent call last):\n  ...", "Error in evaluating model for x: boom"),
        ("INFO - nothing went wrong", None),
    ],
)
def test_harness_error_extraction(log: str, expected: str | None) -> None:
    assert harness_error(log) == expected


STOPPED_LOG = ("INFO - Container for demo__x-1 created: abc\nERROR - Error in evaluating model for demo__x-1: "
               "409 Client Error for http+docker://localhost/v1.47/containers/abc/exec: Conflict "
               "(\"cannot exec in a stopped state\")\nTraceback (most recent call last):\n  ...")


@pytest.mark.parametrize(("log", "infrastructure"), [
    (STOPPED_LOG, True),
    ("ERROR - Error creating container for demo__x-1: 500 Server Error: no space left on device", True),
    (APPLY_FAILED_LOG, False),  # the patch's own failure
    ("INFO - Test timed out after 1800 seconds.", False),  # the patch may hang the tests
])
def test_a_harness_failure_outside_the_patch_is_infrastructure(log: str, infrastructure: bool) -> None:
    report = build_report(instance_id="demo__x-1", run_id="r1", fail_to_pass=F2P, pass_to_pass=[],
                          harness_report=None, status_map={}, instance_log=log, patch_skipped=False)
    assert not report.resolved and report.infrastructure is infrastructure


def test_an_infrastructure_failure_is_not_graded_as_unresolved(monkeypatch, tmp_path: Path) -> None:
    """harness_grade raises, so the batch stores nothing for the job and a rerun retries it."""
    from swe_srl.errors import SandboxError
    from swe_srl.evaluate.report import GradeReport
    from swe_srl.jobs import sandboxed
    from swe_srl.tasks.task import Task

    task = Task(instance_id="demo__x-1", repo="demo/x", base_commit="0" * 40, problem_statement="", patch="")
    failed = GradeReport(instance_id="demo__x-1", run_id="r1", resolved=False, patch_applied=True,
                         error="Error in evaluating model for demo__x-1: boom", infrastructure=True)
    monkeypatch.setattr(sandboxed, "grade", lambda *args, **kwargs: failed)
    with pytest.raises(SandboxError, match="failed outside the patch: Error in evaluating model"):
        sandboxed.harness_grade(task, "", "r1", tmp_path)
    monkeypatch.setattr(sandboxed, "grade", lambda *args, **kwargs: GradeReport("demo__x-1", "r1", False, True))
    assert sandboxed.harness_grade(task, "", "r1", tmp_path) is False
