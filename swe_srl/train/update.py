"""One batch's GRPO optimizer steps: old and reference log-probs, then the clipped objective.

The batch is a list of (prompt, completion) rows with one advantage each. Rows are cut into
``updates_per_step`` parts (one optimizer step each) and each part into micro-batches whose
gradients accumulate: padded rows on the plain path, packed rows of at most ``pack_tokens``
tokens on the shared-prefix path (swe_srl.train.packing). Both give the same loss and gradients.

Under FSDP each rank holds its share of the batch's groups. The token mean's denominator is the
whole batch's token count (divided by the ranks, whose gradients FSDP averages), and every rank
makes as many forward and backward passes as the busiest one: the others add passes over a
one-token dummy row with zero weight, since each pass gathers parameters collectively.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Sequence

import torch

from swe_srl.config import GrpoConfig
from swe_srl.train.distributed import World, clip_gradients
from swe_srl.train.logprobs import completion_logprobs
from swe_srl.train.loss import policy_loss
from swe_srl.train.packing import Pair, plan_packs


@dataclass(frozen=True)
class UpdateStats:
    """What one batch's optimizer steps did (means over micro-batches)."""

    loss: float  # mean over the optimizer steps (a step's loss: its micro-batches' shares of the token mean, summed)
    kl: float | None  # None when no reference log-probs were computed
    clip_fraction: float
    grad_norm: float
    updates: int  # optimizer steps taken


def plan_micro_batches(pairs: Sequence[Pair], *, updates: int, micro_batch_size: int, pack_tokens: int,
                       shared: bool) -> list[list[list[int]]]:
    """Row indices of each micro-batch, for each of ``updates`` optimizer steps.

    The batch is cut into ``updates`` equal runs of rows; each run into micro-batches of
    ``micro_batch_size`` rows (plain path) or into packed rows of at most ``pack_tokens`` tokens,
    where a group's prompt is stored once (shared-prefix path).
    """
    per_update = math.ceil(len(pairs) / max(1, updates)) if pairs else 0
    plan = []
    for start in range(0, len(pairs), max(1, per_update)):
        part = list(range(start, min(len(pairs), start + per_update)))
        if shared:
            chunks = plan_packs([pairs[i] for i in part], pack_tokens)
            plan.append([[part[i] for i in chunk] for chunk in chunks])
        else:
            plan.append([part[i : i + micro_batch_size] for i in range(0, len(part), micro_batch_size)])
    return plan


def align_plan(plan: list[list[list[int]]], updates: int, world: World) -> list[list[list[int] | None]]:
    """``plan`` with as many optimizer steps, and micro-batches in each, as on any rank (None: a dummy pass).

    A step no rank has rows for is left out everywhere, as one process with the whole batch would.
    """
    plan = plan + [[] for _ in range(updates - len(plan))]
    widths = [max(column) for column in zip(*world.gather([len(part) for part in plan]))]
    return [part + [None] * (width - len(part)) for part, width in zip(plan, widths) if width]


def train_on_batch(model: Any, reference: Callable[[], ContextManager[Any]], optimizer: torch.optim.Optimizer,
                   scheduler: Any, pairs: Sequence[Pair], advantages: torch.Tensor, *, grpo: GrpoConfig,
                   max_grad_norm: float, device: torch.device, pad_id: int, shared: bool,
                   world: World = World()) -> UpdateStats:
    """GRPO on one batch of (prompt, completion) rows with their advantages: old and reference
    log-probs first, then ``grpo.updates_per_step`` clipped-objective optimizer steps."""
    plan: list[list[list[int] | None]] = plan_micro_batches(
        pairs, updates=grpo.updates_per_step, micro_batch_size=grpo.micro_batch_size, pack_tokens=grpo.pack_tokens,
        shared=shared)
    if world.sharded:
        plan = align_plan(plan, grpo.updates_per_step, world) if world.align(len(pairs)) else []
    dummy = len(pairs)  # the row index of the zero-weight pass
    rows_of = lambda rows: [dummy] if rows is None else rows  # noqa: E731
    batch = list(pairs) + [((pad_id, pad_id), (pad_id,))]
    advantages = torch.cat([advantages, advantages.new_zeros(1)])
    logprobs = lambda m, rows: completion_logprobs(m, [batch[i] for i in rows_of(rows)], device, pad_id, shared=shared)  # noqa: E731
    want_ref = grpo.kl_beta != 0.0 or grpo.log_kl
    # With one optimizer step per batch the sampling policy IS the policy being differentiated, so
    # its log-probs are the live ones detached (ratio exactly 1), not a second forward pass.
    reuse_live = len(plan) == 1

    # --- log-probs of the sampling policy (and the reference) before any update
    model.train()
    old: dict[tuple[int, int], torch.Tensor] = {}
    ref: dict[tuple[int, int], torch.Tensor] = {}
    with torch.no_grad():
        for u, micro in enumerate(plan):
            for m, rows in enumerate(micro):
                if not reuse_live:
                    old[u, m] = logprobs(model, rows)[0]
                if want_ref:
                    with reference() as ref_model:
                        if ref_model is not None:
                            ref[u, m] = logprobs(ref_model, rows)[0]

    # --- policy updates: each part of the batch is one optimizer step, its micro-batches accumulated
    losses, kls, clips, grad_norm = [], [], [], 0.0  # losses: one sum per optimizer step
    for u, micro in enumerate(plan):
        # The token mean's denominator: this step's tokens on all ranks, per rank (FSDP averages gradients).
        tokens = world.total(sum(len(pairs[i][1]) for rows in micro if rows for i in rows)) / world.size
        optimizer.zero_grad(set_to_none=True)
        losses.append(0.0)
        for m, rows in enumerate(micro):
            logp, mask = logprobs(model, rows)
            loss, parts = policy_loss(logp, logp.detach() if reuse_live else old[u, m],
                                      advantages[rows_of(rows)].to(device), mask, clip_low=grpo.clip_low,
                                      clip_high=grpo.clip_high, ref_logp=ref.get((u, m)), beta=grpo.kl_beta,
                                      num_tokens=tokens)
            if rows is None:
                (loss * 0.0).backward()
                continue
            loss.backward()
            losses[-1] += loss.item()
            kls.append(parts.kl)
            clips.append(parts.clip_fraction)
        grad_norm = clip_gradients([p for p in model.parameters() if p.requires_grad], max_grad_norm)
        optimizer.step()
        scheduler.step()
    return UpdateStats(loss=sum(losses) / len(losses) if losses else 0.0, kl=sum(kls) / len(kls) if kls and ref else None,
                       clip_fraction=sum(clips) / len(clips) if clips else 0.0, grad_norm=grad_norm,
                       updates=len(plan))
