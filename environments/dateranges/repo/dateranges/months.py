"""Calendar-month helpers."""

from datetime import date, timedelta

from dateranges.span import DateRange


def month_start(day):
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def month_end(day):
    """The last day of ``day``'s month."""
    first_of_next = date(day.year, day.month + 1, 1)
    return first_of_next - timedelta(days=1)


def add_months(day, months):
    """``day`` moved by ``months`` calendar months, clamped to the end of a shorter month."""
    years, month_index = divmod(day.month - 1 + months, 12)
    first = date(day.year + years, month_index + 1, 1)
    return first.replace(day=min(day.day, month_end(first).day))


def split_by_month(span):
    """Split a DateRange into one DateRange per calendar month it touches."""
    pieces = []
    start = span.start
    while start <= span.end:
        end = min(month_end(start), span.end)
        pieces.append(DateRange(start, end))
        start = end + timedelta(days=1)
    return pieces
