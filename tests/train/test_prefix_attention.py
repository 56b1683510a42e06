"""Shared-prefix attention computes what attention over each row's full cache computes."""

from __future__ import annotations

import types

import torch
from transformers.cache_utils import DynamicCache
from transformers.integrations.sdpa_attention import repeat_kv

from swe_srl.train.prefix_attention import SharedPrefixLayer, decoding_with_shared_prefix, shared_prefix_attention


def test_matches_attention_over_the_concatenated_cache():
    torch.manual_seed(0)
    prompts, n, heads, kv_heads, length, dim, own, q = 2, 3, 4, 2, 6, 8, 5, 2
    rows = prompts * n
    prefix_k, prefix_v = torch.randn(2, prompts, kv_heads, length, dim).unbind(0)
    own_k, own_v = torch.randn(2, rows, kv_heads, own, dim).unbind(0)
    query = torch.randn(rows, heads, q, dim)
    # The second prompt is left-padded by two positions; the last q own tokens are causal among themselves.
    mask = torch.ones(rows, 1, q, length + own, dtype=torch.bool)
    mask[n:, ..., :2] = False
    mask[..., 0, -1] = False
    cache = DynamicCache()
    cache.layers = [SharedPrefixLayer(prefix_k, prefix_v, n)]
    with decoding_with_shared_prefix(types.SimpleNamespace(_attn_implementation="sdpa"), cache):
        got, _ = shared_prefix_attention(types.SimpleNamespace(layer_idx=0), query, own_k, own_v, mask, scaling=0.3)

    keys = torch.cat([prefix_k.repeat_interleave(n, 0), own_k], dim=2)
    values = torch.cat([prefix_v.repeat_interleave(n, 0), own_v], dim=2)
    expected = torch.nn.functional.scaled_dot_product_attention(
        query, repeat_kv(keys, heads // kv_heads), repeat_kv(values, heads // kv_heads), attn_mask=mask, scale=0.3)
    torch.testing.assert_close(got, expected.transpose(1, 2), atol=1e-5, rtol=1e-5)


def test_the_layer_counts_the_prompt_in_its_length():
    keys = torch.zeros(2, 1, 7, 4)
    layer = SharedPrefixLayer(keys, keys, repeats=3)
    assert layer.get_seq_length() == 7 and layer.keys.shape == (6, 1, 0, 4)
    layer.update(torch.ones(6, 1, 1, 4), torch.ones(6, 1, 1, 4))
    assert layer.get_seq_length() == 8 and layer.get_mask_sizes(1) == (9, 0)
