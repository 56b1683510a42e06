"""A sliding-window limiter: at most ``limit`` calls in any ``period`` seconds."""

from collections import deque

from throttle.clock import MonotonicClock


class SlidingWindowLimiter:
    def __init__(self, limit, period, clock=None):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if period <= 0:
            raise ValueError("period must be positive")
        self.limit = limit
        self.period = float(period)
        self.clock = clock or MonotonicClock()
        self._hits = deque()

    def _evict(self, now):
        # A hit exactly `period` seconds old has left the window.
        while self._hits and self._hits[0] <= now - self.period:
            self._hits.popleft()

    def allow(self):
        """Record a call and return True if it fits in the window, else return False."""
        now = self.clock.now()
        self._evict(now)
        if len(self._hits) <= self.limit:
            self._hits.append(now)
            return True
        return False

    def remaining(self):
        """How many more calls the current window accepts."""
        self._evict(self.clock.now())
        return self.limit - len(self._hits)

    def retry_after(self):
        """Seconds until a call would be allowed (0.0 if one is allowed now)."""
        now = self.clock.now()
        self._evict(now)
        if len(self._hits) < self.limit:
            return 0.0
        return self._hits[0] + self.period - now

    def reset(self):
        self._hits.clear()
