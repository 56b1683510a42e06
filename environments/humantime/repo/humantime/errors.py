"""Exceptions raised by humantime."""


class DurationError(ValueError):
    """Text that is not a duration, or a duration that cannot be formatted."""
