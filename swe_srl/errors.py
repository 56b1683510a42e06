"""The one exception family of swe-srl. Every message says what, where, and what to do."""

from __future__ import annotations

import re
import reprlib

LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str only unpaired ones survive; JSON's "\\ud800" makes one
MAX_MESSAGE_CHARS = 2000  # an error message or report entry; outside text beyond it is cut
MAX_QUOTED_CHARS = 80  # one outside value quoted inside a message


def encodable(text: str) -> str:
    """``text`` with each lone surrogate (which no UTF-8 file, terminal or tokenizer takes) written
    as its escape, e.g. ``\\ud800``; JSON's ``\\ud800`` puts one in any string it decodes."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Outside text made safe to store or print: at most ``limit`` characters, with a marker
    saying how many were cut, and encodable."""
    if len(text) > limit:
        text = f"{text[:limit]}[... {len(text) - limit} more characters cut]"
    return encodable(text)


_QUOTE = reprlib.Repr()
_QUOTE.maxstring = _QUOTE.maxother = _QUOTE.maxlong = MAX_QUOTED_CHARS  # inside containers
_QUOTE.maxlevel = 3


def quoted(value: object) -> str:
    """A short repr of an outside value for a message, whatever its size, depth or type."""
    if isinstance(value, str):
        cut = len(value) - MAX_QUOTED_CHARS
        return repr(value[:MAX_QUOTED_CHARS]) + (f"[... {cut} more characters cut]" if cut > 0 else "")
    return _QUOTE.repr(value)


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
        self.message = clip(message)
        self.source = source
        self.line = line
        self.field = clip(field, MAX_QUOTED_CHARS) if field is not None else None
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
