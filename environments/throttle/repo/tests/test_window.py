import pytest

from throttle import FakeClock, SlidingWindowLimiter


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        SlidingWindowLimiter(limit=0, period=1)
    with pytest.raises(ValueError):
        SlidingWindowLimiter(limit=1, period=0)


def test_first_call_is_allowed():
    limiter = SlidingWindowLimiter(limit=2, period=1.0, clock=FakeClock())
    assert limiter.allow() is True


def test_eventually_refuses_a_burst():
    limiter = SlidingWindowLimiter(limit=3, period=1.0, clock=FakeClock())
    results = [limiter.allow() for _ in range(10)]
    assert results[0] is True
    assert results[-1] is False


def test_window_slides():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=2, period=10.0, clock=clock)
    while limiter.allow():
        pass
    clock.advance(10.0)
    assert limiter.allow() is True


def test_retry_after_counts_down():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=1, period=5.0, clock=clock)
    while limiter.allow():
        pass
    clock.advance(2.0)
    assert limiter.retry_after() == pytest.approx(3.0)


def test_reset_clears_history():
    limiter = SlidingWindowLimiter(limit=1, period=60.0, clock=FakeClock())
    while limiter.allow():
        pass
    limiter.reset()
    assert limiter.allow() is True
