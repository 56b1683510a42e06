"""Rollouts with transformers' ``generate`` on the training model itself (CPU or GPU).

GRPO samples G completions of each prompt, and SRL prompts are long while completions are short,
so prefilling every prompt G times (what ``generate(num_return_sequences=G)`` does) is most of the
rollout cost. The shared-prefill path prefills each prompt once: one forward pass over the
left-padded prompts minus their last token fills a KV cache, the cache is repeated G times along
the batch, and ``generate`` then only has the last prompt token left to process before decoding.
Models whose forward or cache cannot do this fall back, with a log line, to the plain path.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Sequence

import torch

from swe_srl.batch_decoding import cut_at_eos, left_pad
from swe_srl.train.prefix_attention import decoding_with_shared_prefix, repeat_prefix, share_prefix
from swe_srl.train.rollout import Completion, Sampling

log = logging.getLogger(__name__)


def _forward_parameters(model: Any) -> set[str]:
    """The named parameters of the underlying transformers model's forward (through a PEFT wrapper)."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return set(inspect.signature(inner.forward).parameters)


def shared_prefill_unsupported(model: Any) -> str | None:
    """Why ``model`` cannot take the shared-prefill path, or None when it can (checked before any run)."""
    config = getattr(model, "config", None)
    if config is None:
        return "the model has no config"
    if getattr(config, "is_encoder_decoder", False):
        return "encoder-decoder models prefill the encoder, not a decoder cache"
    params = _forward_parameters(model)
    if "position_ids" not in params:
        return "the model's forward takes no position_ids, so left-padded positions cannot be given"
    if "cache" not in params and "past_key_values" not in params:
        return "the model's forward takes no cache argument"
    return None


def _cache_unsupported(cache: Any, expected_length: int) -> str | None:
    """Why the cache a prefill returned cannot be repeated and resumed, or None when it can."""
    from transformers.cache_utils import Cache

    if not isinstance(cache, Cache):
        return f"the prefill returned a {type(cache).__name__}, not a transformers Cache"
    if any(getattr(cache, "is_linear", [])):
        return "the cache has recurrent (linear) layers, which generate cannot resume from a prefix"
    if not hasattr(cache, "batch_repeat_interleave"):
        return f"{type(cache).__name__} has no batch_repeat_interleave"
    if cache.get_seq_length() != expected_length:
        return f"the cache holds {cache.get_seq_length()} positions, not the {expected_length} prefilled"
    return None


