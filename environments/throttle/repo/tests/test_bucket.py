import pytest

from throttle import FakeClock, TokenBucket


def test_starts_full():
    bucket = TokenBucket(rate=1.0, capacity=3, clock=FakeClock())
    assert bucket.tokens == 3


def test_consume_until_empty():
    bucket = TokenBucket(rate=1.0, capacity=2, clock=FakeClock())
    assert [bucket.consume() for _ in range(3)] == [True, True, False]


def test_refills_over_time_up_to_capacity():
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, capacity=4, clock=clock)
    bucket.consume(4)
    clock.advance(1.0)
    assert bucket.tokens == pytest.approx(2.0)
    clock.advance(100.0)
    assert bucket.tokens == pytest.approx(4.0)


def test_wait_time():
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, capacity=1, clock=clock)
    bucket.consume()
    assert bucket.wait_time() == pytest.approx(2.0)


def test_cannot_take_more_than_capacity():
    with pytest.raises(ValueError):
        TokenBucket(rate=1, capacity=1, clock=FakeClock()).consume(2)
