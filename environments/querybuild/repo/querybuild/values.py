"""Turn single Python values into query-string text."""

import datetime
import enum


def to_text(value):
    """The text form of one scalar value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return to_text(value.value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def is_sequence(value):
    return isinstance(value, (list, tuple))
