"""Shared prefill samples what plain generate samples: same tokens, same log-probs, same EOS cuts.

The tiny Qwen2 model's weights are scaled up so that its next-token distribution is peaked and
varies along a sequence: with the default tiny init every greedy completion repeats one token,
which would let a wrong cache or wrong positions pass unnoticed.
"""

from __future__ import annotations

import logging
from collections import Counter

import pytest
import torch

from transformers import AttentionInterface

from swe_srl.train.generate_hf import TransformersBackend, shared_prefill_unsupported
from swe_srl.train.prefix_attention import NAME, SharedPrefixLayer
from swe_srl.train.rollout import Sampling
from swe_srl.train.tiny import tiny_model, tiny_tokenizer

GREEDY = Sampling(temperature=0.0, max_new_tokens=24)
HOT = Sampling(temperature=1.0, max_new_tokens=24)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def model(tokenizer):
    return tiny_model(tokenizer, seed=2, weight_scale=20)


@pytest.fixture(scope="module")
def prompts(tokenizer):
    """Three prompts of 10, 3 and 1 tokens: left padding of 0, 7 and 9 positions."""
    texts = ["def parse(value): return the issue fails when", "ls -la", "a"]
    out = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    assert sorted({len(p) for p in out}) == [1, 3, 10]
    return out


def capture_logits(model, monkeypatch) -> list[torch.Tensor]:
    """Make ``model.generate`` also record its per-step logits (batch, steps, vocab) per call."""
    calls: list[torch.Tensor] = []
    original = model.generate

    def generate(**kwargs):
        out = original(**kwargs, output_logits=True, return_dict_in_generate=True)
        calls.append(torch.stack(out.logits, dim=1))
        return out.sequences

    monkeypatch.setattr(model, "generate", generate)
    return calls


def completion_logprobs(model, prompt: list[int], tokens: tuple[int, ...]) -> torch.Tensor:
    """Teacher-forced log-probs of ``tokens`` after ``prompt`` under ``model`` (no padding, no cache)."""
    ids = torch.tensor([list(prompt) + list(tokens)])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, len(prompt) - 1 : -1]
    return torch.log_softmax(logits.float(), -1).gather(-1, torch.tensor(tokens)[:, None])[:, 0]


def test_the_tiny_model_takes_the_shared_path(model):
    assert shared_prefill_unsupported(model) is None


def test_greedy_shared_prefill_returns_the_plain_tokens(model, tokenizer, prompts):
    shared = TransformersBackend(model, tokenizer).generate(prompts, 3, GREEDY)
    plain = TransformersBackend(model, tokenizer, shared_prefill=False).generate(prompts, 3, GREEDY)
    assert shared == plain
    assert [len(g) for g in shared] == [3, 3, 3]
    # Not a degenerate model: completions differ across prompts and are not one repeated token.
    firsts = [g[0].token_ids for g in shared]
    assert len(set(firsts)) == 3 and all(len(set(t)) > 5 for t in firsts)


def test_greedy_log_probs_match_the_plain_path(model, tokenizer, prompts, monkeypatch):
    calls = capture_logits(model, monkeypatch)
    shared = TransformersBackend(model, tokenizer).generate(prompts, 2, GREEDY)
    plain = TransformersBackend(model, tokenizer, shared_prefill=False).generate(prompts, 2, GREEDY)
    assert shared == plain and len(calls) == 2
    torch.testing.assert_close(torch.log_softmax(calls[0], -1), torch.log_softmax(calls[1], -1),
                               rtol=1e-4, atol=1e-4)
    # And those are the model's own log-probs of the tokens, computed without any cache or padding.
    for row, (prompt, group) in enumerate(zip(prompts, shared)):
        tokens = group[0].token_ids
        during = torch.log_softmax(calls[0][2 * row, : len(tokens)], -1).gather(-1, torch.tensor(tokens)[:, None])[:, 0]
        torch.testing.assert_close(during, completion_logprobs(model, prompt, tokens), rtol=1e-4, atol=1e-4)


def test_only_the_last_prompt_token_is_left_for_generate(model, tokenizer, prompts):
    seen: list[tuple[int, ...]] = []
    hook = model.register_forward_pre_hook(lambda _, args, kwargs: seen.append(tuple(kwargs["input_ids"].shape)),
                                           with_kwargs=True)
    backend = TransformersBackend(model, tokenizer)
    try:
        for _ in range(2):
            backend.generate(prompts, 4, Sampling(temperature=0.0, max_new_tokens=3))
    finally:
        hook.remove()
    width = max(len(p) for p in prompts)
    # One prefill of each prompt (minus its last token), then one-token steps over the 12 rows; the
    # first call also probes shared-prefix decoding with one step of two rows, each way.
    call = [(3, width - 1), (12, 1), (12, 1), (12, 1)]
    assert seen == call[:1] + [(2, 1), (2, 1)] + call[1:] + call
    assert backend._cascade is True


