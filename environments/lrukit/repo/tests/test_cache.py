import pytest

from lrukit import CacheMiss, LRUCache


def test_evicts_least_recently_used():
    cache = LRUCache(maxsize=2)
    cache["a"] = 1
    cache["b"] = 2
    assert cache["a"] == 1
    cache["c"] = 3
    assert list(cache) == ["a", "c"]


def test_overwrite_refreshes_recency():
    cache = LRUCache(maxsize=2)
    cache["a"] = 1
    cache["b"] = 2
    cache["a"] = 10
    cache["c"] = 3
    assert dict(cache) == {"a": 10, "c": 3}


def test_missing_key_raises_cache_miss():
    cache = LRUCache()
    with pytest.raises(CacheMiss) as info:
        cache["nope"]
    assert info.value.key == "nope"


def test_contains_does_not_touch_recency():
    cache = LRUCache(maxsize=2)
    cache["a"] = 1
    cache["b"] = 2
    assert "a" in cache
    cache["c"] = 3
    assert "a" not in cache


def test_on_evict_callback():
    evicted = []
    cache = LRUCache(maxsize=1, on_evict=lambda k, v: evicted.append((k, v)))
    cache["a"] = 1
    cache["b"] = 2
    assert evicted == [("a", 1)]


def test_info_counts_hits_and_misses():
    cache = LRUCache(maxsize=4)
    cache["a"] = 1
    cache["a"]
    with pytest.raises(CacheMiss):
        cache["b"]
    assert cache.info() == (1, 1, 4, 1)


def test_peek_does_not_refresh():
    cache = LRUCache(maxsize=2)
    cache["a"] = 1
    cache["b"] = 2
    assert cache.peek("a") == 1
    cache["c"] = 3
    assert "a" not in cache


def test_update_and_len():
    cache = LRUCache(maxsize=3)
    cache.update({"x": 1, "y": 2})
    assert len(cache) == 2


def test_bad_maxsize():
    with pytest.raises(ValueError):
        LRUCache(maxsize=0)
