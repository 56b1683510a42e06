"""The RLVR recipe: GRPO over whole agent episodes in sandboxes, rewarded by the task's tests.

    swe-srl train rlvr --config rlvr-tiny-cpu model.path=runs/srl/final

SRL's second stage. The policy starts from a model folder (typically ``train srl``'s final model)
and is asked in the prompt recipe that folder carries, so it acts in the format it learned.
Per step: draw tasks, run G episodes of each in fresh sandboxes (swe_srl.jobs.episodes: every live
episode's next turn in one batched generation call, sandboxes acting concurrently), grade each
final patch with the harness (jobs/rlvr_environment.py: 1 resolved, else 0, or the shaped
FAIL_TO_PASS fraction), drop groups whose rewards do not vary and draw more tasks (dynamic
sampling), standardise rewards within each group, then SRL's update (train/update.py) on one row
per turn: the prompt as the policy read it is context, the completion it sampled is trained.
Each group's first turns share one prompt, listed together so the packer computes it once.

Episodes the infrastructure failed (a sandbox that did not start or died, a grader with no
verdict) are masked: out of the group's rewards and the loss, counted per cause in the metrics; a
group left with fewer than two scored episodes has no signal and is dropped like a flat one.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from swe_srl.agent.local_client import token_counts
from swe_srl.agent.loop import AgentConfig
from swe_srl.config import TrainConfig
from swe_srl.config.sections import PromptSettings
from swe_srl.errors import ConfigError
from swe_srl.evaluate.datasets import load_eval_tasks
from swe_srl.jobs.episodes import (GRADER, SANDBOX_LOST, SANDBOX_START, Environment, Episode, EpisodeSettings,
                                   Timings, run_episodes)
from swe_srl.jobs.rlvr_environment import SandboxEnvironment
from swe_srl.prompt import Message
from swe_srl.sandbox.backends import BACKENDS
from swe_srl.tasks.gradable import check_rows
from swe_srl.tasks.task import Task
from swe_srl.train.backends import make_backend
from swe_srl.train.batch import Learner
from swe_srl.train.checkpoint import TrainingState
from swe_srl.train.data import PromptStream, chat_prompt_ids
from swe_srl.train.groups import fill_batch
from swe_srl.train.logprobs import CompletionLogprobs
from swe_srl.train.objective import group_advantages
from swe_srl.train.packing import Pair
from swe_srl.train.policy import load_policy, reference_policy
from swe_srl.train.rollout import Completion, GenerationBackend, Sampling, prompt_budget
from swe_srl.train.run_setup import (TrainResult, begin_run, finish_run, make_optimizer, seed_everything,
                                     train_steps)
from swe_srl.train.update import train_on_batch, use_shared_prefix

log = logging.getLogger(__name__)

OUTCOMES = ("resolved", "tests_fail", "empty_patch", "patch_not_applied", "distrusted")  # scored episodes' causes
MASKED = (SANDBOX_START, SANDBOX_LOST, GRADER)  # masked episodes' causes


class TokenPolicy:
    """The policy as episodes use it (jobs.episodes.Policy): a generation backend and its tokenizer."""

    def __init__(self, backend: GenerationBackend, tokenizer: Any, prefix: str, sampling: Sampling) -> None:
        self.backend, self.tokenizer, self.prefix, self.sampling = backend, tokenizer, prefix, sampling

    def prompt_ids(self, messages: Sequence[Message]) -> tuple[int, ...]:
        return chat_prompt_ids(self.tokenizer, [{"role": m.role, "content": m.content} for m in messages], self.prefix)

    def generate(self, prompts: Sequence[tuple[int, ...]]) -> list[Completion]:
        return [completions[0] for completions in self.backend.generate(prompts, 1, self.sampling)]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return token_counts(self.tokenizer, texts)


@dataclass(frozen=True)
class EpisodeGroup:
    """One task's G episodes."""

    task_id: str
    episodes: tuple[Episode, ...]

    @property
    def scored(self) -> tuple[Episode, ...]:
        """The episodes the infrastructure did not fail: the ones that count."""
        return tuple(e for e in self.episodes if not e.masked)

    @property
    def rewards(self) -> tuple[float, ...]:
        """Rewards of the scored episodes; fewer than two carry no signal."""
        scored = self.scored
        return tuple(e.reward for e in scored) if len(scored) > 1 else (0.0,)


