"""One GRPO batch laid out for its update: optimizer steps of micro-batches, each ready for the objective.

The batch is a list of (prompt, completion) rows with one advantage each. Rows are cut into
``updates_per_step`` parts (one optimizer step each) and each part into micro-batches whose
gradients accumulate: padded rows on the plain path, packed rows of at most ``pack_tokens``
tokens on the shared-prefix path (swe_srl.train.packing). Both give the same loss and gradients.
Before any update, each micro-batch gets the sampling policy's log-probs and, when the KL is used
or logged, the reference's (swe_srl.train.objective.MicroBatch).

Under FSDP each rank holds its share of the batch's groups; ``align_ranks`` is all the
bookkeeping that needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Sequence

import torch

from swe_srl.config import GrpoConfig
from swe_srl.train.distributed import World
from swe_srl.train.logprobs import CompletionLogprobs
from swe_srl.train.objective import MicroBatch
from swe_srl.train.packing import Pair, plan_packs

Plan = list[list[list[int] | None]]  # per optimizer step, per micro-batch: row indices (None: a padding pass)


@dataclass(frozen=True)
class Learner:
    """The policy being trained, its frozen reference, its optimizer, and how their log-probs are computed."""

    model: Any  # the policy, trained in place (sharded under FSDP)
    reference: Callable[[], ContextManager[Any]]  # yields the reference model, or None when none is kept
    optimizer: torch.optim.Optimizer
    scheduler: Any  # the learning-rate schedule, one step per optimizer step
    logprobs: CompletionLogprobs  # plain or shared-prefix forward on this rank's device
    world: World = World()  # this rank among the training processes


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


def align_ranks(plan: list[list[list[int]]], pairs: Sequence[Pair], updates: int, world: World) -> tuple[Plan, list[float]]:
    """FSDP's bookkeeping, in one place: ``plan`` as every rank must walk it, and each step's token-mean denominator.

    Every forward and backward pass gathers parameters collectively, so each rank makes as many
    optimizer steps, and micro-batches in each, as the busiest rank: the others add padding passes
    (None). A step no rank has rows for is left out everywhere, as one process with the whole batch
    would. The denominator is the step's tokens on all ranks, per rank, since FSDP averages the
    ranks' gradients. In one process: ``plan`` itself and each step's own token count.
    """
    if not world.align(len(pairs)):  # no rank has rows: no passes at all
        return [], []
    aligned: Plan = list(plan)
    if world.sharded:
        aligned = aligned + [[] for _ in range(updates - len(plan))]
        widths = [max(column) for column in zip(*world.gather([len(step) for step in aligned]))]
        aligned = [step + [None] * (width - len(step)) for step, width in zip(aligned, widths) if width]
    tokens = [world.total(sum(len(pairs[i][1]) for rows in step if rows for i in rows)) / world.size
              for step in aligned]
    return aligned, tokens


def micro_batches(learner: Learner, pairs: Sequence[Pair], advantages: torch.Tensor,
                  grpo: GrpoConfig) -> list[list[MicroBatch]]:
    """``pairs`` with their ``advantages`` [R] as optimizer steps of micro-batches, with the sampling policy's
    and the reference's log-probs computed now, before any update."""
    plan = plan_micro_batches(pairs, updates=grpo.updates_per_step, micro_batch_size=grpo.micro_batch_size,
                              pack_tokens=grpo.pack_tokens, shared=learner.logprobs.shared)
    plan, tokens = align_ranks(plan, pairs, grpo.updates_per_step, learner.world)
    pad, device = learner.logprobs.pad_id, learner.logprobs.device
    # With one optimizer step per batch the sampling policy IS the policy being differentiated, so
    # its log-probs are the live ones detached (ratio exactly 1), not a second forward pass.
    reuse_live = len(plan) == 1
    want_ref = grpo.kl_beta != 0.0 or grpo.log_kl
    learner.model.train()
    steps = []
    with torch.no_grad():
        for step, step_tokens in zip(plan, tokens):
            micro = []
            for rows in step:
                if rows is None:  # a padding pass: one pad token after a one-token prompt, weight 0
                    chosen, adv, weight = (((pad, pad), (pad,)),), advantages.new_zeros(1), 0.0
                else:
                    chosen, adv, weight = tuple(pairs[i] for i in rows), advantages[rows], 1.0
                old = None if reuse_live else learner.logprobs(learner.model, chosen)[0]
                ref = reference_logprobs(learner, chosen) if want_ref else None
                micro.append(MicroBatch(chosen, adv.to(device), old, ref, step_tokens, weight))
            steps.append(micro)
    return steps


def reference_logprobs(learner: Learner, pairs: Sequence[Pair]) -> torch.Tensor | None:
    """Log-probs [R, T] of ``pairs`` under the reference; None when the run keeps no reference."""
    with learner.reference() as reference:
        return None if reference is None else learner.logprobs(reference, pairs)[0]
