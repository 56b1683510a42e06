"""The suite at base, run twice: which tests pass reliably, how long it takes, what each one calls."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from swe_srl.errors import PackageError
from swe_srl.factory.runner import SuiteRun, ValidationContainer
from swe_srl.images.sdist import is_test_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Baseline:
    """Reliable passing tests at base and the functions each of them calls."""

    passing: frozenset[str]  # passed in both runs (and gradable: a test file, no spaces in the id)
    flaky: frozenset[str]  # differed between the two runs: never used
    failing: int  # tests that did not pass at base (failed, errored, skipped)
    seconds: float  # wall time of the plain run
    callers: dict[str, frozenset[str]] = field(default_factory=dict)  # "path::qualname" -> passing tests

    def tests_calling(self, path: str, qualname: str) -> frozenset[str]:
        return self.callers.get(f"{path}::{qualname}", frozenset())


def usable_test_id(node_id: str) -> bool:
    """A node id the harness's log parser reads back whole, in a test module (not a doctest)."""
    path, sep, _ = node_id.partition("::")
    return bool(sep) and not any(c.isspace() for c in node_id) and is_test_file(path)


def flaky_tests(first: SuiteRun, second: SuiteRun) -> set[str]:
    """Tests whose status differs between two runs of the same tree (missing counts as a status)."""
    names = set(first.statuses) | set(second.statuses)
    return {t for t in names if first.statuses.get(t) != second.statuses.get(t)}


def run_baseline(container: ValidationContainer, spec: str, timeout: float) -> Baseline:
    """Run the whole suite twice (the second time recording calls); PackageError when unusable."""
    first = container.pytest(None, timeout)
    if first.timed_out:
        raise PackageError(spec, f"the test suite did not finish within {timeout:.0f} s at base", stage="baseline")
    if not first.statuses:
        tail = "\n".join(first.output.strip().splitlines()[-8:])
        raise PackageError(spec, f"pytest found no tests to run at base (exit {first.exit_code}):\n{tail}",
                           stage="baseline")
    second = container.pytest(None, timeout, calls=True)
    if second.timed_out:
        raise PackageError(spec, f"the test suite did not finish within {timeout:.0f} s at base (second run)",
                           stage="baseline")
    flaky = flaky_tests(first, second)
    passing = {t for t in first.passed() & second.passed() if usable_test_id(t)} - flaky
    if not passing:
        raise PackageError(spec, f"no test passes at base ({len(first.statuses)} ran); "
                           "missing test requirements?", stage="baseline")
    callers: dict[str, set[str]] = defaultdict(set)
    for test, functions in container.calls().items():
        if test in passing:
            for function in functions:
                callers[function].add(test)
    if not callers:
        log.warning("%s: the call recorder saw no calls; every candidate will run the whole suite", spec)
    log.info("%s: %d passing tests at base, %d flaky, %d not passing, suite %.1fs",
             spec, len(passing), len(flaky), len(first.statuses) - len(first.passed()), first.seconds)
    return Baseline(
        passing=frozenset(passing), flaky=frozenset(flaky), failing=len(first.statuses) - len(first.passed()),
        seconds=first.seconds, callers={k: frozenset(v) for k, v in callers.items()},
    )
