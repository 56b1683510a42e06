"""LRUCache: a bounded MutableMapping that evicts the least recently used entry."""

from collections import OrderedDict
from collections.abc import MutableMapping

from lrukit.errors import CacheMiss
from lrukit.stats import CacheInfo, Counters


class LRUCache(MutableMapping):
    def __init__(self, maxsize=128, on_evict=None):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self.on_evict = on_evict
        self._data = OrderedDict()
        self._counters = Counters()

    def __getitem__(self, key):
        try:
            value = self._data[key]
        except KeyError:
            self._counters.misses += 1
            raise CacheMiss(key) from None
        self._data.move_to_end(key)
        self._counters.hits += 1
        return value

    def __setitem__(self, key, value):
        if key in self._data:
            self._data.move_to_end(key)
        self._data[key] = value
        while len(self._data) > self.maxsize:
            old_key, old_value = self._data.popitem(last=False)
            if self.on_evict is not None:
                self.on_evict(old_key, old_value)

    def __delitem__(self, key):
        try:
            del self._data[key]
        except KeyError:
            raise CacheMiss(key) from None

    def __contains__(self, key):
        # Looking is not using: membership tests do not refresh recency or count as hits.
        return key in self._data

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def peek(self, key):
        """The value for ``key`` without refreshing its recency."""
        try:
            return self._data[key]
        except KeyError:
            raise CacheMiss(key) from None

    def info(self):
        return CacheInfo(self._counters.hits, self._counters.misses, self.maxsize, len(self._data))

    def clear(self):
        self._data.clear()
        self._counters.reset()

    def __repr__(self):
        return f"LRUCache(maxsize={self.maxsize}, {dict(self._data)!r})"
