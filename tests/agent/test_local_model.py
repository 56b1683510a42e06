"""A tiny local transformers model as the agent: it runs end to end without crashing and scores 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swe_srl.agent import loop
from swe_srl.agent.loop import AgentConfig, run_agent
from swe_srl.agent.prompt import render_prompt
from swe_srl.prompt import CachedCounter
from swe_srl.stepwise import StepwiseConfig

from tests.agent.fakes import TASK, FakeTools

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_tiny_model_drives_the_loop_and_its_prompts_use_the_chat_template(tiny_client) -> None:
    config = AgentConfig(max_steps=3, max_malformed_in_a_row=5)
    tools = FakeTools()
    trajectory = run_agent(TASK, tiny_client, tools, config, diff=tools.diff)
    meta = trajectory.metadata
    assert meta["model_calls"] == 3 and meta["model"] == "tiny"
    # A random model writes no valid action: every reply is counted as malformed, none executed.
    assert meta["malformed"] + len(trajectory.steps) == 3 and meta["stop_reason"] in (
        loop.STEP_LIMIT, loop.MALFORMED_LIMIT, loop.SUBMITTED)
    assert meta["prompt_tokens"] > 0 and meta["completion_tokens"] > 0
    ids = tiny_client.prompt_ids(render_prompt(TASK.problem_statement, (), StepwiseConfig(),
                                               CachedCounter(tiny_client.count_tokens)))
    text = tiny_client.tokenizer.decode(ids)
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")


def test_token_counts_are_the_tokenizers(tiny_client) -> None:
    texts = ["def parse(x):\n    return x", ""]
    expected = [len(tiny_client.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    assert tiny_client.count_tokens(texts) == expected


@pytest.mark.docker
@pytest.mark.slow
def test_eval_cli_with_a_tiny_checkpoint_scores_zero(tmp_path: Path, docker_client) -> None:
    from swe_srl.tasks.bundled import bundled_tasks
    from swe_srl.train.tiny import save_tiny

    model_dir = save_tiny(tmp_path / "tiny-model")
    tasks = bundled_tasks()[:2]
    task_file = tmp_path / "tasks.jsonl"
    task_file.write_text("".join(json.dumps(t.to_row()) + "\n" for t in tasks))
    out = tmp_path / "eval"
    command = [sys.executable, "-m", "swe_srl.cli", "eval", "--model", str(model_dir), "--dataset", str(task_file),
               "--out", str(out), "--max-steps", "3", "--max-new-tokens", "16", "--workers", "2"]
    done = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert set(report["settings"]) == {"end_to_end", "oracle_file_edit"}
    for setting in report["settings"].values():
        assert setting["overall"] == {"resolved": 0, "total": 2, "rate": 0.0}
        assert setting["failed"] == {}  # graded unresolved, not crashed
    for name in ("end_to_end", "oracle_file_edit"):
        preds = [json.loads(line) for line in (out / name / "predictions.jsonl").read_text().splitlines()]
        assert sorted(p["instance_id"] for p in preds) == sorted(t.instance_id for t in tasks)
        # the model by its resolved folder and weights' hash, as every run record names it
        assert {p["model_name_or_path"] for p in preds} == {report["model_name_or_path"]}
        assert report["model_name_or_path"].startswith(f"{model_dir.resolve()}@sha256:")
        runs = [json.loads(p.read_text()) for p in (out / name / "runs").glob("*.json")]
        assert all(r["steps"] + r["trajectory"]["metadata"]["malformed"] >= 1 for r in runs)
        # The harness really graded each patch (its log folder exists for each instance).
        assert len(list((out / name / "grading").rglob("run_instance.log"))) == 2
    oracle_run = json.loads(next((out / "oracle_file_edit" / "runs").glob("*.json")).read_text())
    assert "The fix belongs in these files" in oracle_run["trajectory"]["problem_statement"]
    assert (out / "report.html").is_file()
