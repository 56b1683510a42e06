"""Exceptions raised by throttle."""


class RateLimitExceeded(RuntimeError):
    """A call was refused; ``retry_after`` says how many seconds until one would be allowed."""

    def __init__(self, retry_after):
        self.retry_after = retry_after
        super().__init__(f"rate limit exceeded; retry in {retry_after:.3f}s")
