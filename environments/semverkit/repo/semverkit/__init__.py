"""semverkit: Semantic Versioning 2.0.0."""

from semverkit.errors import InvalidRange, InvalidVersion
from semverkit.ranges import satisfies
from semverkit.version import Version, parse

__all__ = ["InvalidRange", "InvalidVersion", "Version", "parse", "satisfies"]
