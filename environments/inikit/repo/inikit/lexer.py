"""Classify the lines of an INI file."""

import re
from dataclasses import dataclass

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
_PAIR = re.compile(r"^(?P<key>[^=:\s][^=:]*?)\s*[=:]\s*(?P<value>.*)$")

COMMENT_PREFIXES = (";", "#")


@dataclass(frozen=True)
class Token:
    kind: str  # "section", "pair", "continuation", "blank", "comment" or "garbage"
    lineno: int
    name: str = ""
    value: str = ""


def tokenize(text):
    """Yield one Token per line of ``text``."""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            yield Token("blank", lineno)
        elif stripped.startswith(COMMENT_PREFIXES):
            yield Token("comment", lineno, value=stripped[1:].strip())
        elif raw[0] in " \t":
            yield Token("continuation", lineno, value=stripped)
        else:
            match = _SECTION.match(stripped)
            if match:
                yield Token("section", lineno, name=match.group("name").strip())
                continue
            match = _PAIR.match(stripped)
            if match:
                yield Token("pair", lineno, name=match.group("key").strip(), value=match.group("value").strip())
            else:
                yield Token("garbage", lineno, value=stripped)
