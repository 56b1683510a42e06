"""The learning-rate schedule: no step at lr 0, and transformers' factors after warm-up."""

from __future__ import annotations

import pytest
import torch
from transformers import get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup

from swe_srl.errors import ConfigError
from swe_srl.train.schedule import make_scheduler

TOTAL, WARMUP = 12, 3


def lrs(scheduler: torch.optim.lr_scheduler.LRScheduler) -> list[float]:
    """The learning rate of each of TOTAL optimizer steps."""
    out = []
    for _ in range(TOTAL):
        out.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    return out


def optimizer() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)


@pytest.mark.parametrize("kind", ["constant", "cosine"])
def test_warm_up_never_wastes_a_step_where_transformers_does(kind: str) -> None:
    ours = lrs(make_scheduler(optimizer(), TOTAL, WARMUP, kind))
    if kind == "cosine":
        theirs = lrs(get_cosine_schedule_with_warmup(optimizer(), WARMUP, TOTAL))
    else:
        theirs = lrs(get_constant_schedule_with_warmup(optimizer(), WARMUP))
    assert theirs[0] == 0.0 and ours[0] == pytest.approx(1 / WARMUP)  # their first step does not move the weights
    assert ours[:WARMUP] == pytest.approx([1 / 3, 2 / 3, 1.0]) and ours[WARMUP - 1] == 1.0 > theirs[WARMUP - 1]
    assert ours[WARMUP:] == pytest.approx(theirs[WARMUP:])  # the same schedule once warmed up
    assert min(ours) > 0


def test_one_warm_up_step_runs_at_full_rate() -> None:
    assert lrs(make_scheduler(optimizer(), TOTAL, 1, "constant")) == [1.0] * TOTAL
    assert lrs(get_constant_schedule_with_warmup(optimizer(), 1))[0] == 0.0


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match="linear"):
        make_scheduler(optimizer(), TOTAL, WARMUP, "linear")
