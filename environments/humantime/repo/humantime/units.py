"""The units of time humantime knows, largest first."""

from dataclasses import dataclass
from typing import Tuple


@dataclass(frozen=True)
class Unit:
    name: str  # singular, e.g. "hour"
    short: str  # e.g. "h"
    seconds: int
    aliases: Tuple[str, ...] = ()


UNITS = (
    Unit("week", "w", 7 * 24 * 3600, ("wk", "wks")),
    Unit("day", "d", 24 * 3600),
    Unit("hour", "h", 3600, ("hr", "hrs")),
    Unit("minute", "m", 60, ("min", "mins")),
    Unit("second", "s", 1, ("sec", "secs")),
)


def lookup(word):
    """The Unit named by ``word`` (singular, plural, short form or alias), or None."""
    word = word.lower()
    for unit in UNITS:
        if word in (unit.name, unit.name + "s", unit.short, *unit.aliases):
            return unit
    return None
