"""The Action record and its one canonical text.

The canonical text is the function-call block that SWE-smith (the paper's data) and OpenHands'
non-native tool calling use::

    <function=bash>
    <parameter=command>pytest -x tests</parameter>
    </function>

It is what the student writes after ``</think>``, what the reward compares, and what the agent
runtime parses. A bash call whose ``command`` is empty reads more output of a running process, and
one with ``is_input`` ``true`` sends its command as text to that process (OpenHands' two uses);
``is_input`` is written only when true and never with an empty command, so every plain command
keeps its one text. A ``python`` call runs its ``code`` (kept byte for byte) as a python3 script:
an OpenHands IPython cell that no editor or shell call does exactly. Parameters are rendered in a fixed order per tool, so argument order never
costs reward; values are kept byte for byte (indentation in an edit matters), except a bash
command, whose surrounding whitespace is dropped.

A value that starts or ends with a newline is written with one extra newline on each side, and
the parser strips exactly one newline from each side when both are there. That keeps the
multi-line layout OpenHands writes (``<parameter=x>\\nvalue\\n</parameter>``) readable as
``value`` while every value round-trips.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

from swe_srl.errors import LONE_SURROGATE, MAX_QUOTED_CHARS, ActionParseError, clip, quoted

# The canonical text's version: a model's prompt recipe records it. Change it whenever
# render_action writes a different text for the same action.
ACTION_FORMAT = "function-call/1"

BASH = "bash"
EDITOR = "str_replace_editor"
PYTHON = "python"
SUBMIT = "submit"

EDITOR_COMMANDS = ("view", "create", "str_replace", "insert", "undo_edit")

# Canonical parameter order per tool; also the set of parameters each tool accepts.
PARAMETERS: dict[str, tuple[str, ...]] = {
    BASH: ("command", "is_input"),
    EDITOR: ("command", "path", "file_text", "old_str", "new_str", "insert_line", "view_range"),
    PYTHON: ("code",),
    SUBMIT: (),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    BASH: ("command",),
    EDITOR: ("command", "path"),
    PYTHON: ("code",),
    SUBMIT: (),
}
# Names other agents use for the same tools.
TOOL_ALIASES = {
    "execute_bash": BASH,
    "bash": BASH,
    "str_replace_editor": EDITOR,
    "python": PYTHON,
    "execute_ipython_cell": PYTHON,
    "submit": SUBMIT,
    "finish": SUBMIT,
}

_FUNCTION_START = re.compile(r"<function=([A-Za-z0-9_.\-]+)>")
_PARAMETER_START = re.compile(r"<parameter=([A-Za-z0-9_]+)>")
_PARAMETER_END = "</parameter>"
_FUNCTION_END = "</function>"  # a value holding it would end the block early when parsed
_NUMBER_CHARS = 64  # longer than any line number or "[start, end]": bounds what int() and json.loads see


@dataclass(frozen=True)
class Action:
    """One command-level move: a bash command, one editor call, a python cell, or submit."""

    tool: str
    args: tuple[tuple[str, str], ...] = ()

    @classmethod
    def make(cls, tool: str, args: Mapping[str, object] | None = None) -> "Action":
        """Build an action from loose arguments, validated and put in canonical form."""
        name = TOOL_ALIASES.get(tool) if isinstance(tool, str) else None
        if name is None:
            raise ActionParseError(f"unknown tool {quoted(tool)} (known: {', '.join(sorted(TOOL_ALIASES))})")
        given = {k: v for k, v in (args or {}).items() if v is not None}
        if name == SUBMIT:
            given = {}  # a finish message or thought is not part of the action
        unknown = sorted(set(given) - set(PARAMETERS[name]))
        if unknown:
            raise ActionParseError(f"tool '{name}' takes no parameter {', '.join(map(quoted, unknown[:5]))}")
        missing = [p for p in REQUIRED[name] if p not in given]
        if missing:
            raise ActionParseError(f"tool '{name}' needs parameter {', '.join(missing)}")
        values = {k: _canonical_value(name, k, v) for k, v in given.items()}
        if name == BASH and (values.get("is_input") != "true" or not values["command"]):
            values.pop("is_input", None)  # written only when true, and a read of more output takes none
        if name == PYTHON and not values["code"].strip():
            raise ActionParseError("python code is empty")
        if name == EDITOR and values["command"] not in EDITOR_COMMANDS:
            raise ActionParseError(
                f"str_replace_editor command {quoted(values['command'])} is not one of {', '.join(EDITOR_COMMANDS)}"
            )
        ordered = tuple((p, values[p]) for p in PARAMETERS[name] if p in values)
        return cls(name, ordered)

    @classmethod
    def bash(cls, command: str) -> "Action":
        return cls.make(BASH, {"command": command})

    @classmethod
    def editor(cls, command: str, path: str, **kwargs: object) -> "Action":
        return cls.make(EDITOR, {"command": command, "path": path, **kwargs})

    @classmethod
    def python(cls, code: str) -> "Action":
        return cls.make(PYTHON, {"code": code})

    @classmethod
    def submit(cls) -> "Action":
        return cls.make(SUBMIT)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of one parameter, or ``default``."""
        for key, value in self.args:
            if key == name:
                return value
        return default

    def render(self) -> str:
        """The canonical text of this action."""
        return render_action(self)


