"""The learning-rate schedule both recipes use: linear warm-up, then constant or cosine to 0.

Kept rather than transformers' get_constant_schedule_with_warmup / get_cosine_schedule_with_warmup,
which give the same factors after warm-up but start warm-up at 0: the first optimizer step runs at
lr 0 and is wasted (with warmup=1, the only warm-up step). Here step k of the warm-up runs at
(k + 1) / warmup, so every step moves the weights; runs of a few dozen steps (the demo) feel one
lost step. tests/train/test_schedule.py pins both the difference and the agreement after warm-up.
"""

from __future__ import annotations

import math

import torch

from swe_srl.errors import ConfigError


def make_scheduler(optimizer: torch.optim.Optimizer, total: int, warmup: int, kind: str) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup`` steps, then constant or cosine decay to 0 at ``total``."""
    if kind not in ("constant", "cosine"):
        raise ConfigError(f"optim.schedule '{kind}' is not one of constant, cosine")

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if kind == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))
        return 1.0

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
