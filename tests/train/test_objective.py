"""The clipped, token-averaged GRPO loss against a hand computation."""

from __future__ import annotations

import math

import pytest
import torch

from swe_srl.config import GrpoConfig
from swe_srl.train.logprobs import token_logprobs
from swe_srl.train.objective import MicroBatch, k3_kl, policy_loss


def rows(advantages, old, ref=None, num_tokens=None, mask=None):
    """A micro-batch of the objective's inputs (no token ids: these tests give the log-probs directly)."""
    return MicroBatch((), advantages, old, ref, float(num_tokens if num_tokens is not None else mask.sum()))


def test_loss_matches_hand_computation():
    # Two completions: lengths 2 and 3 (mask), advantages +1 and -0.5.
    logp = torch.tensor([[-1.0, -0.5, 0.0], [-2.0, -1.0, -0.1]], requires_grad=True)
    old = torch.tensor([[-1.5, -0.5, 0.0], [-1.0, -1.1, -0.1]])
    ref = torch.tensor([[-1.2, -0.4, 0.0], [-2.0, -1.5, -0.3]])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    adv = torch.tensor([1.0, -0.5])
    loss, parts = policy_loss(logp, mask, rows(adv, old, ref, num_tokens=5),
                              GrpoConfig(clip_low=0.2, clip_high=0.3, kl_beta=0.1))

    expected = 0.0
    for b, a in enumerate([1.0, -0.5]):
        for t in range(3):
            if not mask[b, t]:
                continue
            lp, olp, rlp = logp[b, t].item(), old[b, t].item(), ref[b, t].item()
            r = math.exp(lp - olp)
            surrogate = min(r * a, min(max(r, 0.8), 1.3) * a)
            kl = math.exp(rlp - lp) - (rlp - lp) - 1
            expected += -surrogate + 0.1 * kl
    expected /= 5  # token-level: all five completion tokens count equally
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert parts.tokens == 5
    # First token of sequence 0: ratio e^0.5 = 1.65 > 1.3 with A > 0, so it is clipped (no gradient
    # from the policy term; only the KL term remains).
    loss.backward()
    kl_grad = 0.1 * (1 - math.exp(ref[0, 0].item() - logp[0, 0].item())) / 5
    assert logp.grad[0, 0].item() == pytest.approx(kl_grad, rel=1e-5)
    assert logp.grad[0, 2].item() == 0.0  # masked padding gets no gradient
    assert parts.clip_fraction == pytest.approx(2 / 5)  # (0,0) above 1.3; (1,0) ratio e^-1 < 0.8 with A < 0


def test_num_tokens_makes_micro_batches_sum_to_the_full_batch():
    torch.manual_seed(0)
    logp = torch.randn(4, 6)
    old = logp + 0.05 * torch.randn(4, 6)
    mask = (torch.rand(4, 6) > 0.3).int()
    adv = torch.randn(4)
    full, _ = policy_loss(logp, mask, rows(adv, old, mask=mask), GrpoConfig())
    total = int(mask.sum())
    halves = sum(policy_loss(logp[s], mask[s], rows(adv[s], old[s], num_tokens=total), GrpoConfig())[0]
                 for s in (slice(0, 2), slice(2, 4)))
    assert halves.item() == pytest.approx(full.item(), rel=1e-6)


def test_k3_is_zero_at_equality_and_positive_elsewhere():
    x = torch.tensor([-1.0, -2.0])
    assert torch.all(k3_kl(x, x) == 0)
    assert torch.all(k3_kl(x, x + torch.tensor([0.3, -0.3])) > 0)


def test_token_logprobs_gathers_log_softmax():
    logits = torch.tensor([[[0.0, math.log(3.0)]]])
    assert token_logprobs(logits, torch.tensor([[1]])).item() == pytest.approx(math.log(0.75))


def test_clip_fraction_counts_only_tokens_where_the_clip_binds():
    # One token per case, clip range [0.8, 1.2]. The clip binds where min() takes the clipped term and
    # it differs: ratio above 1.2 with A > 0, or below 0.8 with A < 0. Out of range the other way, the
    # unclipped term is the smaller one and keeps its gradient; with A = 0 both terms are 0.
    ratios = torch.tensor([1.5, 0.5, 1.5, 0.5, 1.0, 2.0])
    advantages = torch.tensor([1.0, 1.0, -1.0, -1.0, 1.0, 0.0])
    binds = [True, False, False, True, False, False]
    logp = torch.zeros(6, 1, requires_grad=True)
    old = -ratios.log().unsqueeze(1)  # ratio = exp(logp - old)
    mask = torch.ones(6, 1)
    loss, parts = policy_loss(logp, mask, rows(advantages, old, mask=mask), GrpoConfig(clip_low=0.2, clip_high=0.2))
    assert parts.clip_fraction == pytest.approx(2 / 6)
    loss.backward()
    # The same tokens, seen through the gradient: a binding clip leaves the token without one.
    assert [g == 0.0 for g in logp.grad[:, 0].tolist()] == [b or a == 0 for b, a in zip(binds, advantages.tolist())]
