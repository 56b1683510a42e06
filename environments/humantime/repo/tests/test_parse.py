import pytest

from humantime import DurationError, parse_duration


def test_compact_forms():
    assert parse_duration("1h30m") == 5400
    assert parse_duration("90s") == 90
    assert parse_duration("2w") == 1209600


def test_words_and_separators():
    assert parse_duration("2 days, 3 hours") == 183600
    assert parse_duration("1 hour and 5 minutes") == 3900
    assert parse_duration("3 hrs 2 mins") == 10920


def test_fractions():
    assert parse_duration("1.5h") == 5400
    assert parse_duration("0.5s") == 0.5


def test_bare_number_is_seconds():
    assert parse_duration(" 42 ") == 42


def test_unknown_unit():
    with pytest.raises(DurationError, match="unknown unit"):
        parse_duration("3 fortnights")


def test_garbage_between_parts():
    with pytest.raises(DurationError):
        parse_duration("1h plus 3m")


def test_empty():
    with pytest.raises(DurationError):
        parse_duration("   ")