class EpisodeSampler:
    """Draws tasks and runs their episodes: ``fill_batch``'s ``sample_groups``. Keeps every group of the step."""

    def __init__(self, tasks: Sequence[Task], stream: PromptStream, policy: TokenPolicy, env: Environment,
                 settings: EpisodeSettings, group_size: int) -> None:
        self.tasks, self.stream, self.policy, self.env = tasks, stream, policy, env
        self.settings, self.group_size = settings, group_size
        self.step = 0
        self.sampled: list[EpisodeGroup] = []  # every group run this step, kept or not
        self.timings = Timings()

    def new_step(self, step: int) -> None:
        self.step, self.sampled, self.timings = step, [], Timings()

    def __call__(self, k: int) -> list[EpisodeGroup]:
        tasks = [self.tasks[i] for i in self.stream.take(k)]
        run_id = f"rlvr-s{self.step}-r{len(self.sampled)}"  # unique per sampling round of the step
        groups = run_episodes(tasks, self.group_size, self.policy, self.env, self.settings, run_id, self.timings)
        made = [EpisodeGroup(task.instance_id, tuple(group)) for task, group in zip(tasks, groups)]
        self.sampled.extend(made)
        return made


def episode_rows(groups: Sequence[EpisodeGroup], eps: float) -> tuple[list[Pair], list[float]]:
    """One (prompt, completion) row per turn of each scored episode, with its episode's group advantage.

    Within a group the first turns come first: they share one prompt, which the packer then stores once.
    """
    pairs: list[Pair] = []
    advantages: list[float] = []
    for group in groups:
        scored = group.scored
        if not scored:  # kept only with dynamic sampling off; nothing of it trains
            continue
        firsts, later = [], []
        for episode, advantage in zip(scored, group_advantages([e.reward for e in scored], eps)):
            for t, turn in enumerate(episode.turns):
                (firsts if t == 0 else later).append(((turn.prompt_ids, turn.completion_ids), advantage))
        for pair, advantage in firsts + later:
            pairs.append(pair)
            advantages.append(advantage)
    return pairs, advantages


def episode_metrics(groups: Sequence[EpisodeGroup]) -> dict[str, float]:
    """Rewards, resolve and submit rates, lengths and causes over every episode run this step (kept or not)."""
    episodes = [e for g in groups for e in g.episodes]
    scored = [e for e in episodes if not e.masked]
    rewards = [e.reward for e in scored] or [0.0]
    mean = sum(rewards) / len(rewards)
    per = max(len(scored), 1)
    sampled = [sum(len(t.completion_ids) for t in e.turns) for e in scored]
    record = {
        "reward_mean": mean,
        "reward_std": math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards)),
        "resolve_rate": sum(e.outcome == "resolved" for e in scored) / per,
        "submit_rate": sum(e.submitted for e in scored) / per,
        "format_failure_rate": _malformed_share(scored),
        "episode_turns": sum(len(e.turns) for e in scored) / per,
        "episode_sampled_tokens": sum(sampled) / per,
        "episode_tokens": sum(len(t.prompt_ids) + len(t.completion_ids) for e in scored for t in e.turns) / per,
        "context_overflows": sum(e.context_overflow for e in episodes),
        "episodes": len(episodes),
        "masked_fraction": (len(episodes) - len(scored)) / max(len(episodes), 1),
    }
    record |= {f"outcome_{cause}": sum(e.outcome == cause for e in scored) for cause in OUTCOMES}
    record |= {f"masked_{cause}": sum(e.masked and e.outcome == cause for e in episodes) for cause in MASKED}
    return record


def _malformed_share(episodes: Sequence[Episode]) -> float:
    calls = sum(len(e.turns) for e in episodes)
    malformed = sum(int(e.trajectory.metadata.get("malformed", 0)) for e in episodes if e.trajectory is not None)
    return malformed / calls if calls else 0.0


@dataclass(frozen=True)
class RlvrRun:
    """What one RLVR step works with (built once by ``run``)."""

    config: TrainConfig
    learner: Learner
    sampler: EpisodeSampler
    backend: GenerationBackend


def rlvr_step(t: RlvrRun, step: int) -> dict[str, Any]:
    """One GRPO step over episodes: run and grade them with dynamic sampling, then the update; the metrics record."""
    g = t.config.grpo
    started = time.perf_counter()
    t.sampler.new_step(step)
    groups, fill = fill_batch(t.sampler, lambda grp: grp.rewards, g.prompts_per_step, epsilon=g.std_epsilon,
                              enabled=g.dynamic_sampling, max_rounds=g.max_sampling_rounds)
    episodes_seconds = time.perf_counter() - started
    t.backend.pause()
    pairs, advantages = episode_rows(groups, g.advantage_eps)
    stats = train_on_batch(t.learner, pairs, torch.tensor(advantages, dtype=torch.float32), g,
                           t.config.optim.max_grad_norm)
    update_seconds = time.perf_counter() - started - episodes_seconds
    t.backend.sync_weights(t.learner.model)
    if not groups:
        log.warning("step %d: no group of episodes had varying rewards; no update", step)
    timings = t.sampler.timings
    return {
        "step": step,
        **episode_metrics(t.sampler.sampled),
        "fraction_dropped": fill.fraction_dropped,
        "groups_kept": len(groups),
        "sampling_rounds": fill.rounds,
        "rows": len(pairs),
        "loss": stats.loss,
        "kl": stats.kl,
        "clip_fraction": stats.clip_fraction,
        "grad_norm": stats.grad_norm,
        "lr": t.learner.scheduler.get_last_lr()[0],
        "generation_seconds": timings.generation,
        "sandbox_seconds": timings.sandboxes,
        "grading_seconds": timings.grading,
        "update_seconds": update_seconds,
        "step_seconds": time.perf_counter() - started,
    }


