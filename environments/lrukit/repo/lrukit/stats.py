"""Hit and miss counters."""

from collections import namedtuple

CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])


class Counters:
    def __init__(self):
        self.hits = 0
        self.misses = 0

    def reset(self):
        self.hits = 0
        self.misses = 0
