"""The SFT baseline recipe on the step-wise data, read top to bottom (the paper's comparison point).

    swe-srl train sft --config sft-tiny-cpu data.path=runs/demo/stepwise/dataset

Per step: take ``global_batch_size`` units (examples, or whole runs in trajectory mode; see
swe_srl.train.sft_data) from a per-epoch shuffled stream, tokenise them with labels only on the
trained assistant turns, accumulate the token-mean negative log-likelihood over micro-batches of
``forward_batch_size``, clip, step AdamW and the warm-up + cosine schedule. Metrics go to
metrics.jsonl and TensorBoard; checkpoints (model or adapters, optimizer, scheduler, RNGs, stream
position) resume exactly, as in the GRPO recipe. With ``run.distributed=fsdp`` every rank walks the
same stream and tokenises its share of each batch; the token mean is over the whole batch, so a
float32 run takes the steps one process would (a bf16 model trains on float32 masters there, in
mixed precision, where one process trains it in bf16; swe_srl.train.distributed).
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F

from swe_srl.config import OptimConfig, SftConfig, TrainConfig
from swe_srl.errors import ConfigError
from swe_srl.train.checkpoint import TrainingState, resume_latest
from swe_srl.train.data import PromptStream, load_examples
from swe_srl.train.distributed import World, clip_gradients
from swe_srl.train.metrics import MetricsLog
from swe_srl.train.policy import load_policy
from swe_srl.train.run_setup import (TrainResult, begin_run, finish_run, make_optimizer, publish, save_if_due,
                                     seed_everything)
from swe_srl.train.sft_data import IGNORE, MODES, Encoded, SftItems, collate, encode_conversation

log = logging.getLogger(__name__)


def total_steps(units: int, sft: SftConfig) -> int:
    """Optimizer steps of the run: ``max_steps``, or enough batches for ``epochs`` passes."""
    if sft.global_batch_size < 1 or sft.forward_batch_size < 1:
        raise ConfigError("sft.global_batch_size and sft.forward_batch_size must be at least 1")
    if sft.max_steps > 0:
        return sft.max_steps
    if sft.epochs <= 0:
        raise ConfigError("sft.epochs must be above 0 when sft.max_steps is 0")
    return max(1, math.ceil(sft.epochs * units / sft.global_batch_size))


def warmup_steps(total: int, sft: SftConfig, optim: OptimConfig) -> int:
    """``sft.warmup_ratio`` of the steps; ``optim.warmup_steps`` when the ratio is 0."""
    return round(sft.warmup_ratio * total) if sft.warmup_ratio > 0 else optim.warmup_steps


def _accepts_logits_to_keep(model: Any) -> bool:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def masked_nll(model: Any, ids: torch.Tensor, attention: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Summed negative log-likelihood of the labelled tokens, and how many there are.

    Logits are computed only at positions that predict a labelled token (``logits_to_keep``): an
    action's few hundred tokens after a 16k-token prompt need a sliver of the [T, vocab] logits.
    """
    targets = labels[:, 1:]  # position t predicts token t+1
    keep = (targets != IGNORE).any(dim=0).nonzero().squeeze(1)
    count = int((targets != IGNORE).sum())
    if count == 0:
        return ids.new_zeros((), dtype=torch.float32), 0
    if _accepts_logits_to_keep(model):
        logits = model(input_ids=ids, attention_mask=attention, use_cache=False, logits_to_keep=keep).logits
    else:
        logits = model(input_ids=ids, attention_mask=attention, use_cache=False).logits[:, keep]
    wanted = targets[:, keep]
    nll = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), wanted.reshape(-1),
                          ignore_index=IGNORE, reduction="sum")
    return nll, count


@dataclass(frozen=True)
class SftBatch:
    """One optimizer step's sequences as this rank holds them."""

    sequences: tuple[Encoded, ...]  # this rank's share of the batch, tokenised, none over max_sequence_tokens
    trained: int  # labelled tokens of the whole batch (all ranks): the token mean's denominator


def next_batch(tokenizer: Any, items: SftItems, stream: PromptStream, sft: SftConfig,
               world: World) -> tuple[SftBatch, dict[str, int]]:
    """The next ``global_batch_size`` units, this rank's share tokenised (here, not up front, so memory stays
    flat on large corpora); and the whole batch's counts for the metrics record."""
    sequences: list[Encoded] = []
    skipped = 0
    for unit in world.share(stream.take(sft.global_batch_size)):
        encoded = encode_conversation(tokenizer, items.conversation(unit))
        if sft.max_sequence_tokens and len(encoded.input_ids) > sft.max_sequence_tokens:
            skipped += 1
            continue
        sequences.append(encoded)
    # Counts over the whole batch (all ranks' shares), in one exchange.
    skipped, trained, tokens, count = world.totals(
        skipped, sum(e.trained_tokens for e in sequences), sum(len(e.input_ids) for e in sequences), len(sequences))
    return SftBatch(tuple(sequences), trained), {"tokens": tokens, "sequences": count, "skipped_too_long": skipped}


