"""Problem statements from pytest failure reports: the test's code and error, never the package's lines."""

from __future__ import annotations

from swe_srl.factory.statement import called_name, head_line, parse_failures, write_statement

REPORT = """\
=================================== FAILURES ===================================
_____________________________ test_sliding_window ______________________________
toolz/tests/test_itertoolz.py:12: in test_sliding_window
    assert list(sliding_window(2, [1, 2, 3, 4])) == [(1, 2), (2, 3), (3, 4)]
E   assert [] == [(1, 2), (2, 3), (3, 4)]
E     Right contains 3 more items
_______________________________ TestGet.test_bad _______________________________
toolz/tests/test_itertoolz.py:40: in test_bad
    value = get(5, data)
toolz/itertoolz.py:88: in get
    return seq[ind + 1]
E   IndexError: list index out of range
----------------------------- Captured stdout call -----------------------------
noise
=========================== short test summary info ============================
FAILED toolz/tests/test_itertoolz.py::test_sliding_window - assert [] == ...
"""
TESTS = ["toolz/tests/test_itertoolz.py::test_sliding_window", "toolz/tests/test_itertoolz.py::TestGet::test_bad"]


def test_head_line_matches_pytest_section_titles():
    assert head_line("a/test_x.py::TestGet::test_bad[1]") == "TestGet.test_bad[1]"


def test_parse_failures_keeps_test_frames_and_error_lines_only():
    failures = parse_failures(REPORT, TESTS)
    first = failures[TESTS[0]]
    assert first.code == ("assert list(sliding_window(2, [1, 2, 3, 4])) == [(1, 2), (2, 3), (3, 4)]",)
    assert first.error[0] == "assert [] == [(1, 2), (2, 3), (3, 4)]"
    assert first.exception == "AssertionError"
    second = failures[TESTS[1]]
    assert second.code == ("value = get(5, data)",)  # the package frame is not quoted
    assert second.error == ("IndexError: list index out of range",)
    assert second.exception == "IndexError"


def test_statement_names_the_call_and_never_the_changed_line():
    failure = parse_failures(REPORT, TESTS)[TESTS[1]]
    text = write_statement(failure, package="toolz", others=[TESTS[0]], forbidden=["    return seq[ind + 1]"],
                           seed="x")
    assert "`get`" in text and "IndexError" in text and "value = get(5, data)" in text
    assert "seq[ind + 1]" not in text
    assert TESTS[0] in text


def test_forbidden_lines_are_dropped_even_from_test_frames():
    failure = parse_failures(REPORT, TESTS)[TESTS[0]]
    text = write_statement(failure, package="toolz", others=[],
                           forbidden=["assert list(sliding_window(2, [1, 2, 3, 4])) == [(1, 2), (2, 3), (3, 4)]"],
                           seed="y")
    assert "sliding_window(2, [1, 2, 3, 4])" not in text


def test_called_name_skips_builtins_and_reads_raises():
    assert called_name("assert list(sliding_window(2, x)) == y") == "sliding_window"
    assert called_name("assert raises(TypeError, apply)") == "apply"
    assert called_name("x = (") is None
