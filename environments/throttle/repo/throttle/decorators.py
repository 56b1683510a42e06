"""Decorators that guard a function with a limiter."""

import functools

from throttle.errors import RateLimitExceeded
from throttle.window import SlidingWindowLimiter


def rate_limited(limit, period, clock=None):
    """Allow at most ``limit`` calls per ``period`` seconds; raise RateLimitExceeded beyond that.

    The limiter is shared by all calls and exposed as ``func.limiter``.
    """
    limiter = SlidingWindowLimiter(limit, period, clock=clock)

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if not limiter.allow():
                raise RateLimitExceeded(limiter.retry_after())
            return func(*args, **kwargs)

        wrapper.limiter = limiter
        return wrapper

    return decorate
