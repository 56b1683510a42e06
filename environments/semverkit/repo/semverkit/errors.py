"""Exceptions raised by semverkit."""


class InvalidVersion(ValueError):
    """Text that is not a semantic version."""


class InvalidRange(ValueError):
    """Text that is not a version range."""
