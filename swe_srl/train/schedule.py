"""The learning-rate schedule both recipes use: linear warm-up, then constant or cosine to 0."""

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