def _canonical_value(tool: str, name: str, value: object) -> str:
    if name == "is_input":
        return _canonical_flag(value)
    if name == "view_range":
        return _canonical_range(value)
    if name == "insert_line":
        return _canonical_line(value)
    if not isinstance(value, (str, int, float)):  # a list or dict: its repr could even overflow the stack
        raise ActionParseError(f"parameter '{name}' must be text, got {type(value).__name__}")
    text = value if isinstance(value, str) else str(value)
    surrogate = LONE_SURROGATE.search(text)
    if surrogate:  # UTF-8 cannot encode it, so no shell, file or tokenizer would take the value
        raise ActionParseError(f"parameter '{name}' holds a lone surrogate {surrogate.group()!r}, which is not text")
    if name == "path" and "\0" in text:
        raise ActionParseError("path holds a NUL character, which no file name can")
    if tool == BASH and name == "command":
        return text.strip()
    if name in ("command", "path"):
        return text.strip()
    return text


def _canonical_flag(value: object) -> str:
    text = value.strip().lower() if isinstance(value, str) else value
    if text in (True, "true"):
        return "true"
    if text in (False, "false"):
        return "false"
    raise ActionParseError(f"is_input must be true or false, got {quoted(value)}")


def _canonical_line(value: object) -> str:
    text = value.strip() if isinstance(value, str) else str(value) if type(value) is int else ""
    if len(text) <= _NUMBER_CHARS:
        try:
            return str(int(text))
        except ValueError:
            pass
    raise ActionParseError(f"insert_line must be a whole number, got {quoted(value)}")


def _canonical_range(value: object) -> str:
    try:
        pair = json.loads(value) if isinstance(value, str) and len(value) <= _NUMBER_CHARS else value
        if isinstance(pair, str) or not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise ValueError("not a pair")
        start, end = (int(v) for v in pair)  # a float's fraction is dropped, as it always was
    except (TypeError, ValueError, OverflowError):  # bad JSON, "x", a number too long, inf, nan
        raise ActionParseError(f"view_range must be a list of two integers, got {quoted(value)}") from None
    return f"[{start}, {end}]"


def render_action(action: Action) -> str:
    """Render ``action`` as its canonical function-call block."""
    lines = [f"<function={action.tool}>"]
    for key, value in action.args:
        for marker in (_PARAMETER_END, _FUNCTION_END):
            if marker in value:
                raise ActionParseError(f"parameter '{key}' contains '{marker}', which cannot be rendered")
        if value.startswith("\n") or value.endswith("\n"):
            value = "\n" + value + "\n"
        lines.append(f"<parameter={key}>{value}{_PARAMETER_END}")
    lines.append("</function>")
    return "\n".join(lines)


