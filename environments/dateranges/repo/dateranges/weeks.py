"""ISO-week helpers (weeks start on Monday)."""

from datetime import timedelta

from dateranges.span import DateRange


def week_start(day):
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def split_by_week(span):
    """Split a DateRange into pieces that each stay within one Monday-Sunday week."""
    pieces = []
    start = span.start
    while start <= span.end:
        end = min(week_start(start) + timedelta(days=6), span.end)
        pieces.append(DateRange(start, end))
        start = end + timedelta(days=1)
    return pieces
