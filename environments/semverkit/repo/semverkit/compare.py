"""Precedence (semver.org section 11)."""


def compare_prerelease(left, right):
    """-1, 0 or 1 comparing two pre-release identifier tuples; () means "no pre-release"."""
    if left == right:
        return 0
    # A version without a pre-release has higher precedence than one with.
    if not left:
        return 1
    if not right:
        return -1
    for a, b in zip(left, right):
        if a == b:
            continue
        return -1 if a < b else 1
    # All shared identifiers are equal: the longer list wins.
    return -1 if len(left) < len(right) else 1


def compare(left, right):
    """-1, 0 or 1 comparing two Versions; build metadata is ignored."""
    core_left = (left.major, left.minor, left.patch)
    core_right = (right.major, right.minor, right.patch)
    if core_left != core_right:
        return -1 if core_left < core_right else 1
    return compare_prerelease(left.prerelease, right.prerelease)
