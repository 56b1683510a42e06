"""Shared-prefix packing: each prompt once, its completions after it, in one unpadded sequence.

A GRPO group is one prompt and G completions. The plain layout runs G padded rows of
``prompt + completion``, so the (long) prompt goes through the model G times. The packed layout
lays out ``prompt, completion_1, ..., completion_G`` (and further groups after that) as ONE row
with no padding, and replaces the causal mask by a block mask:

    a prompt token attends to earlier tokens of its own prompt (causal);
    a completion token attends to its own prompt and to earlier tokens of its own completion.

Position ids restart after the prompt for every completion, so completion k sees exactly the
positions (and, through RoPE, the attention scores) it would see alone after the prompt. The
result is the same function as the plain layout, with the prompt computed once; gradients from
all G completions meet in the shared prompt's activations.

This module is layout only (token ids in, index tensors out); the forward pass lives in
``swe_srl.train.logprobs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

Pair = tuple[Sequence[int], Sequence[int]]  # (prompt token ids, completion token ids)


@dataclass(frozen=True)
class PackedRow:
    """One packed sequence and where each completion's log-probs are read from it.

    ``logit_positions[k]`` is the position whose logits predict ``labels[k]``; ``gather[r, t]``
    indexes into those K predictions for token t of the r-th completion (``valid`` marks real
    tokens), which rebuilds the [R, T] layout the loss expects.
    """

    input_ids: torch.Tensor  # [1, N]
    position_ids: torch.Tensor  # [1, N]
    segment: torch.Tensor  # [N] which run of equal prompts each token belongs to
    member: torch.Tensor  # [N] -1 on prompt tokens, else the completion's row
    logit_positions: torch.Tensor  # [K]
    labels: torch.Tensor  # [K]
    gather: torch.Tensor  # [R, T] long, into the K predictions
    valid: torch.Tensor  # [R, T] long, 1 on completion tokens


def packed_length(pairs: Sequence[Pair]) -> int:
    """Tokens of the packed row for ``pairs``: a prompt counts once per run of equal prompts."""
    total, previous = 0, None
    for prompt, completion in pairs:
        if previous is None or tuple(prompt) != previous:
            total += len(prompt)
            previous = tuple(prompt)
        total += len(completion)
    return total


def plan_packs(pairs: Sequence[Pair], budget: int) -> list[list[int]]:
    """Split ``pairs`` (in order) into runs whose packed length stays within ``budget`` tokens.

    Consecutive pairs with the same prompt share it; a group too long for one row is split over
    several rows, each with its own copy of the prompt. A single pair longer than ``budget`` still
    gets a row of its own (the budget bounds packing, never drops data).
    """
    if budget < 1:
        raise ValueError(f"pack budget must be positive, got {budget}")
    chunks: list[list[int]] = []
    current: list[int] = []
    used, previous = 0, None
    for index, (prompt, completion) in enumerate(pairs):
        shares = previous is not None and tuple(prompt) == previous
        cost = len(completion) + (0 if shares else len(prompt))
        if current and used + cost > budget:
            chunks.append(current)
            current, used, shares = [], 0, False
            cost = len(completion) + len(prompt)
        current.append(index)
        used += cost
        previous = tuple(prompt)
    if current:
        chunks.append(current)
    return chunks


def pack_row(pairs: Sequence[Pair]) -> PackedRow:
    """Lay out ``pairs`` as one row, each run of equal consecutive prompts stored once."""
    ids: list[int] = []
    positions: list[int] = []
    segment: list[int] = []  # which prompt (run) a token belongs to
    member: list[int] = []  # -1 for prompt tokens, else the completion's row
    logit_positions: list[int] = []
    labels: list[int] = []
    spans: list[tuple[int, int]] = []  # (first prediction index, length) per completion
    previous, prompt_end, run = None, 0, -1
    for row, (prompt, completion) in enumerate(pairs):
        if previous is None or tuple(prompt) != previous:
            run += 1
            previous = tuple(prompt)
            ids.extend(prompt)
            positions.extend(range(len(prompt)))
            segment.extend([run] * len(prompt))
            member.extend([-1] * len(prompt))
            prompt_end = len(ids)  # the prompt's last token predicts each completion's first
        start = len(ids)
        spans.append((len(labels), len(completion)))
        for t, token in enumerate(completion):
            logit_positions.append(prompt_end - 1 if t == 0 else start + t - 1)
            labels.append(token)
        ids.extend(completion)
        positions.extend(range(len(prompt), len(prompt) + len(completion)))
        segment.extend([run] * len(completion))
        member.extend([row] * len(completion))
    if prompt_end == 0 and pairs:
        raise ValueError("a packed prompt must have at least one token")

    width = max((length for _, length in spans), default=0)
    gather = torch.zeros((len(pairs), width), dtype=torch.long)
    valid = torch.zeros((len(pairs), width), dtype=torch.long)
    for row, (first, length) in enumerate(spans):
        gather[row, :length] = torch.arange(first, first + length)
        valid[row, :length] = 1
    return PackedRow(
        input_ids=torch.tensor([ids], dtype=torch.long),
        position_ids=torch.tensor([positions], dtype=torch.long),
        segment=torch.tensor(segment, dtype=torch.long),
        member=torch.tensor(member, dtype=torch.long),
        logit_positions=torch.tensor(logit_positions, dtype=torch.long),
        labels=torch.tensor(labels, dtype=torch.long),
        gather=gather,
        valid=valid,
    )


def block_mask(row: PackedRow, device: torch.device | str = "cpu", dtype: torch.dtype | None = None) -> torch.Tensor:
    """The [1, 1, N, N] attention mask of ``row``: bool (True = attend), or additive in ``dtype``.

    Built on ``device`` directly: at N = 10k tokens it is 100M entries, not worth a copy.
    """
    seg, mem = row.segment.to(device), row.member.to(device)
    n = seg.numel()
    allowed = torch.ones((n, n), dtype=torch.bool, device=device).tril_()
    allowed &= seg[:, None] == seg[None, :]
    allowed &= (mem[None, :] == -1) | (mem[None, :] == mem[:, None])
    allowed = allowed[None, None]
    if dtype is None:
        return allowed
    # Eager attention adds the mask to the scores; the dtype's lowest value, not -inf, so that
    # no row of the softmax can turn into NaN.
    additive = torch.zeros(allowed.shape, dtype=dtype, device=device)
    return additive.masked_fill_(~allowed, torch.finfo(dtype).min)
