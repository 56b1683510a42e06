"""A memoizing decorator on top of LRUCache."""

import functools

from lrukit.cache import LRUCache
from lrukit.errors import CacheMiss
from lrukit.keys import make_key


def memoize(maxsize=128, typed=False):
    """Cache a function's results by its arguments (which must be hashable)."""

    def decorate(func):
        cache = LRUCache(maxsize=maxsize)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            key = make_key(args, kwargs, typed)
            try:
                return cache[key]
            except CacheMiss:
                pass
            result = func(*args, **kwargs)
            cache[key] = result
            return result

        wrapper.cache = cache
        wrapper.cache_info = cache.info
        wrapper.cache_clear = cache.clear
        return wrapper

    return decorate
