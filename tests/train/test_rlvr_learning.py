"""RLVR learns from the test outcome alone: a weakly warmed tiny model resolves more held-out key tasks after it.

The key world (tests/jobs/key_world.py) takes two actions: read ``key.txt``, then write the word it
showed into ``answer.txt``; an episode is graded when its two turns are spent. The warm-up imitates a
careless teacher who mostly reads the decoy ``notes.txt`` first and then guesses a word,
so the warm model copies a word it has seen but rarely looks where it is: only the final outcome says
which first move pays. The test runs the RLVR recipe on training tasks and measures the resolve rate,
with episodes sampled as the policy samples them in training, on held-out tasks before and after, for
several seeds.

Held-out tasks are new instances: the words are the world's eight, which a model this size must have
seen to copy them (it learns no general copying in a few hundred steps).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Sequence

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from swe_srl.actions import Action
from swe_srl.agent.local_client import token_counts
from swe_srl.agent.loop import AgentConfig
from swe_srl.config import load_config
from swe_srl.jobs.episodes import EpisodeSettings, Timings, run_episodes
from swe_srl.prompt import Message, PromptRecipe
from swe_srl.prompt_recipe import write_recipe
from swe_srl.recipes.train_rlvr import TokenPolicy, run
from swe_srl.tasks.task import Task
from swe_srl.train.data import chat_prompt_ids
from swe_srl.train.generate_hf import TransformersBackend
from swe_srl.train.rollout import Completion, Sampling
from swe_srl.train.sft_data import IGNORE, Encoded
from swe_srl.train.tiny import tiny_model, tiny_tokenizer
from tests.jobs.key_world import WORDS, KeyWorld, key_task
from tests.train.synthetic import sft_on_rows

pytestmark = pytest.mark.slow

RECIPE = PromptRecipe(context_steps=4, max_prompt_tokens=1024,
                      system_prompt="Copy key.txt into answer.txt. Reply <think>...</think> then one <function=bash> call.")
TURNS = 2  # read, write
MAX_NEW_TOKENS = 48  # the teacher's longest reply is 38 tiny-tokenizer tokens
TEMPERATURE = 0.7  # RLVR samples at this, and so does the measurement
TEACHER_READS_KEY = 0.35  # how often the careless teacher looks in key.txt first
WARMUP_STEPS = 400
RLVR_STEPS = 25
TRAIN = [key_task(i) for i in range(16)]
HELD_OUT = [key_task(100 + i) for i in range(8)]
EPISODES_PER_TASK = 16  # when measuring the resolve rate: 128 episodes


class CarelessTeacher:
    """A Policy (jobs.episodes) that writes the teacher's replies: first ``cat`` key.txt with probability
    ``p_key`` (else notes.txt), then ``echo`` the word the observation showed (a random one when it showed
    none)."""

    def __init__(self, tokenizer, p_key: float, seed: int) -> None:
        self.tokenizer, self.p_key, self.rng = tokenizer, p_key, random.Random(seed)

    def prompt_ids(self, messages: Sequence[Message]) -> tuple[int, ...]:
        return chat_prompt_ids(self.tokenizer, [{"role": m.role, "content": m.content} for m in messages], "")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return token_counts(self.tokenizer, texts)

    def generate(self, prompts: Sequence[tuple[int, ...]]) -> list[Completion]:
        replies = [self._reply(self.tokenizer.decode(ids)) for ids in prompts]
        return [Completion(tuple(self.tokenizer(text, add_special_tokens=False)["input_ids"]) + (self.tokenizer.eos_token_id,),
                           text, True) for text in replies]

    def _reply(self, prompt: str) -> str:
        turn = prompt.count("<|im_start|>assistant")
        if turn == 1:
            thought, action = "read it", Action.bash("cat " + ("key.txt" if self.rng.random() < self.p_key else "notes.txt"))
        else:
            shown = [w for w in WORDS if w in prompt.rsplit("<|im_start|>user", 1)[-1]]
            thought, action = "write it", Action.bash(f"echo {shown[0] if shown else self.rng.choice(WORDS)} > answer.txt")
        return f"<think>\n{thought}\n</think>\n{action.render()}"


def episode_settings() -> EpisodeSettings:
    return EpisodeSettings(agent=AgentConfig(max_steps=TURNS, stepwise=RECIPE), episode_seconds=120,
                           context_tokens=0, response_prefix="", workers=4)


def warm_model(folder: Path, seed: int) -> Path:
    """A tiny model fine-tuned on the careless teacher's episodes (token-exact turns), saved with its recipe."""
    torch.manual_seed(seed)
    tokenizer = tiny_tokenizer(action_markers=True)
    model = tiny_model(tokenizer, seed=seed)
    teacher = CarelessTeacher(tokenizer, TEACHER_READS_KEY, seed)
    groups = run_episodes(TRAIN, 8, teacher, KeyWorld(), episode_settings(), "teacher", Timings())
    rows = [Encoded(turn.prompt_ids + turn.completion_ids, (IGNORE,) * len(turn.prompt_ids) + turn.completion_ids)
            for group in groups for episode in group for turn in episode.turns]
    sft_on_rows(model, tokenizer.pad_token_id, rows, steps=WARMUP_STEPS, lr=3e-3, seed=seed)
    model.eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    write_recipe(folder, RECIPE)
    return folder


def resolve_rate(folder: Path, tasks: Sequence[Task]) -> float:
    """The share of sampled episodes (at RLVR's temperature) that resolve ``tasks``."""
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    policy = TokenPolicy(TransformersBackend(model, tokenizer), tokenizer, "", Sampling(TEMPERATURE, 1.0, MAX_NEW_TOKENS))
    groups = run_episodes(tasks, EPISODES_PER_TASK, policy, KeyWorld(), episode_settings(), "measure", Timings())
    episodes = [e for group in groups for e in group]
    return sum(e.outcome == "resolved" for e in episodes) / len(episodes)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rlvr_raises_the_held_out_resolve_rate_of_a_weakly_warmed_model(seed, tmp_path) -> None:
    warm = warm_model(tmp_path / "warm", seed)
    before = resolve_rate(warm, HELD_OUT)
    config = load_config("rlvr-tiny-cpu", [
        f"model.path={warm}", f"run.output_dir={tmp_path / 'rlvr'}", f"run.seed={seed}", f"run.steps={RLVR_STEPS}",
        f"run.save_every={RLVR_STEPS}", "num_generations=8", "prompts_per_step=4", f"rlvr.max_turns={TURNS}",
        f"max_new_tokens={MAX_NEW_TOKENS}", f"rollout.temperature={TEMPERATURE}", "optim.lr=3e-4", "report_to=[]"])
    result = run(config, environment=KeyWorld(), tasks=TRAIN)
    after = resolve_rate(result.final_model, HELD_OUT)
    print(f"seed {seed}: held-out resolve rate {before:.3f} -> {after:.3f}")  # shown with pytest -rP
    assert before <= 0.5, f"seed {seed}: the warm-up was not weak ({before:.2f} resolved before RLVR)"
    assert after >= before + 0.2, f"seed {seed}: held-out resolve rate {before:.2f} -> {after:.2f}"
