"""The SRL recipe: GRPO with dynamic sampling on step-wise examples, read top to bottom.

    swe-srl train srl --config tiny-cpu run.steps=20

Per step: draw prompts, sample G completions each, score every completion against the expert's
action (swe_srl.reward), drop groups with no reward spread and draw more (dynamic sampling),
standardise rewards within groups, then take ``updates_per_step`` optimizer steps on the clipped
token-level objective (swe_srl.train.update, swe_srl.train.loss). Where the model's attention takes
a block mask (checked at start), each prompt is computed once per group with its G completions
packed after it (swe_srl.train.packing); otherwise rows are padded and the prompt repeats.
Metrics go to metrics.jsonl and TensorBoard; checkpoints resume exactly.

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
from swe_srl.train.checkpoint import TrainingState, resume_latest
from swe_srl.train.data import PromptStream, load_examples
from swe_srl.train.distributed import World
from swe_srl.train.groups import fill_batch, group_advantages
from swe_srl.train.logprobs import shared_prefix_support
from swe_srl.train.metrics import MetricsLog
from swe_srl.train.policy import load_policy, reference_policy
from swe_srl.train.rollout import Completion, GenerationBackend, Sampling
from swe_srl.train.run_setup import (TrainResult, begin_run, finish_run, make_optimizer, publish, save_if_due,
                                     seed_everything)
from swe_srl.train.update import train_on_batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Group:
    """One prompt's G completions and their scores."""

    example: int  # index in the dataset
    prompt_ids: tuple[int, ...]
    completions: tuple[Completion, ...]
    rewards: tuple[float, ...]
    format_ok: tuple[bool, ...]


