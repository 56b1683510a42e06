"""The GRPO objective, from a group's rewards to the loss a micro-batch backpropagates.

A group is one prompt's G completions with rewards r_1..r_G. Each completion's advantage is its
reward standardised within the group (population std, as GRPO and the paper's filter use)::

    A_i    = (r_i - mean(r)) / (std(r) + eps)

With per-token log-probabilities ``logp`` under the policy being trained, ``old_logp`` under the
policy that sampled the completions, and ``ref`` under the reference::

    ratio  = exp(logp - old_logp)
    ppo    = -min(ratio * A, clip(ratio, 1 - clip_low, 1 + clip_high) * A)
    kl     = exp(ref - logp) - (ref - logp) - 1          (the k3 estimator, always >= 0)
    loss   = sum over tokens (ppo + beta * kl) / number of tokens

Averaging over all tokens of the batch (not per sequence first) is DAPO's token-level averaging:
long completions are not down-weighted per token. When an optimizer step is split into
micro-batches, each divides by the whole step's token count, so their gradients add up to the
step's.

The clip *binds* on a token where min() takes the clipped term and it differs from the unclipped
one (ratio above 1 + clip_high with A > 0, or below 1 - clip_low with A < 0): there the policy
term has no gradient. ``clip_fraction`` counts those tokens; out of range the other way the
unclipped term is the smaller and the token still learns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from swe_srl.config import GrpoConfig
from swe_srl.train.groups import population_std
from swe_srl.train.packing import Pair


def group_advantages(rewards: Sequence[float], eps: float = 1e-6) -> list[float]:
    """(r - group mean) / (group population std + eps) for each reward of one group."""
    mean = sum(rewards) / len(rewards)
    std = population_std(rewards)
    return [(r - mean) / (std + eps) for r in rewards]


@dataclass(frozen=True)
class MicroBatch:
    """One forward and backward pass: R (prompt, completion) rows and what their live log-probs are
    compared with. T is the longest completion's token count."""

    pairs: tuple[Pair, ...]  # R rows of (prompt token ids, completion token ids)
    advantages: torch.Tensor  # [R] float, each row's group advantage
    old_logp: torch.Tensor | None  # [R, T] under the sampling policy; None: the live ones detached (ratio 1)
    ref_logp: torch.Tensor | None  # [R, T] under the reference; None: no KL term, none logged
    num_tokens: float  # the token mean's denominator: the whole optimizer step's tokens (per rank under FSDP)
    weight: float = 1.0  # 0 for a padding pass that only keeps FSDP's collectives in step


@dataclass(frozen=True)
class LossParts:
    """Detached diagnostics of one loss evaluation (means over this micro-batch's tokens)."""

    kl: float | None  # None without reference log-probs
    clip_fraction: float  # share of tokens where the clip binds
    tokens: int  # completion tokens in the micro-batch


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(policy || reference) from samples of the policy."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1.0


def policy_loss(logp: torch.Tensor, mask: torch.Tensor, micro: MicroBatch,
                grpo: GrpoConfig) -> tuple[torch.Tensor, LossParts]:
    """The loss above for live log-probs ``logp`` [R, T] of ``micro``'s rows; ``mask`` [R, T] marks
    completion tokens. Coefficients: ``grpo.clip_low``, ``grpo.clip_high`` and ``grpo.kl_beta``."""
    old_logp = logp.detach() if micro.old_logp is None else micro.old_logp
    mask = mask.to(logp.dtype)
    adv = micro.advantages.to(logp.dtype).unsqueeze(-1)  # [R, 1]
    ratio = torch.exp(logp - old_logp)
    clipped = torch.clamp(ratio, 1.0 - grpo.clip_low, 1.0 + grpo.clip_high)
    per_token = -torch.minimum(ratio * adv, clipped * adv)
    kl = None
    if micro.ref_logp is not None:
        kl = k3_kl(logp, micro.ref_logp)
        if grpo.kl_beta != 0.0:
            per_token = per_token + grpo.kl_beta * kl
    loss = (per_token * mask).sum() / max(float(micro.num_tokens), 1.0)
    with torch.no_grad():
        n = max(mask.sum().item(), 1.0)
        binds = (clipped * adv < ratio * adv).to(logp.dtype)  # min() took the clipped term
        parts = LossParts(
            kl=float((kl * mask).sum() / n) if kl is not None else None,
            clip_fraction=float((binds * mask).sum() / n),
            tokens=int(mask.sum().item()),
        )
    return loss, parts
