"""Parse durations such as "1h30m", "90s", "2 days, 3 hours" or "1.5h"."""

import re

from humantime.errors import DurationError
from humantime.units import lookup

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]+)")
_SEPARATORS = re.compile(r"[\s,]+|\band\b")


def parse_duration(text):
    """Seconds in ``text`` (an int when whole). A bare number is taken as seconds."""
    text = text.strip()
    if not text:
        raise DurationError("empty duration")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return _whole(float(text))
    total = 0.0
    position = 0
    for match in _PART.finditer(text):
        if _SEPARATORS.sub("", text[position:match.start()]):
            raise DurationError(f"cannot parse {text[position:match.start()]!r} in {text!r}")
        unit = lookup(match.group(2))
        if unit is None:
            raise DurationError(f"unknown unit {match.group(2)!r} in {text!r}")
        total += float(match.group(1)) * unit.seconds
        position = match.end()
    if position == 0 or _SEPARATORS.sub("", text[position:]):
        raise DurationError(f"cannot parse {text!r}")
    return _whole(total)


def _whole(value):
    return int(value) if value.is_integer() else value
