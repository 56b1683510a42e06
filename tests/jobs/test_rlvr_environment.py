"""RLVR's reward from a grading report: resolved, the shaped FAIL_TO_PASS fraction, and the zero causes."""

from __future__ import annotations

import pytest

from swe_srl.errors import SandboxError
from swe_srl.evaluate.report import GradeReport
from swe_srl.jobs.rlvr_environment import SandboxEnvironment, outcome_of


def report(**fields) -> GradeReport:
    values = dict(instance_id="a__b-1", run_id="r", resolved=False, patch_applied=True,
                  fail_to_pass={"t1": "PASSED", "t2": "FAILED", "t3": "PASSED"}, pass_to_pass={"p1": "PASSED"})
    return GradeReport(**{**values, **fields})


def test_resolved_is_one_under_both_rewards() -> None:
    done = report(resolved=True, fail_to_pass={"t1": "PASSED"})
    assert outcome_of(done, "resolved") == outcome_of(done, "fail_to_pass")
    assert (outcome_of(done, "resolved").reward, outcome_of(done, "resolved").cause) == (1.0, "resolved")


def test_the_shaped_reward_is_the_passing_share_of_fail_to_pass_while_pass_to_pass_holds() -> None:
    assert outcome_of(report(), "fail_to_pass").reward == pytest.approx(2 / 3)
    assert outcome_of(report(), "resolved").reward == 0.0
    broke = report(pass_to_pass={"p1": "FAILED"})
    assert outcome_of(broke, "fail_to_pass").reward == 0.0  # a fix that breaks a passing test earns nothing
    assert outcome_of(report(), "fail_to_pass").cause == "tests_fail"


@pytest.mark.parametrize(("fields", "cause"), [
    ({"patch_applied": False}, "patch_not_applied"),
    ({"distrusted": "a report rewritten from failed to passed"}, "distrusted"),
])
def test_a_patch_that_did_not_apply_or_a_distrusted_log_scores_zero_with_its_cause(fields, cause) -> None:
    for reward in ("resolved", "fail_to_pass"):
        assert (outcome_of(report(**fields), reward).reward, outcome_of(report(**fields), reward).cause) == (0.0, cause)


def test_no_verdict_from_the_harness_raises_so_the_episode_is_masked() -> None:
    with pytest.raises(SandboxError, match="failed outside the patch"):
        outcome_of(report(infrastructure=True, error="Error creating container for a__b-1"), "resolved")


def test_an_empty_patch_scores_zero_without_a_container(tmp_path) -> None:
    env = SandboxEnvironment("docker", "swe-srl", tmp_path)  # grading an empty patch never reaches Docker
    outcome = env.grade(None, " \n", "r")
    assert (outcome.reward, outcome.cause) == (0.0, "empty_patch")