def accumulate_gradients(model: Any, batch: SftBatch, forward_batch_size: int, pad_id: int, device: torch.device,
                         world: World = World()) -> float:
    """Add the gradient of the batch's token-mean NLL to ``.grad``, ``forward_batch_size`` sequences at a time.

    Each micro-batch's summed NLL is divided by the whole batch's trained-token count, so the
    gradients add up to exactly the one-big-batch gradient. Returns the summed NLL. Under FSDP
    ``batch`` is this rank's share: the count is the whole batch's over the ranks (whose gradients
    FSDP averages), and a rank with fewer micro-batches makes zero-weight passes to match the others.
    """
    denominator = batch.trained / world.size
    sequences = batch.sequences
    chunks: list[tuple[Encoded, ...] | None] = [sequences[i : i + forward_batch_size]
                                                 for i in range(0, len(sequences), forward_batch_size)]
    if world.sharded:
        chunks += [None] * (world.align(len(chunks)) - len(chunks))
    total = 0.0
    for chunk in chunks:
        if chunk is not None:
            ids, attention, labels = (t.to(device) for t in collate(chunk, pad_id))
            nll, count = masked_nll(model, ids, attention, labels)
            if count:
                (nll / denominator).backward()
                total += nll.item()
                continue
        if world.sharded:  # every rank makes as many passes: each gathers parameters collectively
            ids = torch.full((1, 2), pad_id, dtype=torch.long, device=device)
            (masked_nll(model, ids, torch.ones_like(ids), ids)[0] * 0.0).backward()
    return total


def optimizer_step(state: TrainingState, batch: SftBatch, config: TrainConfig, device: torch.device) -> tuple[float, float | None]:
    """One optimizer step over the whole batch, in micro-batches: the batch's summed NLL, and the gradient norm
    before clipping (None: no trained tokens, so no step; the schedule advances with updates only)."""
    state.optimizer.zero_grad(set_to_none=True)
    nll = state.world.total(accumulate_gradients(state.model, batch, config.sft.forward_batch_size,
                                                 state.tokenizer.pad_token_id, device, state.world))
    if not batch.trained:
        return nll, None
    grad_norm = clip_gradients([p for p in state.model.parameters() if p.requires_grad], config.optim.max_grad_norm)
    state.optimizer.step()
    state.scheduler.step()
    return nll, grad_norm


def run(config: TrainConfig, *, on_step: Callable[[dict[str, Any]], None] | None = None) -> TrainResult:
    """Fine-tune as ``config`` says (sections model, lora, data, optim, run, sft); returns where the outputs are."""
    s = config.sft
    if s.mode not in MODES:  # before minutes of model loading
        raise ConfigError(f"sft.mode '{s.mode}' is not one of {', '.join(MODES)}")
    world, device, out = begin_run(config)
    seed_everything(config.run.seed)

    # --- model, data, optimizer, schedule
    tokenizer, model = load_policy(config, device, world)
    items = SftItems(load_examples(config.data), config.data, s)
    total = total_steps(len(items), s)
    warmup = warmup_steps(total, s, config.optim)
    optimizer, scheduler = make_optimizer(config.optim, [p for p in model.parameters() if p.requires_grad], total,
                                          warmup)
    state = TrainingState(model, tokenizer, optimizer, scheduler, world)
    stream = PromptStream(len(items), seed=config.run.seed, shuffle=config.data.shuffle)
    log.info("sft (%s): %d units, %d steps of %d, %d warm-up", s.mode, len(items), total, s.global_batch_size, warmup)

    start = resume_latest(out, state, stream) if config.run.resume else 0
    metrics = MetricsLog(out, report_to=config.run.report_to, resume_step=start,
                         run_config=config.to_dict()) if world.is_main else None
    history: list[dict[str, Any]] = []
    model.train()
    for step in range(start + 1, total + 1):
        started = time.perf_counter()
        batch, counts = next_batch(tokenizer, items, stream, s, world)
        if counts["skipped_too_long"] and world.is_main:
            log.warning("step %d: skipped %d sequences over %d tokens", step, counts["skipped_too_long"],
                        s.max_sequence_tokens)
        lr = scheduler.get_last_lr()[0]  # the rate this step uses
        nll, grad_norm = optimizer_step(state, batch, config, device)
        if grad_norm is None and world.is_main:
            log.warning("step %d: no trained tokens in the batch; no update", step)
        elapsed = time.perf_counter() - started
        publish({
            "step": step,
            "total_steps": total,
            "epoch": (stream.epoch * len(items) + stream.position) / len(items),
            "loss": nll / batch.trained if batch.trained else None,
            "trained_tokens": batch.trained,
            **counts,
            "tokens_per_s": counts["tokens"] / max(elapsed, 1e-9),
            "grad_norm": grad_norm,
            "lr": lr,
            "step_seconds": elapsed,
        }, history, metrics, on_step)
        save_if_due(config.run, out, step, total, state, stream)

    final = finish_run(config, out, state, metrics)
    return TrainResult(output_dir=out, steps=max(start, total), final_model=final, history=history)
