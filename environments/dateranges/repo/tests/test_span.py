from datetime import date

import pytest

from dateranges import DateRange


def test_length_includes_both_ends():
    assert len(DateRange(date(2024, 1, 1), date(2024, 1, 1))) == 1
    assert len(DateRange(date(2024, 1, 1), date(2024, 3, 31))) == 91


def test_iteration():
    days = list(DateRange(date(2024, 2, 27), date(2024, 3, 1)))
    assert days == [date(2024, 2, 27), date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]


def test_end_before_start_is_rejected():
    with pytest.raises(ValueError):
        DateRange(date(2024, 1, 2), date(2024, 1, 1))


def test_contains():
    span = DateRange(date(2024, 5, 1), date(2024, 5, 31))
    assert date(2024, 5, 31) in span
    assert date(2024, 6, 1) not in span


def test_intersection():
    a = DateRange(date(2024, 1, 1), date(2024, 1, 20))
    b = DateRange(date(2024, 1, 10), date(2024, 2, 1))
    assert a.intersection(b) == DateRange(date(2024, 1, 10), date(2024, 1, 20))
    assert a.intersection(DateRange(date(2024, 3, 1), date(2024, 3, 2))) is None


def test_str():
    assert str(DateRange(date(2024, 1, 1), date(2024, 1, 7))) == "2024-01-01..2024-01-07"
