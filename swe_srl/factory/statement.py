"""Problem statements written from what breaks, without a model and without naming the changed line.

The source is the failing test's pytest report (--tb=short): the test's own frames (the call it
made and its inputs) and the `E` lines (what came back, what was expected, or what was raised).
Frames inside the package are never quoted, and any line holding the changed code is dropped.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import re
from dataclasses import dataclass

_SECTION = re.compile(r"^_{3,} (.+?) _{3,}$")
_FRAME = re.compile(r"^(\S+?\.py):(\d+): in (\S+)$")
_MAX_ERROR_LINES = 12


@dataclass(frozen=True)
class Failure:
    """What one failing test showed: its statement lines in the test file and the error lines."""

    test: str  # node id
    code: tuple[str, ...]  # source lines of the test's own frames, last one last
    error: tuple[str, ...]  # the `E` lines, prefix stripped

    @property
    def exception(self) -> str:
        """`AssertionError`, `TypeError`... (pytest prints asserts as `assert ...`)."""
        # The last one: with chained exceptions, the one that reached the test.
        for line in reversed(self.error):
            match = re.match(r"^([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt|Iteration))\b", line)
            if match:
                return match.group(1).rsplit(".", 1)[-1]
        return "AssertionError"


def head_line(node_id: str) -> str:
    """The title pytest gives a test's failure section: `Class.test[param]`."""
    return ".".join(node_id.split("::")[1:])


def parse_failures(output: str, tests: list[str]) -> dict[str, Failure]:
    """The failure sections of ``tests`` in a pytest --tb=short report."""
    wanted = {head_line(t): t for t in tests}
    found: dict[str, Failure] = {}
    current: str | None = None
    lines: list[str] = []

    def close() -> None:
        if current is not None and current in wanted:
            test = wanted[current]
            found[test] = _failure(test, lines)

    for line in output.splitlines():
        match = _SECTION.match(line)
        if match or line.startswith("=" * 5):
            close()
            current, lines = (match.group(1) if match else None), []
        elif current is not None:
            lines.append(line)
    close()
    return found


def _failure(test: str, lines: list[str]) -> Failure:
    test_file = test.split("::", 1)[0]
    code: list[str] = []
    error: list[str] = []
    in_test_frame = False
    for line in lines:
        if line.startswith("-" * 5):  # "----- Captured stdout call -----"
            break
        frame = _FRAME.match(line)
        if frame:
            in_test_frame = frame.group(1) == test_file
            continue
        if line.startswith("E "):
            error.append(re.sub(r"^E {0,3}", "", line).rstrip())
        elif in_test_frame and line.strip() and not line.startswith(">"):
            if not code or code[-1] != line.strip():  # chained tracebacks repeat the test's line
                code.append(line.strip())
    return Failure(test, tuple(code), tuple(e for e in error if e.strip()))


def called_name(code_line: str) -> str | None:
    """The first function a line of test code calls that is not a builtin or a test helper."""
    text = code_line.strip()
    if text.startswith("assert "):
        text = text[len("assert "):]
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    skip = {"list", "tuple", "set", "dict", "len", "sorted", "str", "repr", "int", "float", "iter", "next",
            "isinstance", "type", "range", "raises", "approx", "bool", "sum", "min", "max", "all", "any", "map"}
    def name_of(func: ast.AST) -> str | None:
        return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = name_of(node.func)
            if name and name not in skip and not name.startswith("assert"):
                return name
            if name == "raises" and len(node.args) >= 2:  # raises(Error, func, *args): func is the call
                passed = name_of(node.args[1])
                if passed:
                    return passed
    return None


def changed_lines(original: str, buggy: str) -> list[str]:
    """The lines a mutation removed and added (what no statement may quote)."""
    diff = difflib.unified_diff(original.splitlines(), buggy.splitlines(), lineterm="", n=0)
    return [line[1:] for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def _clean(lines: list[str], forbidden: list[str]) -> list[str]:
    bad = [f.strip() for f in forbidden if len(f.strip()) >= 6]
    return [line for line in lines if not any(b in line for b in bad)]


def write_statement(failure: Failure, *, package: str, others: list[str], forbidden: list[str], seed: str) -> str:
    """A user's bug report from a test failure. ``forbidden``: lines (old and new) of the change."""
    code = _clean(list(failure.code), forbidden)[-4:]
    error = _clean(list(failure.error), forbidden)[:_MAX_ERROR_LINES]
    name = next((n for n in (called_name(c) for c in reversed(code)) if n), None)
    test_name = failure.test.split("::")[-1]
    subject = f"`{name}`" if name else f"the behaviour checked by `{test_name}`"
    exception = failure.exception
    pick = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    if exception == "AssertionError":
        titles = [f"{subject} returns the wrong result", f"Unexpected result from {subject}",
                  f"{subject} no longer gives the expected value"]
        what = "The result is not what it should be:"
    else:
        titles = [f"{subject} raises {exception}", f"{exception} from {subject}",
                  f"Calling {subject} fails with {exception}"]
        what = f"It raises {exception} instead:"
    intros = [f"I am using {package} and ran into this.", f"Something seems off in {package}.",
              f"While working with {package} I noticed a regression."]
    parts = [titles[pick % 3], "", intros[(pick // 3) % 3], ""]
    if code:
        parts += ["This code:", "", "```python", *code, "```", ""]
    if error:
        parts += [what, "", "```", *error, "```", ""]
    parts.append(f"It shows up in the test suite as a failure of `{failure.test}`.")
    if others:
        more = ", ".join(f"`{t}`" for t in others[:3]) + (" and others" if len(others) > 3 else "")
        parts.append(f"Related tests fail too: {more}.")
    return "\n".join(parts).strip() + "\n"
