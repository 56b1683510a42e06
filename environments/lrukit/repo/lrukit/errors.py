"""Exceptions raised by lrukit."""


class CacheMiss(LookupError):
    """The key is not in the cache."""

    def __init__(self, key):
        self.key = key
        super().__init__(key)
