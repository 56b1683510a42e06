"""An IPython cell of an OpenHands CodeAct agent: which agent-skills helper it calls, what it printed.

The helpers' signatures and output are those of ``openhands/runtime/plugins/agent_skills/file_ops/
file_ops.py`` before its removal (#3985): navigation and edits print ``[File: PATH (N lines
total)]`` (``after edit`` once changed), then ``(this is the beginning of the file)`` or ``(K more
lines above)``, the lines as ``NUMBER|TEXT``, and ``(M more lines below)`` or ``(this is the end of
the file)``. The kernel closes each output with notes such as ``[Jupyter current working
directory: DIR]``. How a call becomes an editor or shell call: swe_srl.formats.agent_skills.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

_REQUIRED = object()
SIGNATURES: dict[str, tuple[tuple[str, Any], ...]] = {
    "open_file": (("path", _REQUIRED), ("line_number", 1), ("context_lines", 100)),
    "goto_line": (("line_number", _REQUIRED),),
    "scroll_down": (),
    "scroll_up": (),
    "create_file": (("filename", _REQUIRED),),
    "edit_file_by_replace": (("file_name", _REQUIRED), ("to_replace", _REQUIRED), ("new_content", _REQUIRED)),
    "insert_content_at_line": (("file_name", _REQUIRED), ("line_number", _REQUIRED), ("content", _REQUIRED)),
    "append_file": (("file_name", _REQUIRED), ("content", _REQUIRED)),
    "search_dir": (("search_term", _REQUIRED), ("dir_path", "./")),
    "search_file": (("search_term", _REQUIRED), ("file_path", None)),
    "find_file": (("file_name", _REQUIRED), ("dir_path", "./")),
}
_HEADER = re.compile(r"\[File: (.+) \((\d+) lines total( after edit)?\)\]")
_ABOVE = re.compile(r"\((\d+) more lines above\)")
_BELOW = re.compile(r"\((\d+) more lines below\)")
_NUMBERED = re.compile(r"(\d+)\|(.*)")
_KERNEL_NOTE = re.compile(r"\[Jupyter (current working directory|Python interpreter): (.*)\]")
OTHER_SEPARATORS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")  # str.splitlines splits on these too


def helper_call(code: str) -> tuple[str, dict[str, Any]] | None:
    """(helper, arguments bound to its signature) when ``code`` is one call with literal arguments."""
    try:
        module = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if len(module.body) != 1 or not isinstance(module.body[0], ast.Expr):
        return None
    call = module.body[0].value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in SIGNATURES):
        return None
    signature = SIGNATURES[call.func.id]
    if len(call.args) > len(signature) or any(k.arg is None for k in call.keywords):
        return None
    names = [name for name, _ in signature]
    given = list(zip(names, call.args)) + [(k.arg, k.value) for k in call.keywords]
    if len({name for name, _ in given}) != len(given) or not {name for name, _ in given} <= set(names):
        return None
    try:
        args = {name: ast.literal_eval(node) for name, node in given}
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None
    for name, default in signature:
        if name not in args and default is _REQUIRED:
            return None
        args.setdefault(name, default)
    return call.func.id, args


@dataclass(frozen=True)
class Window:
    """The numbered lines of one file that a helper printed, from the header on."""

    path: str  # absolute, as the header names it
    total: int  # lines in the file when printed
    first: int  # number of the first line shown
    lines: tuple[str, ...]  # the lines shown, without their newlines
    edited: bool  # the header says "after edit": the helper changed the file

    @property
    def last(self) -> int:
        return self.first + len(self.lines) - 1

    def shows(self, first: int, text: str) -> bool:
        """Whether the lines of ``text`` stand from line ``first`` on, as far as the window reaches."""
        expected = text.splitlines()
        if not expected or not self.first <= first <= self.last:
            return False
        seen = self.lines[first - self.first : first - self.first + len(expected)]
        return list(seen) == expected[: len(seen)]


def parse_window(text: str) -> tuple[Window | None, list[str]]:
    """The window at the start of a helper's output, and the lines after it (None if it has none)."""
    lines = text.strip("\n").split("\n")
    header = _HEADER.fullmatch(lines[0]) if lines else None
    if header is None or len(lines) < 3:
        return None, lines
    above = _ABOVE.fullmatch(lines[1])
    if lines[1] != "(this is the beginning of the file)" and above is None:
        return None, lines
    first = int(above.group(1)) + 1 if above else 1
    shown: list[str] = []
    rest = lines[2:]
    while rest and (numbered := _NUMBERED.fullmatch(rest[0])) and int(numbered.group(1)) == first + len(shown):
        if OTHER_SEPARATORS.search(numbered.group(2)):
            return None, lines
        shown.append(numbered.group(2))
        rest = rest[1:]
    total = int(header.group(2))
    below = _BELOW.fullmatch(rest[0]) if rest else None
    ends = bool(rest) and (rest[0] == "(this is the end of the file)" and first + len(shown) - 1 == total
                           or below is not None and first + len(shown) - 1 + int(below.group(1)) == total)
    if not shown or not ends:
        return None, lines
    return Window(header.group(1), total, first, tuple(shown), bool(header.group(3))), rest[1:]


def kernel_output(observation: str) -> tuple[str, str | None]:
    """A cell's output without the kernel's closing notes, and the directory they name."""
    lines = observation.rstrip("\n").split("\n")
    cwd = None
    while lines and (note := _KERNEL_NOTE.fullmatch(lines[-1].strip())):
        cwd = note.group(2) if note.group(1) == "current working directory" else cwd
        lines.pop()
    return "\n".join(lines), cwd
