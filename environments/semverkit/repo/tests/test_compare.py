from semverkit import parse


def test_core_numbers_compare_numerically():
    assert parse("1.10.0") > parse("1.9.3")
    assert max(map(parse, ["1.0.0", "1.10.0", "1.9.3"])) == parse("1.10.0")


def test_prerelease_sorts_before_release():
    assert parse("1.0.0-rc.1") < parse("1.0.0")


def test_alphanumeric_identifiers_compare_lexically():
    assert parse("1.0.0-alpha") < parse("1.0.0-beta")
    assert parse("1.0.0-alpha.beta") < parse("1.0.0-beta")


def test_longer_prerelease_wins_when_prefix_equal():
    assert parse("1.0.0-alpha") < parse("1.0.0-alpha.1")


def test_build_metadata_is_ignored():
    assert parse("1.0.0+a") == parse("1.0.0+b")
    assert hash(parse("1.0.0+a")) == hash(parse("1.0.0+b"))
