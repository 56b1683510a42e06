"""Supervised fine-tuning on (prompt messages, completion) pairs, loss on the completion only.

The paper's SFT baseline trains on the same step-wise data; tests also use it, openly, to teach
the tiny random model the output *format* before GRPO (see tests/train/test_learning.py).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from swe_srl.train.loss import token_logprobs


def tokenize_pairs(tokenizer: Any, pairs: Sequence[tuple[list[dict[str, str]], str]]) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, completion ids + eos) for (messages, completion) pairs."""
    rows = []
    for messages, completion in pairs:
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        c = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        rows.append((p, c))
    return rows


def completion_batch(rows: Sequence[tuple[list[int], list[int]]], pad_id: int) -> tuple[torch.Tensor, ...]:
    """Token ids, attention mask and completion mask [B, T], right-padded."""
    width = max(len(p) + len(c) for p, c in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros_like(ids)
    target = torch.zeros_like(ids)
    for i, (p, c) in enumerate(rows):
        ids[i, : len(p) + len(c)] = torch.tensor(p + c)
        attention[i, : len(p) + len(c)] = 1
        target[i, len(p) : len(p) + len(c)] = 1
    return ids, attention, target


def sft_loss(model: Any, ids: torch.Tensor, attention: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of the completion tokens."""
    logits = model(input_ids=ids, attention_mask=attention, use_cache=False).logits
    logp = token_logprobs(logits[:, :-1], ids[:, 1:])
    mask = target[:, 1:].to(logp.dtype)
    return -(logp * mask).sum() / mask.sum().clamp(min=1.0)


def sft_steps(model: Any, tokenizer: Any, pairs: Sequence[tuple[list[dict[str, str]], str]], *, steps: int,
              lr: float = 1e-3, batch_size: int = 16, seed: int = 0) -> list[float]:
    """Train ``model`` for ``steps`` AdamW steps on random batches of ``pairs``; returns the losses."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    device = next(model.parameters()).device
    rows = tokenize_pairs(tokenizer, pairs)
    model.train()
    losses = []
    for _ in range(steps):
        picks = torch.randint(len(pairs), (batch_size,), generator=generator).tolist()
        ids, attention, target = (t.to(device) for t in completion_batch([rows[i] for i in picks], tokenizer.pad_token_id))
        loss = sft_loss(model, ids, attention, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
