"""Version ranges: ">=1.2.0,<2.0.0", "^1.2.3", "~1.2.3", "1.2.x", "*"."""

import re

from semverkit.errors import InvalidRange, InvalidVersion
from semverkit.version import Version, parse

_COMPARATOR = re.compile(r"^(>=|<=|>|<|=|==|!=)?\s*(.+)$")
_WILDCARD = re.compile(r"^(\d+)\.(?:(\d+)\.)?[xX*]$")


def _bounds(term):
    """(low, high) with high exclusive, for caret, tilde and wildcard terms; None otherwise."""
    if term in ("*", "x", "X"):
        return Version(0, 0, 0), None
    match = _WILDCARD.match(term)
    if match:
        major = int(match.group(1))
        if match.group(2) is None:
            return Version(major, 0, 0), Version(major + 1, 0, 0)
        minor = int(match.group(2))
        return Version(major, minor, 0), Version(major, minor + 1, 0)
    if term[0] in "^~":
        base = parse(term[1:])
        if term[0] == "~":
            return base, Version(base.major, base.minor + 1, 0)
        if base.major > 0:
            return base, Version(base.major + 1, 0, 0)
        if base.minor > 0:
            return base, Version(0, base.minor + 1, 0)
        return base, Version(0, 0, base.patch + 1)
    return None


def _term_holds(version, term):
    bounds = _bounds(term)
    if bounds is not None:
        low, high = bounds
        return low <= version and (high is None or version < high)
    match = _COMPARATOR.match(term)
    op, other = match.group(1) or "=", parse(match.group(2))
    return {
        ">=": version >= other,
        "<=": version <= other,
        ">": version > other,
        "<": version < other,
        "=": version == other,
        "==": version == other,
        "!=": version != other,
    }[op]


def satisfies(version, spec):
    """Whether ``version`` (a Version or text) meets every comma-separated term of ``spec``."""
    if isinstance(version, str):
        version = parse(version)
    terms = [t.strip() for t in spec.split(",") if t.strip()]
    if not terms:
        raise InvalidRange(f"empty range: {spec!r}")
    try:
        return all(_term_holds(version, term) for term in terms)
    except InvalidVersion as err:
        raise InvalidRange(f"bad range {spec!r}: {err}") from None
