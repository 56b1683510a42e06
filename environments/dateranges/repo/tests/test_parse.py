from datetime import date

import pytest

from dateranges import DateRange, parse_range


def test_explicit_range():
    assert parse_range("2024-01-10..2024-02-05") == DateRange(date(2024, 1, 10), date(2024, 2, 5))


def test_month_shorthand():
    assert parse_range("2024-02") == DateRange(date(2024, 2, 1), date(2024, 2, 29))


def test_year_shorthand():
    assert len(parse_range("2023")) == 365


def test_single_day():
    assert parse_range(" 2024-03-05 ") == DateRange(date(2024, 3, 5), date(2024, 3, 5))


def test_bad_date():
    with pytest.raises(ValueError, match="not an ISO date"):
        parse_range("2024-13-01..2024-12-31")
