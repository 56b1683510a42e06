"""A token bucket: tokens refill at ``rate`` per second up to ``capacity``."""

from throttle.clock import MonotonicClock


class TokenBucket:
    def __init__(self, rate, capacity, clock=None):
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity)
        self.clock = clock or MonotonicClock()
        self._tokens = float(capacity)
        self._updated = self.clock.now()

    def _refill(self):
        now = self.clock.now()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    @property
    def tokens(self):
        self._refill()
        return self._tokens

    def consume(self, amount=1.0):
        """Take ``amount`` tokens if there are enough; return whether they were taken."""
        if amount > self.capacity:
            raise ValueError(f"cannot take {amount} tokens from a bucket of {self.capacity}")
        self._refill()
        if self._tokens >= amount:
            self._tokens -= amount
            return True
        return False

    def wait_time(self, amount=1.0):
        """Seconds until ``amount`` tokens are available."""
        self._refill()
        missing = amount - self._tokens
        return max(0.0, missing / self.rate)
