"""The demo run twice into one folder: the second run resumes every stage and finishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.recipes import demo
from swe_srl.tasks.bundled import bundled_tasks


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
