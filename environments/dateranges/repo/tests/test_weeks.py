from datetime import date

from dateranges import DateRange, split_by_week, week_start


def test_week_start_is_monday():
    assert week_start(date(2024, 1, 7)) == date(2024, 1, 1)  # a Sunday
    assert week_start(date(2024, 1, 1)) == date(2024, 1, 1)


def test_split_by_week():
    pieces = split_by_week(DateRange(date(2024, 1, 5), date(2024, 1, 16)))
    assert [str(p) for p in pieces] == [
        "2024-01-05..2024-01-07",
        "2024-01-08..2024-01-14",
        "2024-01-15..2024-01-16",
    ]
