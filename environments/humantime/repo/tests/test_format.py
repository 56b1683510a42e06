import pytest

from humantime import DurationError, format_duration
from humantime.format import split


def test_split():
    assert [(n, u.name) for n, u in split(90061)] == [(1, "day"), (1, "hour"), (1, "minute"), (1, "second")]


def test_plural_units():
    assert format_duration(9000) == "2 hours, 30 minutes"
    assert format_duration(2 * 86400 + 5 * 3600) == "2 days, 5 hours"


def test_short_form():
    assert format_duration(5400, short=True) == "1h 30m"
    assert format_duration(93784, max_units=4, short=True) == "1d 2h 3m 4s"


def test_zero():
    assert format_duration(0) == "0 seconds"
    assert format_duration(0, short=True) == "0s"


def test_max_units_truncates():
    assert format_duration(2 * 86400 + 7 * 3600 + 59 * 60, max_units=1) == "2 days"


def test_negative_is_rejected():
    with pytest.raises(DurationError):
        format_duration(-5)
