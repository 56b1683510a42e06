"""The demo: its student learns under SRL by the demo's own rule; run twice into one folder, the second run
resumes every stage and finishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.formats.importing import import_to_store
from swe_srl.recipes import demo
from swe_srl.recipes.demo import RULE_FORMAT_FAILURES, RULE_RISE, RULE_WINDOW, SrlCheck
from swe_srl.tasks.bundled import bundled_tasks
from swe_srl.train.metrics import read_metrics


def _steps(rewards: list[float], format_failures: list[float]) -> list[dict]:
    return [{"step": i + 1, "reward_mean": r, "format_failure_rate": f}
            for i, (r, f) in enumerate(zip(rewards, format_failures))]


def test_the_rule_compares_the_first_and_last_windows_of_steps() -> None:
    n = 2 * RULE_WINDOW + 1
    rising = _steps([-0.9] * RULE_WINDOW + [0.0] + [-0.9 + RULE_RISE + 0.05] * RULE_WINDOW,
                    [0.9] * RULE_WINDOW + [0.5] + [RULE_FORMAT_FAILURES - 0.05] * RULE_WINDOW)
    check = SrlCheck.of(rising)
    assert check.met and check.rise == pytest.approx(RULE_RISE + 0.05) and len(rising) == n
    assert (check.first_format_failures, check.last_format_failures) == pytest.approx((0.9, RULE_FORMAT_FAILURES - 0.05))
    flat = _steps([-0.9] * n, [0.1] * n)
    assert not SrlCheck.of(flat).met  # no rise
    formats = _steps([-0.9] * RULE_WINDOW + [0.0] + [0.5] * RULE_WINDOW, [0.9] * (RULE_WINDOW + 1) + [RULE_FORMAT_FAILURES] * RULE_WINDOW)
    assert not SrlCheck.of(formats).met  # rose, but format failures did not fall below the bar
    assert SrlCheck.of(flat[: 2 * RULE_WINDOW - 1]) is None  # too few steps for two windows


@pytest.mark.slow
def test_the_demo_student_learns_under_srl(tmp_path: Path) -> None:
    # Stages 2 and 3 of the demo as they run, on the recorded runs its collect stage replays (each one
    # graded; the replay re-executes the same actions), with no Docker. Minutes on two CPU cores.
    import_to_store([demo.BUNDLED_TRAJECTORIES], tmp_path / "runs")
    stages: list[tuple[str, int]] = []
    student = demo.train_student(tmp_path / "runs" / "trajectories.jsonl", tmp_path,
                                 progress=lambda stage, done, total, note: stages.append((stage, done)))
    assert student.data.kept > 100
    assert student.sft_loss[1] < student.sft_loss[0] / 3
    logged = read_metrics(tmp_path / "srl")  # the rule on what the run logged
    assert [r["step"] for r in logged] == list(range(1, demo.SRL_STEPS + 1))
    check = SrlCheck.of(logged)
    assert check.rise >= RULE_RISE, check
    assert check.last_format_failures < RULE_FORMAT_FAILURES, check
    assert ("sft", demo.SFT_STEPS) in stages and ("srl", demo.SRL_STEPS) in stages  # each stage drew its bar


@pytest.mark.docker
@pytest.mark.slow
def test_the_demo_run_again_resumes_every_stage(tmp_path: Path, docker_client, monkeypatch) -> None:
    # The whole pipeline, on one task and one recorded run, with the fewest training steps.
    monkeypatch.setattr(demo, "bundled_tasks", lambda: bundled_tasks()[:1])
    monkeypatch.setattr(demo, "SAMPLES", (0,))
    monkeypatch.setattr(demo, "SFT_STEPS", 2)
    monkeypatch.setattr(demo, "SRL_STEPS", 1)
    first = demo.run_demo(tmp_path)
    assert first.ok, first
    eval_runs = {path: path.stat().st_mtime_ns for path in (tmp_path / "eval").glob("*/runs/*.json")}
    assert len(eval_runs) == 2  # one task in each setting

    stages: list[str] = []
    second = demo.run_demo(tmp_path, say=stages.append)
    assert second.ok and len(stages) == 4  # it reached the eval stage and finished it
    assert (second.collected.runs, second.collected.reused) == (0, 1)
    assert second.evaluation.model_id == first.evaluation.model_id  # the same trained model, saved again
    assert {path: path.stat().st_mtime_ns for path in (tmp_path / "eval").glob("*/runs/*.json")} == eval_runs
