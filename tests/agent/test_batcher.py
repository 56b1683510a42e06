"""The micro-batcher on a plain function: batches in order, a broken batch function named to every caller."""

from __future__ import annotations

import threading
import time

import pytest

from swe_srl.agent.batcher import MicroBatcher


def test_a_function_returning_too_few_results_fails_every_caller_of_the_batch():
    gate = threading.Event()
    batches: list[list[int]] = []

    def work(requests: list[int]) -> list[int]:
        batches.append(requests)
        gate.wait(timeout=30)  # the first batch waits here until the others have queued
        return [r * 10 for r in requests][:1]  # one result, whatever the batch size

    batcher = MicroBatcher(work, max_batch=4)
    out: dict[int, object] = {}

    def ask(n: int) -> None:
        try:
            out[n] = batcher.submit(n)
        except RuntimeError as err:
            out[n] = err

    first = threading.Thread(target=ask, args=(1,))
    first.start()
    while not batches:
        time.sleep(0.001)
    rest = [threading.Thread(target=ask, args=(n,)) for n in (2, 3, 4)]
    for t in rest:
        t.start()
    while len(batcher._queue) < 3:
        time.sleep(0.001)
    gate.set()
    for t in [first, *rest]:
        t.join(timeout=30)
    assert batches[0] == [1] and sorted(batches[1]) == [2, 3, 4] and len(batches) == 2
    assert out[1] == 10
    assert all("returned 1 results for 3 requests" in str(out[n]) for n in (2, 3, 4))


def test_max_batch_must_be_positive():
    with pytest.raises(ValueError, match="max_batch must be at least 1, got 0"):
        MicroBatcher(lambda requests: requests, max_batch=0)