def find_blocks(
    text: str, start: re.Pattern[str], end: Callable[[re.Match[str]], str]
) -> Iterator[tuple[re.Match[str], str, int]]:
    """(start match, body, end offset) of each block that ``start`` opens and ``end(match)`` closes.

    What ``re.finditer(start + "(.*?)" + end, re.DOTALL)`` finds, in linear time. The regex retries
    every later opening after an unclosed one and scans to the end of the text each time: 300 KB of
    unclosed ``<function=`` tags took a minute. Here a closing tag found missing once is known
    missing for every later opening, so each character is scanned a bounded number of times.
    """
    missing: set[str] = set()
    position = 0
    while (opening := start.search(text, position)) is not None:
        closing = end(opening)
        found = -1 if closing in missing else text.find(closing, opening.end())
        if found < 0:
            missing.add(closing)
            position = opening.start() + 1  # as the regex would: a later opening may close otherwise
            continue
        yield opening, text[opening.end() : found], found + len(closing)
        position = found + len(closing)


def _function_blocks(text: str) -> list[tuple[re.Match[str], str, int]]:
    return list(find_blocks(text, _FUNCTION_START, lambda _: _FUNCTION_END))


def find_actions(text: str) -> list[Action]:
    """Every function-call block in ``text``, in order, as Actions."""
    return [_parse_block(opening.group(1), body) for opening, body, _ in _function_blocks(text)]


def parse_function_calls(text: str) -> list[tuple[str, dict[str, str]]]:
    """Every function-call block in ``text`` as (name, raw parameters), not yet validated.

    For importers of other agents' text, whose blocks may name tools we do not run (``think``)
    or use their own aliases; an unclosed ``<function=`` block raises ActionParseError.
    """
    found = _function_blocks(text)
    blocks = [(opening.group(1), _parse_parameters(opening.group(1), body)) for opening, body, _ in found]
    outside, position = [], 0  # the text around every closed block
    for opening, _, end in found:
        outside.append(text[position : opening.start()])
        position = end
    outside.append(text[position:])
    if "<function=" in "".join(outside):
        raise ActionParseError("a <function=...> block is not closed with </function>")
    return blocks


def parse_action(text: str) -> Action:
    """The one action in ``text``; raises ActionParseError if there is none or several.

    Total: any text gives an Action or an ActionParseError, in time linear in its length.
    """
    blocks = _function_blocks(text)
    if not blocks:
        if "<function=" in text:
            raise ActionParseError("a <function=...> block is not closed with </function>")
        raise ActionParseError("no <function=...> block found")
    if len(blocks) > 1:
        raise ActionParseError(f"expected one action, found {len(blocks)} <function=...> blocks")
    opening, body, _ = blocks[0]
    return _parse_block(opening.group(1), body)


def _parse_block(tool: str, body: str) -> Action:
    return Action.make(tool, _parse_parameters(tool, body))


def _parse_parameters(tool: str, body: str) -> dict[str, str]:
    args: dict[str, str] = {}
    position = 0
    where = f"<function={clip(tool, MAX_QUOTED_CHARS)}>"
    while True:
        start = _PARAMETER_START.search(body, position)
        if start is None:
            break
        if body[position : start.start()].strip():
            raise ActionParseError(f"unexpected text in {where}: {body[position:start.start()].strip()[:60]!r}")
        end = body.find(_PARAMETER_END, start.end())
        name = start.group(1)
        if end < 0:
            raise ActionParseError(f"<parameter={clip(name, MAX_QUOTED_CHARS)}> is not closed with {_PARAMETER_END}")
        value = body[start.end() : end]
        if len(value) >= 2 and value.startswith("\n") and value.endswith("\n"):
            value = value[1:-1]
        if name in args:
            raise ActionParseError(f"parameter {quoted(name)} given twice in {where}")
        args[name] = value
        position = end + len(_PARAMETER_END)
    if body[position:].strip():
        raise ActionParseError(f"unexpected text in {where}: {body[position:].strip()[:60]!r}")
    return args
