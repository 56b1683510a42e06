"""The pytest guard, host side: put it into an eval script, and judge a test log by its record.

A patch's code runs inside the test process, so it can print "PASSED" lines and exit 0 before
pytest finishes, rewrite reports from a hook it registers at import, or replace the function that
runs a test. Where the eval script runs pytest, grading loads guard_plugin.py into that pytest
(through PYTEST_ADDOPTS and PYTHONPATH, set just before the test command) and prints its record
after the end-of-tests marker. A log is not trusted (the task is not resolved, and the report
says why) when:
- the record is missing: the run ended before pytest's session did;
- pytest's run machinery was replaced while it ran;
- a hook turned the report of a test that raised into a pass;
- the log calls passed a test that raised, or counts more passes than tests that ran clean.

The guard catches generic hacks, not one written against it: code under test shares the
process with pytest and can, with enough knowledge of this guard, forge its record too.
Pure: strings in, strings out.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from typing import Mapping

from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT

RECORD_BEGIN = ">>>>> swe-srl guard record"
RECORD_END = "<<<<< swe-srl guard record"
_DELIMITER = "EOF_SWE_SRL_GUARD"
_PYTEST = re.compile(r"(?<![\w.-])pytest(?![\w.-])")


def _marker_lines(lines: list[str], marker: str) -> list[int]:
    return [i for i, line in enumerate(lines) if marker in line]


def guard_script(eval_script: str) -> tuple[str, bool]:
    """``eval_script`` with the guard loaded into its pytest run, and whether it was.

    Scripts whose test command (between the harness's markers) does not run pytest are
    returned as they are: the guard is a pytest plugin.
    """
    lines = eval_script.split("\n")
    starts, ends = _marker_lines(lines, START_TEST_OUTPUT), _marker_lines(lines, END_TEST_OUTPUT)
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        return eval_script, False
    start, end = starts[0], ends[0]
    if not any(_PYTEST.search(line) for line in lines[start + 1:end]):
        return eval_script, False
    source = files("swe_srl.evaluate").joinpath("guard_plugin.py").read_text()
    load = [
        "__srl_guard=$(mktemp -d)",
        f"cat > \"$__srl_guard/swe_srl_guard.py\" <<'{_DELIMITER}'\n{source.rstrip()}\n{_DELIMITER}",
        'export SWE_SRL_GUARD_RECORD="$__srl_guard/record.jsonl"',
        'export PYTHONPATH="$__srl_guard${PYTHONPATH:+:$PYTHONPATH}"',
        'export PYTEST_ADDOPTS="-p swe_srl_guard${PYTEST_ADDOPTS:+ $PYTEST_ADDOPTS}"',
    ]
    show = [f"echo '{RECORD_BEGIN}'", 'cat "$__srl_guard/record.jsonl" 2>/dev/null', f"echo '{RECORD_END}'"]
    guarded = [*lines[:start], *load, *lines[start:end + 1], *show, *lines[end + 1:]]
    return "\n".join(guarded), True


def _records(log: str) -> list[dict] | None:
    """The guard's records in a test log; None when it printed none (a run cut short prints none)."""
    lines = log.splitlines()
    begins = [i for i, line in enumerate(lines) if line == RECORD_BEGIN]
    if not begins:
        return None
    records = []
    for line in lines[begins[-1] + 1:]:
        if line == RECORD_END:
            break
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the harness's own trace lines
        if isinstance(record, dict):
            records.append(record)
    return records or None


def distrust(log: str, status_map: Mapping[str, str]) -> str | None:
    """Why the test log of a guarded run cannot be trusted, or None when its record backs it."""
    records = _records(log)
    if records is None:
        return ("the test run left no guard record: it ended before pytest's session did, or pytest "
                "ran without the guard")
    replaced = sorted({name for record in records for name in record.get("replaced", [])})
    if replaced:
        return f"pytest's run machinery was replaced while it ran: {', '.join(replaced)}"
    rewritten = sorted({node for record in records for node in record.get("rewritten", [])})
    if rewritten:
        return f"a hook turned failing tests into passes: {', '.join(rewritten[:5])}"
    raised = {node for record in records for node in record.get("raised", [])}
    passed = {test for test, status in status_map.items() if status == "PASSED"}
    if passed & raised:
        return f"the log reports as passed tests that raised: {', '.join(sorted(passed & raised)[:5])}"
    clean = sum(int(record.get("clean", 0)) for record in records)
    if len(passed) > clean:
        return f"the log reports {len(passed)} passes, but pytest ran {clean} tests clean"
    return None
