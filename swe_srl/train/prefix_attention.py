"""Decoding G completions against one copy of their prompt's keys and values (cascade attention).

Repeating a prefilled cache G times (``batch_repeat_interleave``) makes every decoding step read,
and ``DynamicCache`` copy, G identical copies of each long prompt. Here the cache keeps each
prompt's keys and values once, ``[prompts, kv_heads, prompt_len, head_dim]``, and only the
completions' own tokens per row. The attention of one step scores the G rows' queries against
their shared prompt in a single matrix product per prompt, scores them against their own
tokens, and takes one softmax over both parts: the same arithmetic as attention over the
concatenated cache, without the copies.

The model keeps calling its attention through transformers' ``AttentionInterface``: while
decoding, ``config._attn_implementation`` names the function below, which finds the prompt part in
the cache that ``decoding_with_shared_prefix`` made current (``generate`` refuses keyword
arguments it does not know, so the cache cannot travel down as one). A model that does not route
attention that way gives different logits, which the backend's probe notices.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

import torch
from transformers import AttentionInterface
from transformers.cache_utils import Cache, DynamicCache, DynamicLayer
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

NAME = "swe_srl_shared_prefix"
_CURRENT: ContextVar[DynamicCache | None] = ContextVar("shared_prefix_cache", default=None)


class SharedPrefixLayer(DynamicLayer):
    """One layer's cache: the prompts' keys and values once, each row's generated tokens after them."""

    is_croppable = False

    def __init__(self, prefix_keys: torch.Tensor, prefix_values: torch.Tensor, repeats: int) -> None:
        super().__init__()
        prompts, heads, _, dim = prefix_keys.shape
        self.prefix_keys, self.prefix_values = prefix_keys, prefix_values
        self.lazy_initialization(prefix_keys, prefix_values)
        self.keys = prefix_keys.new_empty((prompts * repeats, heads, 0, dim))
        self.values = prefix_values.new_empty((prompts * repeats, heads, 0, dim))

    def get_seq_length(self) -> int:
        return self.prefix_keys.shape[-2] + self.keys.shape[-2]

    def batch_repeat_interleave(self, repeats: int) -> None:
        raise NotImplementedError("a shared-prefix cache is built with its repeats")

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        raise NotImplementedError("rows of a shared-prefix cache cannot be selected")


def share_prefix(cache: Cache, repeats: int, prompts: slice = slice(None)) -> DynamicCache | None:
    """A decoding cache holding ``cache``'s ``prompts`` once for ``repeats`` rows each; None unless its layers are plain."""
    if not isinstance(cache, DynamicCache) or any(type(layer) is not DynamicLayer for layer in cache.layers):
        return None
    shared = DynamicCache()
    shared.layers = [SharedPrefixLayer(layer.keys[prompts], layer.values[prompts], repeats) for layer in cache.layers]
    return shared


def repeat_prefix(cache: DynamicCache, repeats: int, prompts: slice = slice(None)) -> DynamicCache:
    """The usual decoding cache for the same rows: each of ``prompts`` copied ``repeats`` times."""
    repeated = DynamicCache()
    for index, layer in enumerate(cache.layers):
        repeated.update(layer.keys[prompts].repeat_interleave(repeats, dim=0),
                        layer.values[prompts].repeat_interleave(repeats, dim=0), index)
    return repeated


def shared_prefix_attention(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                            attention_mask: torch.Tensor | None, scaling: float | None = None,
                            **_: Any) -> tuple[torch.Tensor, None]:
    """Attention of ``query`` [rows, heads, q, dim] over the layer's shared prompt, then ``key``/``value`` (the rows' own)."""
    shared = _CURRENT.get()
    if shared is None:
        raise RuntimeError(f"attention {NAME!r} was called outside decoding_with_shared_prefix")
    layer = shared.layers[module.layer_idx]
    rows, heads, q, dim = query.shape
    prompts, kv_heads, length, _ = layer.prefix_keys.shape
    n, g = rows // prompts, heads // kv_heads
    scaling = dim**-0.5 if scaling is None else scaling

    def by_prompt(x: torch.Tensor) -> torch.Tensor:  # [rows, heads, q, k] -> [prompts, kv_heads, n*g*q, k]
        return x.view(prompts, n, kv_heads, g, q, -1).transpose(1, 2).reshape(prompts, kv_heads, n * g * q, -1)

    def by_row(x: torch.Tensor) -> torch.Tensor:  # the inverse of by_prompt
        return x.view(prompts, kv_heads, n, g, q, -1).transpose(1, 2).reshape(rows, heads, q, -1)

    own_keys = key.repeat_interleave(g, dim=1)
    own_values = value.repeat_interleave(g, dim=1)
    scores = torch.cat([by_row(by_prompt(query) @ layer.prefix_keys.transpose(-1, -2)),
                        query @ own_keys.transpose(-1, -2)], dim=-1) * scaling
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    out = by_row(by_prompt(weights[..., :length]) @ layer.prefix_values) + weights[..., length:] @ own_values
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, shared_prefix_attention)
AttentionMaskInterface.register(NAME, sdpa_mask)


@contextmanager
def decoding_with_shared_prefix(config: Any, cache: DynamicCache) -> Iterator[None]:
    """Route the model's attention through ``shared_prefix_attention`` over ``cache`` while the block runs."""
    previous = config._attn_implementation
    config._attn_implementation = NAME
    token = _CURRENT.set(cache)
    try:
        yield
    finally:
        _CURRENT.reset(token)
        config._attn_implementation = previous
