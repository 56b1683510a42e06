"""throttle: rate limiters with an injectable clock."""

from throttle.bucket import TokenBucket
from throttle.clock import FakeClock, MonotonicClock
from throttle.decorators import rate_limited
from throttle.errors import RateLimitExceeded
from throttle.window import SlidingWindowLimiter

__all__ = [
    "FakeClock",
    "MonotonicClock",
    "RateLimitExceeded",
    "SlidingWindowLimiter",
    "TokenBucket",
    "rate_limited",
]
