import pytest

from throttle import FakeClock, RateLimitExceeded, rate_limited


def test_calls_through_and_keeps_metadata():
    @rate_limited(limit=5, period=1.0, clock=FakeClock())
    def double(x):
        """Double x."""
        return 2 * x

    assert double(21) == 42
    assert double.__doc__ == "Double x."


def test_raises_with_retry_after():
    clock = FakeClock()

    @rate_limited(limit=1, period=30.0, clock=clock)
    def ping():
        return "pong"

    with pytest.raises(RateLimitExceeded) as info:
        for _ in range(5):
            ping()
    assert 0 < info.value.retry_after <= 30.0
