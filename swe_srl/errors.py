"""The one exception family of swe-srl. Every message says what, where, and what to do."""

from __future__ import annotations


class SweSrlError(Exception):
    """Base of every error swe-srl raises on purpose."""


class DataError(SweSrlError):
    """Bad outside data: names the file, the line or row, and the field."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.source is not None:
            where = str(self.source)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        if self.field is not None:
            where += f"field '{self.field}': "
        return where + self.message


class ConfigError(SweSrlError):
    """A configuration value or preset that cannot be used."""


class SandboxError(SweSrlError):
    """A sandbox could not be started, used or cleaned up."""


class ActionParseError(SweSrlError):
    """Text that does not hold exactly one well-formed action."""


class PackageError(SweSrlError):
    """A package could not be made into an environment or into tasks; names the package, the stage and why."""

    def __init__(self, package: str, message: str, *, stage: str = "") -> None:
        self.package = package
        self.stage = stage
        super().__init__(f"{package}: {message}")