def make_backend(config: TrainConfig, model: Any, tokenizer: Any, world: World = World()) -> GenerationBackend:
    if config.rollout.backend == "transformers":
        from swe_srl.train.generate_hf import TransformersBackend

        return TransformersBackend(model, tokenizer, batch_size=config.rollout.generation_batch_size,
                                   synced=world.sharded)
    if config.rollout.backend == "vllm":
        from swe_srl.train.generate_vllm import VllmBackend

        return VllmBackend(config.model.path, tokenizer, lora_rank=config.lora.r if config.lora.enabled else 0,
                           dtype=config.model.dtype, gpu_memory_utilization=config.rollout.vllm_gpu_memory_utilization,
                           max_model_len=config.rollout.vllm_max_model_len, seed=config.run.seed + world.rank,
                           per_rank=world.sharded)
    raise ConfigError(f"rollout.backend '{config.rollout.backend}' is not one of transformers, vllm")


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
    seed_everything(config.run.seed + world.rank)  # ranks sample different prompts with different streams

    # --- model, reference, data, rollouts, optimizer
    tokenizer, model = load_policy(config, device, world)
    reference = reference_policy(config, model, needed=g.kl_beta != 0.0 or g.log_kl)
    dataset = load_examples(config.data)
    backend = make_backend(config, model, tokenizer, world)
    optimizer, scheduler = make_optimizer(config.optim, [p for p in model.parameters() if p.requires_grad],
                                          max(1, config.run.steps * g.updates_per_step), config.optim.warmup_steps)
    state = TrainingState(model, tokenizer, optimizer, scheduler, world)
    stream = PromptStream(len(dataset), seed=config.run.seed, shuffle=config.data.shuffle)
    sampling = Sampling(config.rollout.temperature, config.rollout.top_p, config.rollout.max_new_tokens)
    prefix = config.rollout.response_prefix
    pad_id = tokenizer.pad_token_id
    shared = False
    if g.shared_prefix:
        # Checked on the model itself: a model whose attention cannot take the block mask trains
        # on the plain path, with the same results, only slower.
        shared, why = shared_prefix_support(model)
        log.log(logging.INFO if shared else logging.WARNING, "shared-prefix packing %s: %s",
                "on" if shared else "off (plain path)", why)

    start = resume_latest(out, state, stream) if config.run.resume else 0
    if start:
        backend.sync_weights(model)
    metrics = MetricsLog(out, tensorboard=config.run.tensorboard, resume_step=start) if world.is_main else None

    def prompt_ids(index: int) -> tuple[int, ...]:
        row = dataset[index]
        text = tokenizer.apply_chat_template(row[config.data.prompt_column], tokenize=False, add_generation_prompt=True)
        return tuple(tokenizer(text + prefix, add_special_tokens=False)["input_ids"])

    sampled_groups: list[Group] = []  # every group sampled this step, kept or not (for metrics)
    reward_seconds = 0.0

    def sample_groups(k: int) -> list[Group]:
        """``k`` prompts' scored groups (rounded up to a multiple of the ranks, which share the work)."""
        nonlocal reward_seconds
        indices = stream.take(-(-k // world.size) * world.size)
        mine = world.share(indices)
        prompts = [prompt_ids(i) for i in mine]
        outputs = backend.generate(prompts, config.rollout.num_generations, sampling)
        groups = []
        for index, prompt, completions in zip(mine, prompts, outputs):
            target = dataset[index][config.data.target_column]
            scored = time.perf_counter()
            scores = score([prefix + c.text for c in completions], target)
            reward_seconds += time.perf_counter() - scored
            groups.append(Group(index, prompt, tuple(completions), tuple(s.reward for s in scores),
                                tuple(s.format_ok for s in scores)))
        if world.sharded:  # back in the stream's order: prompt i was dealt to rank i % size
            shares = world.gather(groups)
            groups = [shares[i % world.size][i // world.size] for i in range(len(indices))]
        sampled_groups.extend(groups)
        return groups

    history: list[dict[str, Any]] = []
    for step in range(start + 1, config.run.steps + 1):
        started = time.perf_counter()
        sampled_groups.clear()
        reward_seconds = 0.0

        # --- rollouts and rewards, with dynamic sampling
        groups, fill = fill_batch(sample_groups, lambda grp: grp.rewards, g.prompts_per_step,
                                  epsilon=g.std_epsilon, enabled=g.dynamic_sampling, max_rounds=g.max_sampling_rounds)
        rollout_seconds = time.perf_counter() - started

        # --- advantages: rewards standardised within each group; one row per (prompt, completion)
        mine = world.share(groups)
        pairs = [(grp.prompt_ids, c.token_ids) for grp in mine for c in grp.completions]
        advantages = torch.tensor([a for grp in mine for a in group_advantages(grp.rewards, g.advantage_eps)],
                                  dtype=torch.float32)

        # --- log-probs of the sampling policy, then the clipped-objective optimizer steps
        stats = train_on_batch(model, reference, optimizer, scheduler, pairs, advantages, grpo=g,
                               max_grad_norm=config.optim.max_grad_norm, device=device, pad_id=pad_id, shared=shared,
                               world=world)
        update_seconds = time.perf_counter() - started - rollout_seconds
        backend.sync_weights(model)

        # --- metrics over every sampled completion (kept or dropped): the policy's real behaviour
        rewards = [r for grp in sampled_groups for r in grp.rewards]
        formats = [ok for grp in sampled_groups for ok in grp.format_ok]
        lengths = [len(c.token_ids) for grp in sampled_groups for c in grp.completions]
        mean = sum(rewards) / len(rewards)
        elapsed = time.perf_counter() - started
        record = {
            "step": step,
            "reward_mean": mean,
            "reward_std": math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards)),
            "format_failure_rate": 1.0 - sum(formats) / len(formats),
            "fraction_dropped": fill.fraction_dropped,
            "groups_kept": len(groups),
            "sampling_rounds": fill.rounds,
            "loss": world.total(stats.loss) / world.size,  # each rank's loss is its share times the ranks
            "exact_match_rate": sum(r == 1.0 for r in rewards) / len(rewards),
            "kl": stats.kl,
            "clip_fraction": stats.clip_fraction,
            "grad_norm": stats.grad_norm,
            "lr": scheduler.get_last_lr()[0],
            "completion_length": sum(lengths) / len(lengths),
            "rollout_tokens_per_s": sum(lengths) / max(rollout_seconds, 1e-9),
            "rollout_seconds": rollout_seconds,  # generation and rewards (all sampling rounds)
            "reward_seconds": reward_seconds,  # of which scoring completions
            "update_seconds": update_seconds,  # log-probs, backward and optimizer: the part packing speeds up
            "step_seconds": elapsed,
        }
        if not groups and world.is_main:
            log.warning("step %d: every sampled group had equal rewards; no update", step)
        publish(record, history, metrics, on_step)
        save_if_due(config.run, out, step, config.run.steps, state, stream)

    final = finish_run(config, out, state, metrics)
    return TrainResult(output_dir=out, steps=max(start, config.run.steps), final_model=final, history=history)
