"""A batch's update: the GRPO optimizer steps on (prompt, completion) rows, and the layout they run in.

SRL and RLVR both end a step here: SRL with one row per sampled completion, RLVR with one row per
turn of each episode (the prompt exactly as the policy read it, the completion exactly as it
sampled it), every row carrying its group advantage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from swe_srl.config import GrpoConfig
from swe_srl.train.batch import Learner, micro_batches
from swe_srl.train.distributed import clip_gradients
from swe_srl.train.logprobs import shared_prefix_support
from swe_srl.train.objective import policy_loss
from swe_srl.train.packing import Pair

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateStats:
    """What one batch's optimizer steps did."""

    loss: float  # mean over the optimizer steps (a step's loss: its micro-batches' shares of the token mean, summed)
    kl: float | None  # mean over micro-batches; None when no reference log-probs were computed
    clip_fraction: float  # mean over micro-batches of the share of tokens where the clip binds
    grad_norm: float  # before clipping, at the last optimizer step
    updates: int  # optimizer steps taken


def train_on_batch(learner: Learner, pairs: Sequence[Pair], advantages: torch.Tensor, grpo: GrpoConfig,
                   max_grad_norm: float) -> UpdateStats:
    """GRPO on one batch of (prompt, completion) rows with their advantages [R]: the sampling policy's and
    the reference's log-probs first, then ``grpo.updates_per_step`` optimizer steps on the clipped objective."""
    steps = micro_batches(learner, pairs, advantages, grpo)
    losses, kls, clips, grad_norm = [], [], [], 0.0  # losses: one per optimizer step
    for step in steps:
        learner.optimizer.zero_grad(set_to_none=True)
        losses.append(0.0)
        for micro in step:
            logp, mask = learner.logprobs(learner.model, micro.pairs)  # forward: [R, T] each
            loss, parts = policy_loss(logp, mask, micro, grpo)  # this micro-batch's share of the step's token mean
            (micro.weight * loss).backward()  # gradients accumulate; weight 0 on FSDP's padding passes
            if micro.weight:
                losses[-1] += loss.item()
                kls += [parts.kl] if parts.kl is not None else []
                clips.append(parts.clip_fraction)
        # Listed after backward, when FSDP has put the sharded parameters back (a no-grad forward
        # leaves the root module's unsharded).
        grad_norm = clip_gradients([p for p in learner.model.parameters() if p.requires_grad], max_grad_norm)
        learner.optimizer.step()
        learner.scheduler.step()
    return UpdateStats(loss=sum(losses) / len(losses) if losses else 0.0, kl=sum(kls) / len(kls) if kls else None,
                       clip_fraction=sum(clips) / len(clips) if clips else 0.0, grad_norm=grad_norm,
                       updates=len(steps))



def use_shared_prefix(model: Any, grpo: GrpoConfig) -> bool:
    """Whether to pack each group's prompt once: asked for, and checked on the model itself (a model whose
    attention cannot take the block mask trains on the plain path, with the same results, only slower)."""
    if not grpo.shared_prefix:
        return False
    shared, why = shared_prefix_support(model)
    log.log(logging.INFO if shared else logging.WARNING, "shared-prefix packing %s: %s",
            "on" if shared else "off (plain path)", why)
    return shared
