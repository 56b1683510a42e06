"""lrukit: a dict-like LRU cache."""

from lrukit.cache import LRUCache
from lrukit.errors import CacheMiss
from lrukit.memo import memoize
from lrukit.stats import CacheInfo

__all__ = ["CacheInfo", "CacheMiss", "LRUCache", "memoize"]