class TransformersBackend:
    """Samples from the very module being trained, so there are never weights to sync.

    ``Sampling.temperature <= 0`` means greedy decoding (as vLLM reads it). ``shared_prefill=False``
    forces the plain path, where ``generate`` prefills every prompt ``n`` times; ``shared_decoding=False``
    keeps the single prefill but decodes from ``n`` copies of each prompt's cache. ``synced``: the
    model is sharded across processes (FSDP), so every rank keeps decoding until all are done.
    """

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 64, shared_prefill: bool = True,
                 shared_decoding: bool = True, synced: bool = False) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.eos_id = tokenizer.eos_token_id
        self.shared_prefill = shared_prefill
        self.synced = synced
        self._unsupported: str | None = None  # set once a model or cache is found unable to share
        self._cascade: bool | None = None if shared_decoding else False  # one cache per prompt in decoding; probed

    def pause(self) -> None:
        pass  # generation holds nothing between steps

    def sync_weights(self, model: Any) -> None:
        self.model = model  # same module object: nothing to copy

    def close(self) -> None:
        pass  # nothing written outside the model

    @torch.no_grad()
    def generate(self, prompts: Sequence[Sequence[int]], n: int, sampling: Sampling) -> list[list[Completion]]:
        was_training = self.model.training
        self.model.eval()
        try:
            out: list[list[Completion]] = []
            for start in range(0, len(prompts), self.batch_size):
                out.extend(self._generate_chunk(prompts[start : start + self.batch_size], n, sampling))
            return out
        finally:
            self.model.train(was_training)

    def _generate_chunk(self, prompts: Sequence[Sequence[int]], n: int, sampling: Sampling) -> list[list[Completion]]:
        device = next(self.model.parameters()).device
        rows, mask = left_pad(prompts, self.pad_id)
        ids = torch.tensor(rows, dtype=torch.long, device=device)
        attention = torch.tensor(mask, dtype=torch.long, device=device)
        width = ids.shape[1]
        generated = None
        if self._wants_shared(n, width):
            generated = self._generate_shared(ids, attention, n, sampling)
        if generated is None:
            # What num_return_sequences does inside generate, done here because greedy refuses it.
            generated = self.model.generate(input_ids=ids.repeat_interleave(n, dim=0),
                                            attention_mask=attention.repeat_interleave(n, dim=0),
                                            **self._decoding(sampling))
        return self._completions(generated[:, width:].tolist(), len(prompts), n)

    def _wants_shared(self, n: int, width: int) -> bool:
        # With one completion per prompt, or a one-token prompt, there is no prefill to share.
        if not self.shared_prefill or n < 2 or width < 2 or self._unsupported is not None:
            return False
        reason = shared_prefill_unsupported(self.model)
        if reason is not None:
            self._give_up(reason)
            return False
        return True

    def _give_up(self, reason: str) -> None:
        self._unsupported = reason
        log.warning("shared prefill off, generate prefills each prompt n times: %s", reason)

    def _generate_shared(self, ids: torch.Tensor, attention: torch.Tensor, n: int, sampling: Sampling):
        """Prefill each prompt once, then decode its ``n`` completions from copies of its cache."""
        params = _forward_parameters(self.model)
        cache_key = "cache" if "cache" in params else "past_key_values"
        # The positions generate gives left-padded rows: count of real tokens so far, pads at 0.
        positions = (attention.cumsum(-1) - 1).clamp(min=0)
        extra = {"logits_to_keep": 1} if "logits_to_keep" in params else {}  # no full-vocabulary logits
        out = self.model(input_ids=ids[:, :-1], attention_mask=attention[:, :-1], position_ids=positions[:, :-1],
                         use_cache=True, **extra)
        cache = getattr(out, "cache", None) if cache_key == "cache" else getattr(out, "past_key_values", None)
        reason = _cache_unsupported(cache, ids.shape[1] - 1)
        if reason is not None:
            self._give_up(reason)
            return None
        # Rows of one prompt stay adjacent, in the order num_return_sequences gives them.
        inputs = {"input_ids": ids.repeat_interleave(n, dim=0), "attention_mask": attention.repeat_interleave(n, dim=0),
                  **self._decoding(sampling)}
        if self._cascade_works(cache, ids, attention, positions, cache_key):
            shared = share_prefix(cache, n)
            with decoding_with_shared_prefix(self.model.config, shared):
                return self.model.generate(**inputs, **{cache_key: shared})
        cache.batch_repeat_interleave(n)
        return self.model.generate(**inputs, **{cache_key: cache})

    def _cascade_works(self, cache: Any, ids: torch.Tensor, attention: torch.Tensor, positions: torch.Tensor,
                       cache_key: str) -> bool:
        """Whether decoding can keep one copy of each prompt's cache (probed once, on the first prompt)."""
        if self._cascade is None:
            self._cascade = self._probe_cascade(cache, ids, attention, positions, cache_key)
        return self._cascade

    def _probe_cascade(self, cache: Any, ids: torch.Tensor, attention: torch.Tensor, positions: torch.Tensor,
                       cache_key: str) -> bool:
        """One decoding step of the first prompt for two rows, through the usual cache and the shared one."""
        first = slice(0, 1)
        shared = share_prefix(cache, 2, first)
        if shared is None:
            log.info("decoding repeats each prompt's cache: %s has layers other than DynamicLayer", type(cache).__name__)
            return False
        step = {"input_ids": ids[first, -1:].repeat(2, 1), "attention_mask": attention[first].repeat(2, 1),
                "position_ids": positions[first, -1:].repeat(2, 1), "use_cache": True}
        try:
            expected = self.model(**step, **{cache_key: repeat_prefix(cache, 2, first)}).logits
            with decoding_with_shared_prefix(self.model.config, shared):
                got = self.model(**step, **{cache_key: shared}).logits
        except Exception as exc:  # any failure means: do not trust shared-prefix decoding for this model
            log.warning("decoding repeats each prompt's cache: shared-prefix attention failed: %s: %s",
                        type(exc).__name__, exc)
            return False
        # The logits' dtype is the compute dtype (bfloat16 under FSDP mixed precision, whose masters are float32).
        # In 16 bits the cascade rounds scores as eager attention does, which puts both about 0.03 from
        # sdpa on logits of std 1.2; attention that skips the prompt is off by several std.
        tolerance = 1e-4 if got.dtype == torch.float32 else 0.25 * expected.float().std().item()
        got, expected = got.float(), expected.float()
        if not torch.allclose(got, expected, atol=tolerance, rtol=1e-4):
            log.warning("decoding repeats each prompt's cache: shared-prefix attention changed the logits by up to %.3g "
                        "(the model does not call attention through transformers' AttentionInterface)",
                        (got - expected).abs().max().item())
            return False
        return True

    def _decoding(self, sampling: Sampling) -> dict[str, Any]:
        common = {"max_new_tokens": sampling.max_new_tokens, "pad_token_id": self.pad_id, "eos_token_id": self.eos_id,
                  "synced_gpus": self.synced}
        if sampling.temperature <= 0:
            return {**common, "do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        # top_k=0: pure temperature (and top-p) sampling, as vLLM does by default.
        return {**common, "do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p, "top_k": 0}

    def _completions(self, new_tokens: list[list[int]], prompts: int, n: int) -> list[list[Completion]]:
        groups: list[list[Completion]] = []
        for row in range(prompts):
            group = []
            for row_tokens in new_tokens[row * n : (row + 1) * n]:
                tokens, finished = cut_at_eos(row_tokens, self.eos_id)
                text = self.tokenizer.decode(tokens, skip_special_tokens=True)
                group.append(Completion(token_ids=tuple(tokens), text=text, finished=finished))
            groups.append(group)
        return groups
