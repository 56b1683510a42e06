"""The GRPO objective: a clipped policy-ratio loss averaged over tokens, with an optional KL term.

With per-token log-probabilities ``logp`` under the policy being trained, ``old_logp`` under the
policy that sampled the completions, and ``A`` the completion's group advantage::

    ratio  = exp(logp - old_logp)
    ppo    = -min(ratio * A, clip(ratio, 1 - clip_low, 1 + clip_high) * A)
    kl     = exp(ref - logp) - (ref - logp) - 1          (the k3 estimator, always >= 0)
    loss   = sum over tokens (ppo + beta * kl) / number of tokens

Averaging over all tokens of the batch (not per sequence first) is DAPO's token-level averaging:
long completions are not down-weighted per token.

The clip *binds* on a token where min() takes the clipped term and it differs from the unclipped
one (ratio above 1 + clip_high with A > 0, or below 1 - clip_low with A < 0): there the policy
term has no gradient. ``clip_fraction`` counts those tokens; out of range the other way the
unclipped term is the smaller and the token still learns.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LossParts:
    """Detached diagnostics of one loss evaluation (token means)."""

    policy: float
    kl: float
    clip_fraction: float
    tokens: int


def token_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log p(label) for each position: logits [B, T, V] already aligned with labels [B, T]."""
    logits = logits.float()
    return torch.gather(logits.log_softmax(-1), -1, labels.unsqueeze(-1)).squeeze(-1)


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(policy || reference) from samples of the policy."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1.0


def policy_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_low: float = 0.2,
    clip_high: float = 0.2,
    ref_logp: torch.Tensor | None = None,
    beta: float = 0.0,
    num_tokens: int | None = None,
) -> tuple[torch.Tensor, LossParts]:
    """The loss above for token tensors [B, T] and advantages [B]; ``mask`` marks completion tokens.

    ``num_tokens`` is the denominator: pass the token count of the whole optimizer step when a
    step is split into micro-batches, so that the summed gradients equal one big batch's.
    """
    mask = mask.to(logp.dtype)
    denominator = float(num_tokens if num_tokens is not None else mask.sum().item())
    denominator = max(denominator, 1.0)
    adv = advantages.to(logp.dtype).unsqueeze(-1)
    ratio = torch.exp(logp - old_logp)
    clipped = torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high)
    per_token = -torch.minimum(ratio * adv, clipped * adv)
    kl = torch.zeros_like(logp)
    if ref_logp is not None:
        kl = k3_kl(logp, ref_logp)
        if beta != 0.0:
            per_token = per_token + beta * kl
    loss = (per_token * mask).sum() / denominator
    with torch.no_grad():
        n = max(mask.sum().item(), 1.0)
        clip_hit = (clipped * adv < ratio * adv).to(logp.dtype)  # min() took the clipped term
        parts = LossParts(
            policy=float(((-torch.minimum(ratio * adv, clipped * adv)) * mask).sum() / n),
            kl=float((kl * mask).sum() / n) if ref_logp is not None else 0.0,
            clip_fraction=float((clip_hit * mask).sum() / n),
            tokens=int(mask.sum().item()),
        )
    return loss, parts
