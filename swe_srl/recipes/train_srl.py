"""The SRL recipe: GRPO with dynamic sampling on step-wise examples, read top to bottom.

    swe-srl train srl --config tiny-cpu run.steps=20

Per step: draw prompts, sample G completions each, score every completion against the expert's
action (swe_srl.reward), drop groups with no reward spread and draw more (dynamic sampling),
standardise rewards within groups, then take ``updates_per_step`` optimizer steps on the clipped
token-level objective (``train_on_batch`` below; the equations are swe_srl.train.objective). Where
the model's attention takes a block mask (checked at start), each prompt is computed once per group
with its G completions packed after it (swe_srl.train.packing); otherwise rows are padded and the
prompt repeats. Prompts longer than ``data.max_prompt_tokens`` (or than vLLM's engine leaves room for)
are left out at start. Metrics go to metrics.jsonl and TensorBoard; checkpoints resume exactly.

With ``run.distributed=fsdp`` (swe_srl.train.distributed) every rank walks the same prompt order:
each sampling round's prompts are dealt out across ranks, the scored groups gathered back, so
dynamic sampling decides alike everywhere; each rank then trains on its share of the batch.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from swe_srl.config import TrainConfig
from swe_srl.errors import ConfigError
from swe_srl.reward import Score, score_group
from swe_srl.train.backends import make_backend
from swe_srl.train.batch import Learner
from swe_srl.train.checkpoint import TrainingState
from swe_srl.train.data import PromptSet, PromptStream, load_examples
from swe_srl.train.distributed import World
from swe_srl.train.groups import fill_batch
from swe_srl.train.logprobs import CompletionLogprobs
from swe_srl.train.memory_plan import check_fits
from swe_srl.train.objective import group_advantages
from swe_srl.train.policy import load_policy, reference_policy
from swe_srl.train.rollout import Completion, GenerationBackend, Sampling, prompt_budget
from swe_srl.train.run_setup import (TrainResult, begin_run, finish_run, make_optimizer, seed_everything,
                                     train_steps)
from swe_srl.train.update import train_on_batch, use_shared_prefix

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Group:
    """One prompt's G completions and their scores."""

    example: int  # index in the dataset
    prompt_ids: tuple[int, ...]  # the prompt as the model read it
    completions: tuple[Completion, ...]  # G of them
    rewards: tuple[float, ...]  # one per completion
    format_ok: tuple[bool, ...]  # one per completion: did it parse as thought + action