def check_config(config: TrainConfig) -> None:
    """What RLVR refuses before any model loads."""
    if config.run.distributed != "none":
        raise ConfigError("train rlvr runs in one process for now: set run.distributed=none "
                          "(episodes already fan out over rlvr.workers sandboxes)")
    if config.rlvr.sandbox not in BACKENDS:
        raise ConfigError(f"rlvr.sandbox '{config.rlvr.sandbox}' is not one of {', '.join(BACKENDS)}")
    if config.rollout.num_generations < 2:
        raise ConfigError("rollout.num_generations must be at least 2: GRPO compares episodes of one task")


def run(config: TrainConfig, *, on_step: Callable[[dict[str, Any]], None] | None = None,
        environment: Environment | None = None, tasks: Sequence[Task] | None = None) -> TrainResult:
    """Train with RLVR as ``config`` says; returns where the outputs are. ``on_step`` sees each record.

    ``environment`` replaces the sandboxes and harness, and ``tasks`` the rows of ``rlvr.tasks``: a small task
    world of a test, or a wrapper around the real environment that injects faults.
    """
    check_config(config)
    if tasks is None:
        try:
            source = load_eval_tasks(config.rlvr.tasks)
        except ConfigError as err:
            raise ConfigError(f"rlvr.tasks: {err}") from None
        tasks = check_rows(source.tasks, source.name).tasks  # every row gradable, before any model loads
    recipe = PromptSettings().for_model(config.model.path if config.model.path != "tiny" else "")
    # The prompt budget the policy learned bounds every turn's prompt (and, under vLLM, what the engine holds).
    config = replace(config, data=replace(config.data, max_prompt_tokens=recipe.max_prompt_tokens or 0))
    world, device, out = begin_run(config, data=False)
    seed_everything(config.run.seed)
    g = config.grpo

    tokenizer, model = load_policy(config, device, world)
    reference = reference_policy(config, model, needed=g.kl_beta != 0.0 or g.log_kl)
    backend = make_backend(config, model, tokenizer, world)
    sampling = Sampling(config.rollout.temperature, config.rollout.top_p, config.rollout.max_new_tokens)
    policy = TokenPolicy(backend, tokenizer, config.rollout.response_prefix, sampling)
    optimizer, scheduler = make_optimizer(config.optim, [p for p in model.parameters() if p.requires_grad],
                                          max(1, config.run.steps * g.updates_per_step), config.optim.warmup_steps)
    state = TrainingState(model, tokenizer, optimizer, scheduler, world)
    stream = PromptStream(len(tasks), seed=config.run.seed, shuffle=True)  # the task order, resumed exactly
    env = environment or SandboxEnvironment(config.rlvr.sandbox, recipe.observation_dialect, Path(out) / "grading",
                                            reward=config.rlvr.reward, grade_timeout=config.rlvr.grade_timeout)
    rl = config.rlvr
    settings = EpisodeSettings(
        agent=AgentConfig(max_steps=rl.max_turns, max_tokens=rl.max_episode_tokens or None, stepwise=recipe),
        episode_seconds=rl.episode_seconds, context_tokens=prompt_budget(config),
        response_prefix=config.rollout.response_prefix, workers=rl.workers, model=config.model.path)
    logprobs = CompletionLogprobs(device, tokenizer.pad_token_id, shared=use_shared_prefix(model, g))
    parts = RlvrRun(config, Learner(model, reference, optimizer, scheduler, logprobs, world),
                    EpisodeSampler(tasks, stream, policy, env, settings, config.rollout.num_generations), backend)

    start, history, metrics = train_steps(config, out, state, stream, backend, lambda n: rlvr_step(parts, n), on_step)
    final = finish_run(config, out, state, metrics, recipe=recipe)
    return TrainResult(output_dir=out, steps=max(start, config.run.steps), final_model=final, history=history)
