"""The RLVR recipe on the key world (tests/jobs/key_world.py): the model folder's prompt recipe is the one
the policy is asked in and the one saved with its model, and a resumed run continues exactly."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from swe_srl.config import load_config
from swe_srl.jobs.episodes import Outcome
from swe_srl.prompt import PromptRecipe
from swe_srl.prompt_recipe import RECIPE_FILE, write_recipe
from swe_srl.recipes.train_rlvr import run
from swe_srl.train.metrics import read_metrics
from swe_srl.train.tiny import tiny_model, tiny_tokenizer
from tests.jobs.key_world import KeyWorld, key_task

SYSTEM = "Copy key.txt into answer.txt. Reply <think>...</think> then one <function=bash> call."


class DrawnRewards(KeyWorld):
    """The key world, rewarding each episode by a number drawn from its grading run id: a random tiny model
    writes no answer, and this gives its groups varying rewards (so updates move the weights) that a
    resumed run draws again exactly as the straight run did."""

    def grade(self, task, patch, run_id):
        super().grade(task, patch, run_id)
        return Outcome(zlib.crc32(run_id.encode()) % 4 / 3, "tests_fail")


@pytest.fixture(scope="module")
def start(tmp_path_factory) -> Path:
    """A tiny model folder carrying a short prompt recipe of its own."""
    folder = tmp_path_factory.mktemp("rlvr") / "model"
    tokenizer = tiny_tokenizer()
    tiny_model(tokenizer, seed=1).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    write_recipe(folder, PromptRecipe(context_steps=1, max_prompt_tokens=2048, system_prompt=SYSTEM))
    return folder


def overrides(start: Path, out: Path, *extra: str) -> list[str]:
    return [f"model.path={start}", f"run.output_dir={out}", "num_generations=2", "prompts_per_step=2",
            "grpo.dynamic_sampling=false", "rlvr.max_turns=2", "max_new_tokens=12", "report_to=[]", "run.save_every=1",
            *extra]


def test_the_model_folders_recipe_is_used_and_saved_and_a_resumed_run_continues_exactly(start, tmp_path) -> None:
    tasks = [key_task(i) for i in range(3)]
    straight = run(load_config("rlvr-tiny-cpu", overrides(start, tmp_path / "a", "run.steps=2")),
                   environment=DrawnRewards(), tasks=tasks)
    saved = json.loads((straight.final_model / RECIPE_FILE).read_text())
    assert saved["system_prompt"] == SYSTEM and saved["context_steps"] == 1 and saved["max_prompt_tokens"] == 2048
    # the prompts were the recipe's: a short system prompt, so a short first turn
    assert straight.history[0]["episode_tokens"] < 2 * 2048

    run(load_config("rlvr-tiny-cpu", overrides(start, tmp_path / "b", "run.steps=1")), environment=DrawnRewards(),
        tasks=tasks)
    resumed = run(load_config("rlvr-tiny-cpu", overrides(start, tmp_path / "b", "run.steps=2", "run.resume=true")),
                  environment=DrawnRewards(), tasks=tasks)
    assert [r["step"] for r in read_metrics(tmp_path / "b")] == [1, 2]
    assert all(r["grad_norm"] > 0 for r in straight.history)
    same = ("reward_mean", "episode_sampled_tokens", "episode_tokens", "rows", "loss")
    assert {k: resumed.history[0][k] for k in same} == {k: straight.history[1][k] for k in same}
    weights = [load_file(folder / "final" / "model.safetensors") for folder in (tmp_path / "a", tmp_path / "b")]
    initial = load_file(start / "model.safetensors")
    assert any(not torch.equal(initial[name], weights[0][name]) for name in initial)  # the updates moved them
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[0])
