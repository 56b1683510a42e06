"""A complexity check for parsers of outside text: 4x the input takes about 4x the time.

A quadratic parser takes 16x as long on 4x the input; a bound of 8x sits between the two with
room for noise. Timings are the best of several runs, sizes interleaved, so a busy machine does
not decide the ratio; and a parse of the large input under ``FAST`` seconds passes outright
(the quadratic parsers these tests replaced took seconds to minutes on it).
"""

from __future__ import annotations

import time
from typing import Callable

RUNS = 5
MAX_RATIO = 8.0
FAST = 0.1  # seconds
FLOOR = 1e-3  # seconds: shorter times of the small input count as this, so timer noise cannot fail the check


def _elapsed(parse: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    try:
        parse(text)
    except Exception:  # a parse error is a fine answer; only its cost is measured here
        pass
    return time.perf_counter() - start


def assert_linear(parse: Callable[[str], object], make: Callable[[int], str], n: int = 40_000) -> None:
    """``parse`` of ``make(n)`` and of ``make(4 * n)`` (texts of about that many characters)."""
    small, large = make(n), make(4 * n)
    small_time = large_time = float("inf")
    for _ in range(RUNS):
        small_time = min(small_time, _elapsed(parse, small))
        large_time = min(large_time, _elapsed(parse, large))
    ratio = large_time / max(small_time, FLOOR)
    assert large_time < FAST or ratio < MAX_RATIO, (
        f"{len(large)} characters took {large_time:.3f}s, {ratio:.1f}x the time of {len(small)}: not linear"
    )
