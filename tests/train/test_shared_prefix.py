"""Shared-prefix packing is the plain computation, only cheaper: same log-probs, loss and gradients.

Every comparison runs the tiny Qwen2 model in float32 on CPU through both paths on the same rows
(two prompts of different lengths, completions of different lengths including a single token).
"""

from __future__ import annotations

import copy

import pytest
import torch

from swe_srl.config import GrpoConfig
from swe_srl.train.update import train_on_batch
from swe_srl.train.batch import Learner, plan_micro_batches
from swe_srl.train.logprobs import CompletionLogprobs, packed_logprobs, plain_logprobs, shared_prefix_support
from swe_srl.train.objective import MicroBatch, policy_loss
from swe_srl.train.packing import block_mask, pack_row, packed_length, plan_packs
from swe_srl.train.tiny import tiny_model, tiny_tokenizer

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


def make_model(tokenizer, attention: str = "sdpa"):
    model = tiny_model(tokenizer, seed=3)
    model.config._attn_implementation = attention
    return model


def rows(vocab: int, seed: int = 1) -> list[tuple[list[int], list[int]]]:
    """Two groups: a 23-token prompt with 4 completions, a 9-token prompt with 3."""
    generator = torch.Generator().manual_seed(seed)

    def draw(n: int) -> list[int]:
        return torch.randint(0, vocab, (n,), generator=generator).tolist()

    first, second = draw(23), draw(9)
    return [(first, draw(n)) for n in (6, 11, 1, 4)] + [(second, draw(n)) for n in (8, 3, 5)]


# --- layout (pure) -------------------------------------------------------------------------------

def test_pack_row_positions_labels_and_mask():
    row = pack_row([([1, 2, 3], [4, 5]), ([1, 2, 3], [6])])
    assert row.input_ids.tolist() == [[1, 2, 3, 4, 5, 6]]
    assert row.position_ids.tolist() == [[0, 1, 2, 3, 4, 3]]  # the second completion restarts after the prompt
    assert row.labels.tolist() == [4, 5, 6]
    assert row.logit_positions.tolist() == [2, 3, 2]  # the prompt's last token predicts both first tokens
    assert row.gather.tolist() == [[0, 1], [2, 0]] and row.valid.tolist() == [[1, 1], [1, 0]]
    allowed = block_mask(row)[0, 0]
    assert allowed[5].tolist() == [True, True, True, False, False, True]  # sees its prompt, not completion 1
    assert allowed[4].tolist() == [True, True, True, True, True, False]
    assert allowed[1].tolist() == [True, True, False, False, False, False]
    additive = block_mask(row, dtype=torch.float32)[0, 0]
    assert additive[5, 3] == torch.finfo(torch.float32).min and additive[5, 5] == 0


def test_plan_packs_stores_each_prompt_once_and_keeps_the_budget():
    a, b = [0] * 10, [1] * 4
    pairs = [(a, [2] * 3), (a, [2] * 5), (a, [2] * 2), (b, [3] * 6), (b, [3] * 1)]
    assert packed_length(pairs) == 10 + 10 + 4 + 7
    assert plan_packs(pairs, budget=1000) == [[0, 1, 2, 3, 4]]
    assert plan_packs(pairs, budget=20) == [[0, 1, 2], [3, 4]]  # 10 + 3 + 5 + 2 fills the first row exactly
    assert plan_packs(pairs, budget=18) == [[0, 1], [2], [3, 4]]  # group a split: its prompt repeats
    assert all(packed_length([pairs[i] for i in chunk]) <= 18 for chunk in plan_packs(pairs, budget=18))
    assert plan_packs(pairs, budget=5) == [[0], [1], [2], [3], [4]]  # over-long rows still go, one each
    with pytest.raises(ValueError):
        plan_packs(pairs, budget=0)


def test_micro_batch_plan_covers_every_row_once_per_update():
    pairs = [([0] * 10, [1] * 4)] * 4 + [([2] * 30, [1] * 4)] * 4
    for shared in (True, False):
        plan = plan_micro_batches(pairs, updates=2, micro_batch_size=3, pack_tokens=40, shared=shared)
        assert len(plan) == 2
        assert sorted(i for part in plan for chunk in part for i in chunk) == list(range(8))
    assert plan_micro_batches(pairs, updates=2, micro_batch_size=3, pack_tokens=40, shared=True) == [
        [[0, 1, 2, 3]], [[4, 5], [6, 7]]]


