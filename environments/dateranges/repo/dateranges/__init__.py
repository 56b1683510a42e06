"""dateranges: inclusive date ranges."""

from dateranges.months import add_months, month_end, month_start, split_by_month
from dateranges.parse import parse_range
from dateranges.span import DateRange
from dateranges.weeks import split_by_week, week_start

__all__ = [
    "DateRange",
    "add_months",
    "month_end",
    "month_start",
    "parse_range",
    "split_by_month",
    "split_by_week",
    "week_start",
]
