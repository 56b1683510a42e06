"""Validate one candidate bug in a validation container: does it break some tests, and not all?

First only the test files whose tests call the mutated function (fast), then the whole suite to
confirm and to get the exact FAIL_TO_PASS. The container's file is restored whatever happens.
"""

from __future__ import annotations

from dataclasses import dataclass

from swe_srl.factory.baseline import Baseline
from swe_srl.factory.mutation import Mutation
from swe_srl.factory.runner import SuiteRun, ValidationContainer

# Why a candidate is dropped; the report counts these per kind and package.
NOT_EXERCISED = "not_exercised"
NO_TEST_FAILS = "no_test_fails"
ALL_TESTS_FAIL = "all_tests_fail"
TIMEOUT = "timeout"
DUPLICATE = "duplicate"
GOLD_FAILS = "gold_does_not_resolve"
TASK_ERROR = "task_error"  # the row or its image could not be made
SECOND_COPY = "second_copy_in_image"  # the package's source is readable outside /testbed (second_copy.py)


@dataclass(frozen=True)
class Verdict:
    """A candidate's fate: kept with its broken tests, or dropped with a reason."""

    kept: bool
    reason: str  # "" when kept
    fail_to_pass: frozenset[str] = frozenset()
    still_passing: frozenset[str] = frozenset()
    run: SuiteRun | None = None  # the whole-suite run with the bug (failure reports for the statement)


def judge(baseline: Baseline, run: SuiteRun) -> Verdict:
    """Pure: the verdict from a whole-suite run with the bug in."""
    if run.timed_out:
        return Verdict(False, TIMEOUT)
    broken = frozenset(t for t in baseline.passing if run.statuses.get(t) not in ("PASSED", "XFAIL"))
    if not broken:
        return Verdict(False, NO_TEST_FAILS)
    if broken == baseline.passing:
        return Verdict(False, ALL_TESTS_FAIL)
    return Verdict(True, "", broken, baseline.passing - broken, run)


def validate(container: ValidationContainer, baseline: Baseline, mutation: Mutation, original: str,
             timeout: float, *, targeted: bool = True) -> Verdict:
    """Write the bug, run the calling tests' files, then the whole suite; restore the file.

    ``targeted=False`` skips the first, file-level run (the benchmark's baseline strategy).
    """
    callers = baseline.tests_calling(mutation.path, mutation.function)
    if baseline.callers and not callers:
        return Verdict(False, NOT_EXERCISED)
    container.write(mutation.path, mutation.apply(original))
    try:
        if callers and targeted:
            files = sorted({t.split("::", 1)[0] for t in callers})
            quick = container.pytest(files, timeout)
            if quick.timed_out:
                return Verdict(False, TIMEOUT)
            if all(quick.statuses.get(t) in ("PASSED", "XFAIL") for t in callers):
                return Verdict(False, NO_TEST_FAILS)
        return judge(baseline, container.pytest(None, timeout))
    finally:
        container.restore(mutation.path)
