from lrukit import memoize
from lrukit.keys import make_key


def test_memoize_caches_results():
    calls = []

    @memoize(maxsize=8)
    def square(x):
        calls.append(x)
        return x * x

    assert [square(3), square(3), square(4)] == [9, 9, 16]
    assert calls == [3, 4]
    assert square.cache_info().hits == 1


def test_memoize_recursive():
    @memoize()
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    assert fib(80) == 23416728348467685


def test_cache_clear():
    @memoize()
    def ident(x):
        return x

    ident(1)
    ident.cache_clear()
    assert ident.cache_info().currsize == 0


def test_typed_keys():
    assert make_key((1,), {}) == make_key((1.0,), {})
    assert make_key((1,), {}, typed=True) != make_key((1.0,), {}, typed=True)
    assert make_key((), {"b": 1, "a": 2}) == make_key((), {"a": 2, "b": 1})
