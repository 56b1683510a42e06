from querybuild import URL


def test_join_normalises_slashes():
    url = URL("https://api.example.com/v1/").join("/items/", 42)
    assert str(url) == "https://api.example.com/v1/items/42"


def test_with_query_replaces():
    url = URL("https://example.com/search?old=1").with_query(q="shoes", page=2)
    assert str(url) == "https://example.com/search?q=shoes&page=2"


def test_add_query_appends():
    url = URL("https://example.com/search?q=shoes").add_query(page=3)
    assert url.query == "q=shoes&page=3"


def test_with_query_options():
    url = URL("https://example.com/x").with_query_options({"ids": [1, 2]}, expand_lists=False, safe=",")
    assert str(url) == "https://example.com/x?ids=1,2"


def test_equality_and_hash():
    assert URL("https://example.com/a") == URL("https://example.com/a")
    assert len({URL("https://example.com/a"), URL("https://example.com/a")}) == 1
