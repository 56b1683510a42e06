"""Batches of token-id prompts for a decoder's ``generate``, and its completions cut at the end token.

Left padding puts every prompt's last token in the last column, so decoding continues all rows at
the same position; the attention mask is 0 on the pads so no row attends to them. A completion ends
at its first end-of-sequence token, kept (as a chat model writes it); a row that has none was cut
at the token limit. The local agent client and the training rollouts both decode this way.
"""

from __future__ import annotations

from typing import Sequence


def left_pad(prompts: Sequence[Sequence[int]], pad_id: int) -> tuple[list[list[int]], list[list[int]]]:
    """(ids, attention mask) of ``prompts`` right-aligned to the longest: ``pad_id`` in front, masked 0."""
    if not prompts:
        raise ValueError("left_pad got no prompts: a batch needs at least one")
    width = max(len(p) for p in prompts)
    if min(len(p) for p in prompts) == 0:
        raise ValueError("left_pad got an empty prompt: generation needs at least one token to continue")
    ids = [[pad_id] * (width - len(p)) + list(p) for p in prompts]
    mask = [[0] * (width - len(p)) + [1] * len(p) for p in prompts]
    return ids, mask


def cut_at_eos(tokens: Sequence[int], eos_id: int | None) -> tuple[list[int], bool]:
    """``tokens`` up to and including the first ``eos_id``, and whether there was one (else: cut at the limit)."""
    tokens = list(tokens)
    if eos_id is None or eos_id not in tokens:
        return tokens, False
    return tokens[: tokens.index(eos_id) + 1], True
