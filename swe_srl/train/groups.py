"""DAPO-style dynamic sampling (pure Python, no torch): filling a batch with groups that carry a signal.

A *group* is the G completions sampled for one prompt with their rewards. Its advantages are the
rewards standardised within the group (swe_srl.train.objective), so a group whose rewards are all
(nearly) equal carries no learning signal: dynamic sampling drops it and keeps drawing prompts
until the batch holds enough groups that do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

G = TypeVar("G")


def population_std(values: Sequence[float]) -> float:
    """Standard deviation with ddof=0, as GRPO and the paper's filter use."""
    if not values:
        raise ValueError("population_std of an empty group")
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def has_signal(rewards: Sequence[float], epsilon: float) -> bool:
    """Whether a group survives dynamic sampling: its population std exceeds ``epsilon``."""
    return population_std(rewards) > epsilon


@dataclass(frozen=True)
class FillStats:
    """What filling one batch cost: groups sampled, dropped, and sampling rounds."""

    sampled: int
    dropped: int
    rounds: int

    @property
    def fraction_dropped(self) -> float:
        return self.dropped / self.sampled if self.sampled else 0.0


def fill_batch(
    sample_groups: Callable[[int], list[G]],
    rewards_of: Callable[[G], Sequence[float]],
    batch_size: int,
    *,
    epsilon: float,
    enabled: bool = True,
    max_rounds: int = 8,
) -> tuple[list[G], FillStats]:
    """Sample groups (``sample_groups(k)`` draws k prompts' groups) until ``batch_size`` have signal.

    With ``enabled`` False every group is kept (plain GRPO). After ``max_rounds`` the batch goes
    out short rather than looping forever on a dataset the policy has already mastered (or
    cannot yet format at all); the caller sees that in the returned list's length.
    """
    kept: list[G] = []
    sampled = dropped = rounds = 0
    while len(kept) < batch_size and rounds < max_rounds:
        rounds += 1
        groups = sample_groups(batch_size - len(kept))
        if not groups:
            break
        for group in groups:
            sampled += 1
            if not enabled or has_signal(rewards_of(group), epsilon):
                kept.append(group)
            else:
                dropped += 1
    return kept[:batch_size], FillStats(sampled=sampled, dropped=dropped, rounds=rounds)
