"""Parse the textual forms of a range."""

import re
from datetime import date

from dateranges.months import month_end
from dateranges.span import DateRange

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def _day(text):
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not an ISO date: {text!r}") from None


def parse_range(text):
    """Parse "YYYY-MM-DD..YYYY-MM-DD", a single day, a month "YYYY-MM" or a year "YYYY"."""
    text = text.strip()
    if ".." in text:
        start, _, end = text.partition("..")
        return DateRange(_day(start), _day(end))
    match = _MONTH.match(text)
    if match:
        first = date(int(match.group(1)), int(match.group(2)), 1)
        return DateRange(first, month_end(first))
    match = _YEAR.match(text)
    if match:
        year = int(match.group(1))
        return DateRange(date(year, 1, 1), date(year, 12, 31))
    day = _day(text)
    return DateRange(day, day)