# --- numerics against the plain path --------------------------------------------------------------

@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_packed_logprobs_equal_plain(tokenizer, attention):
    model = make_model(tokenizer, attention).eval()
    pairs = rows(model.config.vocab_size)
    with torch.no_grad():
        plain, plain_mask = plain_logprobs(model, pairs, CPU, pad_id=tokenizer.pad_token_id)
        packed, packed_mask = packed_logprobs(model, pairs, CPU)
    assert torch.equal(plain_mask, packed_mask)
    assert plain_mask.sum() == sum(len(c) for _, c in pairs)
    torch.testing.assert_close(packed, plain, rtol=0, atol=1e-5)


def loss_and_grads(model, pairs, pad_id, *, shared: bool, ref_model=None):
    """The GRPO loss (clipping active, KL on) on ``pairs`` and every trainable parameter's gradient."""
    model.zero_grad(set_to_none=True)
    compute = (lambda m: packed_logprobs(m, pairs, CPU)) if shared else (lambda m: plain_logprobs(m, pairs, CPU, pad_id))
    logp, mask = compute(model)
    generator = torch.Generator().manual_seed(7)
    # Fixed perturbations of the detached log-probs give ratios away from 1 (so some are clipped)
    # and a reference that differs from the policy (so the KL term has a gradient).
    noise = 0.3 * torch.randn(logp.shape, generator=generator)
    old = (logp.detach() + noise) * mask
    with torch.no_grad():
        ref = compute(ref_model)[0] if ref_model is not None else (logp.detach() - noise.flip(0)) * mask
    advantages = torch.randn(len(pairs), generator=generator)
    loss, parts = policy_loss(logp, mask, MicroBatch(tuple(pairs), advantages, old, ref, float(mask.sum())),
                              GrpoConfig(clip_low=0.2, clip_high=0.28, kl_beta=0.1))
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.requires_grad}
    return loss.detach(), parts, grads


def assert_same_loss_and_grads(plain, packed):
    (loss_a, parts_a, grads_a), (loss_b, parts_b, grads_b) = plain, packed
    torch.testing.assert_close(loss_b, loss_a, rtol=1e-5, atol=1e-7)
    assert parts_a.clip_fraction == parts_b.clip_fraction and parts_a.clip_fraction > 0
    assert grads_a.keys() == grads_b.keys() and grads_a
    for name in grads_a:
        assert grads_a[name].abs().max() > 0, f"{name} got no gradient: the comparison would be vacuous"
        torch.testing.assert_close(grads_b[name], grads_a[name], rtol=1e-4, atol=1e-6, msg=lambda m: f"{name}: {m}")


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_loss_and_every_parameter_gradient_equal_plain(tokenizer, attention):
    model = make_model(tokenizer, attention)
    pairs = rows(model.config.vocab_size)
    plain = loss_and_grads(model, pairs, tokenizer.pad_token_id, shared=False)
    packed = loss_and_grads(model, pairs, tokenizer.pad_token_id, shared=True)
    assert len(plain[2]) == len(list(model.parameters()))
    assert_same_loss_and_grads(plain, packed)