class GroupSampler:
    """Draws prompts, samples G completions of each and scores them: ``fill_batch``'s ``sample_groups``.

    Keeps every group sampled this step, kept or not, and the seconds spent scoring, for the metrics.
    """

    def __init__(self, prompts: PromptSet, stream: PromptStream, backend: GenerationBackend,
                 score: Callable[[Sequence[str], str], list[Score]], config: TrainConfig, world: World) -> None:
        self.prompts, self.stream, self.backend, self.score, self.world = prompts, stream, backend, score, world
        self.rollout = config.rollout
        self.sampling = Sampling(config.rollout.temperature, config.rollout.top_p, config.rollout.max_new_tokens)
        self.sampled: list[Group] = []  # every group sampled this step, kept or not
        self.reward_seconds = 0.0  # of this step's rollouts, the time spent scoring

    def new_step(self) -> None:
        self.sampled.clear()
        self.reward_seconds = 0.0

    def __call__(self, k: int) -> list[Group]:
        """``k`` prompts' scored groups (rounded up to a multiple of the ranks, which share the work)."""
        world, prefix = self.world, self.rollout.response_prefix
        indices = [self.prompts.examples[p] for p in self.stream.take(-(-k // world.size) * world.size)]
        mine = world.share(indices)
        prompts = [self.prompts.prompt_ids(i) for i in mine]
        outputs = self.backend.generate(prompts, self.rollout.num_generations, self.sampling)
        groups = []
        for index, prompt, completions in zip(mine, prompts, outputs):
            scored = time.perf_counter()
            scores = self.score([prefix + c.text for c in completions], self.prompts.target(index))
            self.reward_seconds += time.perf_counter() - scored
            groups.append(Group(index, prompt, tuple(completions), tuple(s.reward for s in scores),
                                tuple(s.format_ok for s in scores)))
        if world.sharded:  # back in the stream's order: prompt i was dealt to rank i % size
            shares = world.gather(groups)
            groups = [shares[i % world.size][i // world.size] for i in range(len(indices))]
        self.sampled.extend(groups)
        return groups


def rollout_metrics(groups: Sequence[Group], rollout_seconds: float) -> dict[str, float]:
    """Rewards, format and lengths over every sampled completion (kept or dropped): the policy's real behaviour."""
    rewards = [r for grp in groups for r in grp.rewards]
    formats = [ok for grp in groups for ok in grp.format_ok]
    lengths = [len(c.token_ids) for grp in groups for c in grp.completions]
    mean = sum(rewards) / len(rewards)
    return {
        "reward_mean": mean,
        "reward_std": math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards)),
        "format_failure_rate": 1.0 - sum(formats) / len(formats),
        "exact_match_rate": sum(r == 1.0 for r in rewards) / len(rewards),
        "completion_length": sum(lengths) / len(lengths),
        "rollout_tokens_per_s": sum(lengths) / max(rollout_seconds, 1e-9),
    }


@dataclass(frozen=True)
class SrlRun:
    """What one SRL step works with (built once by ``run``)."""

    config: TrainConfig
    learner: Learner  # the policy, its reference and optimizer
    sampler: GroupSampler  # prompts in, scored groups out
    backend: GenerationBackend  # takes the new weights after each step


def srl_step(t: SrlRun, step: int) -> dict[str, Any]:
    """One GRPO step: rollouts with dynamic sampling, advantages, the optimizer steps; the step's metrics record."""
    g, world = t.config.grpo, t.learner.world
    started = time.perf_counter()
    t.sampler.new_step()

    # --- rollouts and rewards, with dynamic sampling
    groups, fill = fill_batch(t.sampler, lambda grp: grp.rewards, g.prompts_per_step, epsilon=g.std_epsilon,
                              enabled=g.dynamic_sampling, max_rounds=g.max_sampling_rounds)
    rollout_seconds = time.perf_counter() - started
    t.backend.pause()  # generation's memory goes to the update until sync_weights

    # --- advantages: rewards standardised within each group; one row per (prompt, completion)
    mine = world.share(groups)
    pairs = [(grp.prompt_ids, c.token_ids) for grp in mine for c in grp.completions]
    advantages = torch.tensor([a for grp in mine for a in group_advantages(grp.rewards, g.advantage_eps)],
                              dtype=torch.float32)

    # --- log-probs of the sampling policy, then the clipped-objective optimizer steps
    stats = train_on_batch(t.learner, pairs, advantages, g, t.config.optim.max_grad_norm)
    update_seconds = time.perf_counter() - started - rollout_seconds
    t.backend.sync_weights(t.learner.model)
    if not groups and world.is_main:
        log.warning("step %d: every sampled group had equal rewards; no update", step)
    return {
        "step": step,
        **rollout_metrics(t.sampler.sampled, rollout_seconds),
        "fraction_dropped": fill.fraction_dropped,
        "groups_kept": len(groups),
        "sampling_rounds": fill.rounds,
        "prompts_too_long": t.sampler.prompts.dropped,  # left out at start (data.max_prompt_tokens, vLLM's length)
        "loss": world.total(stats.loss) / world.size,  # each rank's loss is its share times the ranks
        "kl": stats.kl,
        "clip_fraction": stats.clip_fraction,
        "grad_norm": stats.grad_norm,
        "lr": t.learner.scheduler.get_last_lr()[0],
        "rollout_seconds": rollout_seconds,  # generation and rewards (all sampling rounds)
        "reward_seconds": t.sampler.reward_seconds,  # of which scoring completions
        "update_seconds": update_seconds,  # log-probs, backward and optimizer: the part packing speeds up
        "step_seconds": time.perf_counter() - started,
    }


def run(config: TrainConfig, *, on_step: Callable[[dict[str, Any]], None] | None = None,
        score: Callable[[Sequence[str], str], list[Score]] = score_group) -> TrainResult:
    """Train with SRL as ``config`` says; returns where the outputs are. ``on_step`` sees each record.

    ``score(completion_texts, target)`` rewards one prompt's G completions: SRL's action similarity
    unless a benchmark or an experiment swaps in another.
    """
    g = config.grpo
    if config.run.distributed == "fsdp" and (g.kl_beta != 0.0 or g.log_kl):
        raise ConfigError("run.distributed=fsdp keeps no reference copy of the sharded model: "
                          "set kl_beta=0 and log_kl=false (the paper's KL is 0)")
    world, device, out = begin_run(config)
    if device.type == "cuda":  # refuse a plan that cannot fit this GPU before anything loads
        props = torch.cuda.get_device_properties(device)
        check_fits(config, world_size=world.size, gpu=(props.name, props.total_memory))
    seed_everything(config.run.seed + world.rank)  # ranks sample different prompts with different streams

    # --- model, reference, data, rollouts, optimizer
    tokenizer, model = load_policy(config, device, world)
    reference = reference_policy(config, model, needed=g.kl_beta != 0.0 or g.log_kl)
    budget = prompt_budget(config)  # under vLLM, every kept prompt fits the engine with a whole completion
    prompts = PromptSet(load_examples(config.data), tokenizer, config.data, config.rollout.response_prefix, budget)
    if prompts.dropped and world.is_main:
        log.warning("left out %d of %d examples: prompts over %d tokens", prompts.dropped,
                    prompts.dropped + len(prompts.examples), budget)
    backend = make_backend(config, model, tokenizer, world)
    optimizer, scheduler = make_optimizer(config.optim, [p for p in model.parameters() if p.requires_grad],
                                          max(1, config.run.steps * g.updates_per_step), config.optim.warmup_steps)
    state = TrainingState(model, tokenizer, optimizer, scheduler, world)
    stream = PromptStream(len(prompts.examples), seed=config.run.seed, shuffle=config.data.shuffle)
    logprobs = CompletionLogprobs(device, tokenizer.pad_token_id, shared=use_shared_prefix(model, g))
    parts = SrlRun(config, Learner(model, reference, optimizer, scheduler, logprobs, world),
                      GroupSampler(prompts, stream, backend, score, config, world), backend)

    start, history, metrics = train_steps(config, out, state, stream, backend, lambda n: srl_step(parts, n), on_step)
    final = finish_run(config, out, state, metrics)
    return TrainResult(output_dir=out, steps=max(start, config.run.steps), final_model=final, history=history)
