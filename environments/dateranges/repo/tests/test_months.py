from datetime import date

from dateranges import DateRange, add_months, month_end, month_start, split_by_month


def test_month_start():
    assert month_start(date(2024, 7, 19)) == date(2024, 7, 1)


def test_month_end_handles_leap_years():
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert month_end(date(2023, 2, 10)) == date(2023, 2, 28)


def test_month_end_thirty_day_month():
    assert month_end(date(2024, 4, 1)) == date(2024, 4, 30)


def test_add_months_clamps():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 5, 15), -3) == date(2024, 2, 15)


def test_split_by_month_first_quarter():
    pieces = split_by_month(DateRange(date(2024, 1, 15), date(2024, 3, 10)))
    assert [str(p) for p in pieces] == [
        "2024-01-15..2024-01-31",
        "2024-02-01..2024-02-29",
        "2024-03-01..2024-03-10",
    ]


def test_split_within_one_month():
    span = DateRange(date(2024, 6, 3), date(2024, 6, 9))
    assert split_by_month(span) == [span]
