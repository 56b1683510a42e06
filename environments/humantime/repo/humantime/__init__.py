"""humantime: human-readable durations."""

from humantime.errors import DurationError
from humantime.format import format_duration
from humantime.parse import parse_duration

__all__ = ["DurationError", "format_duration", "parse_duration"]
