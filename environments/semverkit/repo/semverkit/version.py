"""The Version record and its parser."""

import functools
import re
from dataclasses import dataclass
from typing import Tuple

from semverkit.compare import compare
from semverkit.errors import InvalidVersion

_SEMVER = re.compile(
    r"^(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: Tuple[str, ...] = ()
    build: Tuple[str, ...] = ()

    def __str__(self):
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def __eq__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return compare(self, other) == 0

    def __lt__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return compare(self, other) < 0

    def __hash__(self):
        return hash((self.major, self.minor, self.patch, self.prerelease))

    def bump_major(self):
        return Version(self.major + 1, 0, 0)

    def bump_minor(self):
        return Version(self.major, self.minor + 1, 0)

    def bump_patch(self):
        if self.prerelease:  # 1.2.3-rc.1 -> 1.2.3: the release it was a candidate for
            return Version(self.major, self.minor, self.patch)
        return Version(self.major, self.minor, self.patch + 1)

    def bump_prerelease(self, label="rc"):
        """1.2.3 -> 1.2.4-rc.1; 1.2.4-rc.1 -> 1.2.4-rc.2."""
        if not self.prerelease:
            return Version(self.major, self.minor, self.patch + 1, (label, "1"))
        *head, last = self.prerelease
        if last.isdigit():
            return Version(self.major, self.minor, self.patch, (*head, str(int(last) + 1)))
        return Version(self.major, self.minor, self.patch, (*self.prerelease, "1"))


def parse(text):
    """Parse a version like "1.2.3-beta.2+exp.sha.5114f85"."""
    match = _SEMVER.match(text.strip())
    if not match:
        raise InvalidVersion(f"not a semantic version: {text!r}")
    for ident in (match.group("pre") or "").split("."):
        if len(ident) > 1 and ident.isdigit() and ident.startswith("0"):
            raise InvalidVersion(f"numeric identifier with a leading zero in {text!r}")
    pre = tuple(match.group("pre").split(".")) if match.group("pre") else ()
    build = tuple(match.group("build").split(".")) if match.group("build") else ()
    return Version(int(match.group("major")), int(match.group("minor")), int(match.group("patch")), pre, build)