def test_decoding_reads_one_copy_of_each_prompt(model, tokenizer, prompts, monkeypatch):
    caches = []
    original = model.generate
    # transformers names generate's cache argument `cache` in newer releases, `past_key_values` in older ones
    monkeypatch.setattr(model, "generate",
                        lambda **kw: caches.append(kw.get("cache", kw.get("past_key_values"))) or original(**kw))
    TransformersBackend(model, tokenizer).generate(prompts, 4, GREEDY)
    layer = caches[0].layers[0]
    assert isinstance(layer, SharedPrefixLayer)
    assert layer.prefix_keys.shape[0] == len(prompts) and layer.keys.shape[0] == 4 * len(prompts)
    assert model.config._attn_implementation != NAME  # restored after decoding


def test_a_model_that_bypasses_the_attention_interface_repeats_the_cache(model, tokenizer, prompts, monkeypatch,
                                                                         caplog):
    """Attention that ignores the shared prompt changes the probe's logits: decoding falls back, and says so."""
    sdpa = AttentionInterface._global_mapping["sdpa"]
    monkeypatch.setitem(AttentionInterface._global_mapping, NAME, lambda module, *a, **kw: sdpa(module, *a, **kw))
    backend = TransformersBackend(model, tokenizer)
    with caplog.at_level(logging.WARNING, logger="swe_srl.train.generate_hf"):
        out = backend.generate(prompts, 3, GREEDY)
    assert backend._cascade is False
    assert "AttentionInterface" in caplog.text
    assert out == TransformersBackend(model, tokenizer, shared_prefill=False).generate(prompts, 3, GREEDY)


def test_sampling_keeps_shapes_and_cuts_at_eos(model, tokenizer, prompts):
    torch.manual_seed(0)
    first = TransformersBackend(model, tokenizer, shared_prefill=False).generate(prompts, 4, HOT)
    # Make a token the sampler often draws the end of sequence, so some completions finish early.
    eos = Counter(t for g in first for c in g for t in c.token_ids[1:]).most_common(1)[0][0]
    results = []
    for shared in (True, False):
        backend = TransformersBackend(model, tokenizer, shared_prefill=shared)
        backend.eos_id = eos
        torch.manual_seed(1)
        results.append(backend.generate(prompts, 4, HOT))
    shared, plain = results
    assert [len(g) for g in shared] == [4, 4, 4]
    completions = [c for g in shared for c in g]
    assert any(c.finished for c in completions)
    for c in completions:
        if c.finished:
            assert c.token_ids[-1] == eos and eos not in c.token_ids[:-1]
        else:
            assert len(c.token_ids) == HOT.max_new_tokens and eos not in c.token_ids
        assert c.text == tokenizer.decode(list(c.token_ids), skip_special_tokens=True)
    # Neither path draws random numbers during prefill, so with one seed they sample alike.
    assert shared == plain


class NoPositions(torch.nn.Module):
    """A causal LM whose forward takes no position_ids: shared prefill cannot place left-padded rows."""

    def __init__(self, inner) -> None:
        super().__init__()
        self.inner = inner
        self.config = inner.config

    def forward(self, input_ids, attention_mask=None):
        return self.inner(input_ids=input_ids, attention_mask=attention_mask)

    def generate(self, **kwargs):
        return self.inner.generate(**kwargs)


def test_models_that_cannot_share_fall_back_and_say_why(model, tokenizer, prompts, caplog):
    wrapped = NoPositions(model)
    assert "position_ids" in shared_prefill_unsupported(wrapped)
    backend = TransformersBackend(wrapped, tokenizer)
    with caplog.at_level(logging.WARNING, logger="swe_srl.train.generate_hf"):
        out = backend.generate(prompts, 2, GREEDY)
        backend.generate(prompts, 2, GREEDY)
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1  # said once
    assert "position_ids" in caplog.records[0].message
    assert out == TransformersBackend(model, tokenizer, shared_prefill=False).generate(prompts, 2, GREEDY)


def test_a_lora_wrapped_model_shares_too(tokenizer, prompts):
    peft = pytest.importorskip("peft")
    model = peft.get_peft_model(tiny_model(tokenizer, seed=2), peft.LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    backend = TransformersBackend(model, tokenizer)
    shared = backend.generate(prompts, 2, GREEDY)
    assert backend._unsupported is None
    assert shared == TransformersBackend(model, tokenizer, shared_prefill=False).generate(prompts, 2, GREEDY)


def test_decoding_from_repeated_caches_on_request(model, tokenizer, prompts):
    backend = TransformersBackend(model, tokenizer, shared_decoding=False)
    out = backend.generate(prompts, 3, GREEDY)
    assert backend._cascade is False
    assert out == TransformersBackend(model, tokenizer).generate(prompts, 3, GREEDY)
