"""Group advantages and dynamic sampling."""

from __future__ import annotations

import math
import random

import pytest

from swe_srl.train.groups import fill_batch, has_signal, population_std
from swe_srl.train.objective import group_advantages


def test_group_advantages_are_standardised_with_population_std():
    rewards = [1.0, 0.5, -1.0, 0.5]
    mean = sum(rewards) / 4
    std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / 4)
    adv = group_advantages(rewards, eps=1e-6)
    assert adv == pytest.approx([(r - mean) / (std + 1e-6) for r in rewards])
    assert sum(adv) == pytest.approx(0.0, abs=1e-9)
    assert group_advantages([0.3, 0.3, 0.3]) == [0.0, 0.0, 0.0]


def test_population_std_uses_ddof_zero():
    assert population_std([0.0, 1.0]) == 0.5


def test_dynamic_sampling_drops_exactly_the_zero_variance_groups():
    rng = random.Random(0)
    # Each "group" is (prompt id, rewards); a third of them have equal rewards.
    stream = []
    for i in range(200):
        if i % 3 == 0:
            value = rng.choice([-1.0, 0.0, 0.7, 1.0])
            stream.append((i, [value] * 8))
        else:
            rewards = [rng.choice([-1.0, 0.4, 0.9]) for _ in range(7)]
            stream.append((i, rewards + [rewards[0] + 0.01]))  # never constant
    position = 0
    requests = []

    def sample_groups(k: int):
        nonlocal position
        requests.append(k)
        out = stream[position : position + k]
        position += k
        return out

    kept, stats = fill_batch(sample_groups, lambda g: g[1], 16, epsilon=1e-4)
    seen = stream[:position]
    assert [g[0] for g in kept] == [g[0] for g in seen if len(set(g[1])) > 1]
    assert len(kept) == 16
    assert stats.sampled == position
    assert stats.dropped == sum(1 for g in seen if len(set(g[1])) == 1)
    assert stats.fraction_dropped == pytest.approx(stats.dropped / stats.sampled)
    assert requests[0] == 16 and all(k > 0 for k in requests) and len(requests) == stats.rounds > 1


def test_epsilon_threshold_and_disabled_filter():
    assert not has_signal([0.5, 0.5 + 1e-6], epsilon=1e-4)
    assert has_signal([0.5, 0.6], epsilon=1e-4)
    groups = [[1.0, 1.0], [0.0, 1.0]]
    kept, stats = fill_batch(lambda k: groups[:k], lambda g: g, 2, epsilon=1e-4, enabled=False)
    assert kept == groups and stats.dropped == 0


def test_gives_up_after_max_rounds_with_a_short_batch():
    kept, stats = fill_batch(lambda k: [[1.0, 1.0]] * k, lambda g: g, 4, epsilon=1e-4, max_rounds=3)
    assert kept == [] and stats.rounds == 3 and stats.sampled == 12 and stats.fraction_dropped == 1.0
