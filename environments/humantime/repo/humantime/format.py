"""Format a number of seconds for people."""

from humantime.errors import DurationError
from humantime.units import UNITS


def split(seconds):
    """(count, Unit) pairs for each non-zero unit, largest first."""
    if seconds < 0:
        raise DurationError("cannot format a negative duration")
    remaining = int(round(seconds))
    pieces = []
    for unit in UNITS:
        count, remaining = divmod(remaining, unit.seconds)
        if count:
            pieces.append((count, unit))
    return pieces


def format_duration(seconds, max_units=2, short=False):
    """E.g. "1 hour, 30 minutes" or, with ``short``, "1h 30m"; "0 seconds" for zero.

    Only the ``max_units`` largest non-zero units are shown; the rest is dropped, not rounded.
    """
    if max_units < 1:
        raise DurationError("max_units must be at least 1")
    pieces = split(seconds)[:max_units]
    if not pieces:
        return "0s" if short else "0 seconds"
    if short:
        return " ".join(f"{count}{unit.short}" for count, unit in pieces)
    parts = []
    for count, unit in pieces:
        parts.append(f"{count} {unit.name}" + "s" if count != 1 else "")
    return ", ".join(parts)
