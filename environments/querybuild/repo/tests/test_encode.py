from querybuild import encode_query, parse_query


def test_basic_encoding():
    assert encode_query({"q": "red shoes", "page": 2, "in_stock": True}) == "q=red+shoes&page=2&in_stock=true"


def test_reserved_characters_are_escaped():
    assert encode_query({"redirect": "/a?b=c&d"}) == "redirect=%2Fa%3Fb%3Dc%26d"


def test_safe_characters():
    assert encode_query({"path": "/a/b"}, safe="/") == "path=/a/b"


def test_none_is_skipped_by_default():
    assert encode_query({"a": None, "b": 1}) == "b=1"
    assert encode_query({"a": None}, skip_none=False) == "a="


def test_pairs_keep_order_and_duplicates():
    assert encode_query([("k", 1), ("k", 2)]) == "k=1&k=2"


def test_comma_joined_lists_on_request():
    assert encode_query({"ids": [1, 2, 3]}, expand_lists=False, safe=",") == "ids=1,2,3"


def test_explicit_expansion():
    assert encode_query({"tag": ("a", "b")}, expand_lists=True) == "tag=a&tag=b"


def test_parse_query():
    assert parse_query("?q=red+shoes&tag=a&tag=b&empty=") == {"q": ["red shoes"], "tag": ["a", "b"], "empty": [""]}