def test_lora_loss_and_adapter_gradients_equal_plain(tokenizer):
    from peft import LoraConfig, get_peft_model

    base = make_model(tokenizer)
    # Random B (not peft's zero init) so that both adapter matrices get a non-zero gradient.
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"],
                                            init_lora_weights=False))
    assert shared_prefix_support(model)[0]
    pairs = rows(base.config.vocab_size, seed=2)
    pad = tokenizer.pad_token_id

    def with_reference(shared: bool):
        # The reference is the same module with its adapters off, as in the recipe.
        model.zero_grad(set_to_none=True)
        with torch.no_grad(), model.disable_adapter():
            ref = (packed_logprobs(model, pairs, CPU) if shared else plain_logprobs(model, pairs, CPU, pad))[0]
        logp, mask = packed_logprobs(model, pairs, CPU) if shared else plain_logprobs(model, pairs, CPU, pad)
        assert (ref - logp).abs().max() > 1e-3  # the adapters really change the policy
        micro = MicroBatch(tuple(pairs), torch.linspace(-1, 1, len(pairs)), logp.detach(), ref, float(mask.sum()))
        loss, _ = policy_loss(logp, mask, micro, GrpoConfig(kl_beta=0.5))
        loss.backward()
        return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}

    (loss_a, grads_a), (loss_b, grads_b) = with_reference(False), with_reference(True)
    torch.testing.assert_close(loss_b, loss_a, rtol=1e-5, atol=1e-7)
    assert grads_a and all("lora_" in name for name in grads_a)
    for name in grads_a:
        assert grads_a[name].abs().max() > 0, name
        torch.testing.assert_close(grads_b[name], grads_a[name], rtol=1e-4, atol=1e-6, msg=lambda m: f"{name}: {m}")
    # Clipping-path losses as well, through the shared helper
    assert_same_loss_and_grads(loss_and_grads(model, pairs, pad, shared=False),
                               loss_and_grads(model, pairs, pad, shared=True))


def test_train_on_batch_takes_the_same_steps_on_both_paths(tokenizer):
    """Two optimizer steps (updates_per_step=2) with micro-batches/packs: the same parameters after."""
    import contextlib

    start = make_model(tokenizer)
    pairs = rows(start.config.vocab_size, seed=4)
    advantages = torch.linspace(-1.5, 1.5, len(pairs))
    grpo = GrpoConfig(updates_per_step=2, micro_batch_size=2, pack_tokens=40, kl_beta=0.0, log_kl=False)
    results = {}
    for shared in (False, True):
        model = copy.deepcopy(start)
        # SGD, not Adam: Adam's first step is lr * sign(grad), which turns rounding-level differences
        # of near-zero gradients into whole-step differences and would test Adam, not the packing.
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
        learner = Learner(model, lambda: contextlib.nullcontext(None), optimizer, scheduler,
                          CompletionLogprobs(CPU, tokenizer.pad_token_id, shared))
        stats = train_on_batch(learner, pairs, advantages, grpo, max_grad_norm=1.0)
        assert stats.updates == 2 and stats.kl is None
        results[shared] = (stats, dict(model.named_parameters()))
    (plain, plain_params), (packed, packed_params) = results[False], results[True]
    assert packed.loss == pytest.approx(plain.loss, rel=1e-5, abs=1e-7)
    assert packed.grad_norm == pytest.approx(plain.grad_norm, rel=1e-4)
    moved = 0
    for name, param in plain_params.items():
        torch.testing.assert_close(packed_params[name], param, rtol=1e-4, atol=1e-6, msg=lambda m: f"{name}: {m}")
        moved += not torch.equal(param, dict(start.named_parameters())[name])
    assert moved > 0


# --- when the packed path is used ------------------------------------------------------------------

def test_support_is_detected_not_assumed(tokenizer):
    assert shared_prefix_support(make_model(tokenizer, "sdpa"))[0]
    assert shared_prefix_support(make_model(tokenizer, "eager"))[0]

    flash = make_model(tokenizer)
    flash.config._attn_implementation = "flash_attention_2"  # never run here: rejected by name first
    ok, why = shared_prefix_support(flash)
    assert not ok and "flash_attention_2" in why

    sliding = make_model(tokenizer)
    sliding.config.layer_types = ["sliding_attention"] * sliding.config.num_hidden_layers
    assert not shared_prefix_support(sliding)[0]

    class DropsTheMask(torch.nn.Module):
        """A model whose forward quietly ignores custom masks and positions: only the probe can tell."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            self.config = inner.config

        def forward(self, input_ids, attention_mask=None, position_ids=None, use_cache=False, **kwargs):
            if attention_mask is not None and attention_mask.dim() == 4:
                attention_mask = None
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, use_cache=use_cache)

    ok, why = shared_prefix_support(DropsTheMask(make_model(tokenizer)))
    assert not ok and "probe" in why
