"""The GradeReport record, and how it is read back from what the swebench harness leaves on disk.

Pure: this module reads strings and mappings only; grade.py does the Docker work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from swebench.harness.constants import APPLY_PATCH_FAIL, APPLY_PATCH_PASS

# Status of a graded test that the test log never mentions (deselected, collection error, crash).
MISSING = "MISSING"
# What run_instance logs when it gives up for a reason outside the patch: the grading container
# could not be made, or an unexpected exception (the engine stopped the container mid-run, say).
# A patch that does not apply or tests that time out end in its EvaluationError instead.
INFRASTRUCTURE_MARKERS = ("Error creating container for ", "Error in evaluating model for ")


@dataclass(frozen=True)
class GradeReport:
    """The outcome of grading one patch for one task with the official harness."""

    instance_id: str
    run_id: str
    resolved: bool  # the harness's verdict: every FAIL_TO_PASS and PASS_TO_PASS test passes
    patch_applied: bool  # the patch applied (an empty patch has nothing to apply: True)
    fail_to_pass: Mapping[str, str] = field(default_factory=dict)  # test -> PASSED/FAILED/.../MISSING
    pass_to_pass: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None  # why the harness produced no usable test result, if it did not
    log_dir: Path | None = None  # run_instance.log, patch.diff, eval.sh, test_output.txt, report.json
    duration_s: float = 0.0  # wall time of the harness call (container start to removal)
    set_aside: Mapping[str, str] = field(default_factory=dict)  # path -> reason: parts of the patch not graded
    distrusted: str | None = None  # why the test log was not believed (guard.py); such a patch is not resolved
    # The harness failed for a reason outside the patch (the engine, the container): no verdict at all.
    infrastructure: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of this report."""
        return {
            "instance_id": self.instance_id,
            "run_id": self.run_id,
            "resolved": self.resolved,
            "patch_applied": self.patch_applied,
            "FAIL_TO_PASS": dict(self.fail_to_pass),
            "PASS_TO_PASS": dict(self.pass_to_pass),
            "error": self.error,
            "log_dir": None if self.log_dir is None else str(self.log_dir),
            "duration_s": round(self.duration_s, 3),
            "set_aside": dict(self.set_aside),
            "distrusted": self.distrusted,
            "infrastructure": self.infrastructure,
        }


def build_report(
    *,
    instance_id: str,
    run_id: str,
    fail_to_pass: Sequence[str],
    pass_to_pass: Sequence[str],
    harness_report: Mapping[str, Any] | None,
    status_map: Mapping[str, str],
    instance_log: str,
    patch_skipped: bool,
    log_dir: Path | None = None,
    duration_s: float = 0.0,
) -> GradeReport:
    """Combine run_instance's return value, the parsed test log and run_instance.log into a report.

    ``harness_report`` is run_instance's report dict (keyed by instance id) or None when the
    harness gave up (patch did not apply, timeout, missing image, crash); it then only logged why.
    """
    entry = (harness_report or {}).get(instance_id)
    if patch_skipped:
        applied = True
    else:
        # The harness logs APPLY_PATCH_PASS once one of its apply commands succeeded.
        applied = APPLY_PATCH_PASS in instance_log and APPLY_PATCH_FAIL not in instance_log
    error: str | None = None
    infrastructure = False
    if entry is None:
        error = harness_error(instance_log) or "the harness returned no report; see run_instance.log"
        infrastructure = any(marker in instance_log for marker in INFRASTRUCTURE_MARKERS)
    elif not entry.get("patch_successfully_applied"):
        # Despite its name, this flag is False whenever the test log could not be parsed.
        reason = entry.get("infra_failure_reason")
        error = "the test output could not be parsed" + (f" ({reason})" if reason else "")
        error += "; see test_output.txt"
    return GradeReport(
        instance_id=instance_id,
        run_id=run_id,
        resolved=bool(entry and entry.get("resolved")),
        patch_applied=applied,
        fail_to_pass={t: status_map.get(t, MISSING) for t in fail_to_pass},
        pass_to_pass={t: status_map.get(t, MISSING) for t in pass_to_pass},
        error=error,
        log_dir=log_dir,
        duration_s=duration_s,
        infrastructure=infrastructure,
    )


def patch_apply_failed(instance_log: str) -> bool:
    """Whether run_instance.log says the patch did not apply (every apply command failed)."""
    return APPLY_PATCH_FAIL in instance_log


def harness_error(instance_log: str) -> str | None:
    """The error run_instance logged before giving up, without its traceback or log pointer."""
    marker = "EvaluationError: "
    at = instance_log.rfind(marker)
    if at >= 0:
        text = instance_log[at + len(marker):]
    else:
        at = instance_log.rfind("Error in evaluating model for ")
        if at < 0:
            return None
        text = instance_log[at:].split("\nTraceback", 1)[0]
    return text.split("\nCheck (", 1)[0].strip() or None
