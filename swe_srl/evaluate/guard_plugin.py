"""swe-srl's pytest guard: shipped into the grading container as text and loaded there by pytest.

swe_srl never imports this module; guard.py reads its source into the eval script. It runs
with the task's own Python (3.6 onwards) and pytest, so it uses nothing newer than both.

It appends a record (one JSON line per pytest session) of what pytest itself saw to the file
named by SWE_SRL_GUARD_RECORD when the session ends: the tests whose call raised (by pytest's own exception info, beneath any hook that
rewrites reports afterwards), how many ran clean, reports that hooks turned from failed into
passed, and parts of pytest's run machinery that were replaced while it ran. Grading compares the
record with the log (guard.py). A run that ends before the session does leaves no record.
"""

import json
import os

import _pytest.python
import _pytest.reports
import _pytest.runner
import _pytest.unittest
import pytest

_RECORD = os.environ.get("SWE_SRL_GUARD_RECORD", "")


def _machinery():
    """The functions that run a test and make its report, by name."""
    return {
        "_pytest.runner.call_and_report": _pytest.runner.call_and_report,
        "_pytest.runner.runtestprotocol": _pytest.runner.runtestprotocol,
        "_pytest.runner.CallInfo.from_call": _pytest.runner.CallInfo.__dict__.get("from_call"),
        "_pytest.reports.TestReport.from_item_and_call":
            _pytest.reports.TestReport.__dict__.get("from_item_and_call"),
        "_pytest.python.Function.runtest": _pytest.python.Function.__dict__.get("runtest"),
        "_pytest.python.pytest_pyfunc_call": _pytest.python.pytest_pyfunc_call,
        "_pytest.unittest.TestCaseFunction.runtest": _pytest.unittest.TestCaseFunction.__dict__.get("runtest"),
    }


_ORIGINAL = _machinery()
_SKIPS = tuple(kind for kind in (getattr(pytest.skip, "Exception", None), getattr(pytest.xfail, "Exception", None))
               if kind is not None)
_raised = set()  # node ids whose setup or call raised (and did not pass on a later run, as rerun plugins do)
_clean = set()  # node ids whose call ran without raising
_rewritten = set()  # node ids a hook reported as passed although they raised
_raising = set()  # (node id, phase) whose last run raised: its report of that phase must not say passed


def _raised_in(item, call):
    if call.excinfo is None or call.excinfo.errisinstance(_SKIPS):
        return False
    return item.get_closest_marker("xfail") is None if hasattr(item, "get_closest_marker") else True


class _Watch:
    """The innermost report wrapper: sees pytest's own exception info and the report as made.

    Registered once collection is done, after conftests and the code under test were imported,
    so a wrapper those add at import sits outside it (pluggy runs the last trylast wrapper
    innermost)."""

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        raised = call.when != "teardown" and _raised_in(item, call)  # a teardown error has a report of its own
        if raised:
            _raised.add(item.nodeid)
            _raising.add((item.nodeid, call.when))
        else:
            _raising.discard((item.nodeid, call.when))
            if call.when == "call":
                _raised.discard(item.nodeid)
                _clean.add(item.nodeid)
        if raised and getattr(outcome.get_result(), "outcome", None) == "passed":
            _rewritten.add(item.nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report):
        """Last to see a report: passed for a phase that raised means a hook rewrote it on the way (the passed
        teardown report of a test whose call failed is no such thing)."""
        if (report.nodeid, report.when) in _raising and report.outcome == "passed":
            _rewritten.add(report.nodeid)


def pytest_collection_finish(session):
    session.config.pluginmanager.register(_Watch(), "swe-srl-guard-watch")


def pytest_sessionfinish(session, exitstatus):
    if not _RECORD:
        return
    now = _machinery()
    replaced = sorted(name for name, function in now.items() if function is not _ORIGINAL[name])
    record = {
        "exitstatus": int(exitstatus),
        "raised": sorted(_raised),
        "clean": len(_clean - _raised),
        "rewritten": sorted(_rewritten),
        "replaced": replaced,
    }
    with open(_RECORD, "a") as handle:
        handle.write(json.dumps(record) + "\n")
