"""The Action record and its one canonical text.

The canonical text is the function-call block that SWE-smith (the paper's data) and OpenHands'
non-native tool calling use::

    <function=bash>
    <parameter=command>pytest -x tests</parameter>
    </function>

It is what the student writes after ``</think>``, what the reward compares, and what the agent
runtime parses. Parameters are rendered in a fixed order per tool, so argument order never
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
from typing import Mapping

from swe_srl.errors import ActionParseError

# The canonical text's version: a model's prompt recipe records it. Change it whenever
# render_action writes a different text for the same action.
ACTION_FORMAT = "function-call/1"

BASH = "bash"
EDITOR = "str_replace_editor"
SUBMIT = "submit"

EDITOR_COMMANDS = ("view", "create", "str_replace", "insert", "undo_edit")

# Canonical parameter order per tool; also the set of parameters each tool accepts.
PARAMETERS: dict[str, tuple[str, ...]] = {
    BASH: ("command",),
    EDITOR: ("command", "path", "file_text", "old_str", "new_str", "insert_line", "view_range"),
    SUBMIT: (),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    BASH: ("command",),
    EDITOR: ("command", "path"),
    SUBMIT: (),
}
# Names other agents use for the same tools.
TOOL_ALIASES = {
    "execute_bash": BASH,
    "bash": BASH,
    "str_replace_editor": EDITOR,
    "submit": SUBMIT,
    "finish": SUBMIT,
}

_FUNCTION = re.compile(r"<function=([A-Za-z0-9_.\-]+)>(.*?)</function>", re.DOTALL)
_PARAMETER_START = re.compile(r"<parameter=([A-Za-z0-9_]+)>")
_PARAMETER_END = "</parameter>"
_FUNCTION_END = "</function>"  # a value holding it would end the block early when parsed


@dataclass(frozen=True)
class Action:
    """One command-level move: a bash command, one editor call, or submit."""

    tool: str
    args: tuple[tuple[str, str], ...] = ()

    @classmethod
    def make(cls, tool: str, args: Mapping[str, object] | None = None) -> "Action":
        """Build an action from loose arguments, validated and put in canonical form."""
        name = TOOL_ALIASES.get(tool)
        if name is None:
            raise ActionParseError(f"unknown tool '{tool}' (known: {', '.join(sorted(TOOL_ALIASES))})")
        given = {k: v for k, v in (args or {}).items() if v is not None}
        if name == SUBMIT:
            given = {}  # a finish message or thought is not part of the action
        unknown = sorted(set(given) - set(PARAMETERS[name]))
        if unknown:
            raise ActionParseError(f"tool '{name}' takes no parameter {', '.join(unknown)}")
        missing = [p for p in REQUIRED[name] if p not in given]
        if missing:
            raise ActionParseError(f"tool '{name}' needs parameter {', '.join(missing)}")
        values = {k: _canonical_value(name, k, v) for k, v in given.items()}
        if name == BASH and not values["command"]:
            raise ActionParseError("bash command is empty")
        if name == EDITOR and values["command"] not in EDITOR_COMMANDS:
            raise ActionParseError(
                f"str_replace_editor command '{values['command']}' is not one of {', '.join(EDITOR_COMMANDS)}"
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
    if name == "view_range":
        return _canonical_range(value)
    if name == "insert_line":
        try:
            return str(int(str(value).strip()))
        except ValueError:
            raise ActionParseError(f"insert_line must be a whole number, got {value!r}") from None
    text = value if isinstance(value, str) else str(value)
    if tool == BASH and name == "command":
        return text.strip()
    if name in ("command", "path"):
        return text.strip()
    return text


def _canonical_range(value: object) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ActionParseError(f"view_range must be a list of two integers, got {value!r}") from None
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise ActionParseError(f"view_range must be a list of two integers, got {value!r}")
    try:
        start, end = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ActionParseError(f"view_range must be a list of two integers, got {value!r}") from None
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


def find_actions(text: str) -> list[Action]:
    """Every function-call block in ``text``, in order, as Actions."""
    return [_parse_block(m.group(1), m.group(2)) for m in _FUNCTION.finditer(text)]


def parse_function_calls(text: str) -> list[tuple[str, dict[str, str]]]:
    """Every function-call block in ``text`` as (name, raw parameters), not yet validated.

    For importers of other agents' text, whose blocks may name tools we do not run (``think``)
    or use their own aliases; an unclosed ``<function=`` block raises ActionParseError.
    """
    blocks = [(m.group(1), _parse_parameters(m.group(1), m.group(2))) for m in _FUNCTION.finditer(text)]
    if "<function=" in _FUNCTION.sub("", text):  # outside every closed block
        raise ActionParseError("a <function=...> block is not closed with </function>")
    return blocks


def parse_action(text: str) -> Action:
    """The one action in ``text``; raises ActionParseError if there is none or several."""
    blocks = list(_FUNCTION.finditer(text))
    if not blocks:
        if "<function=" in text:
            raise ActionParseError("a <function=...> block is not closed with </function>")
        raise ActionParseError("no <function=...> block found")
    if len(blocks) > 1:
        raise ActionParseError(f"expected one action, found {len(blocks)} <function=...> blocks")
    return _parse_block(blocks[0].group(1), blocks[0].group(2))


def _parse_block(tool: str, body: str) -> Action:
    return Action.make(tool, _parse_parameters(tool, body))


def _parse_parameters(tool: str, body: str) -> dict[str, str]:
    args: dict[str, str] = {}
    position = 0
    while True:
        start = _PARAMETER_START.search(body, position)
        if start is None:
            break
        if body[position : start.start()].strip():
            raise ActionParseError(f"unexpected text in <function={tool}>: {body[position:start.start()].strip()[:60]!r}")
        end = body.find(_PARAMETER_END, start.end())
        if end < 0:
            raise ActionParseError(f"<parameter={start.group(1)}> is not closed with {_PARAMETER_END}")
        value = body[start.end() : end]
        if len(value) >= 2 and value.startswith("\n") and value.endswith("\n"):
            value = value[1:-1]
        name = start.group(1)
        if name in args:
            raise ActionParseError(f"parameter '{name}' given twice in <function={tool}>")
        args[name] = value
        position = end + len(_PARAMETER_END)
    if body[position:].strip():
        raise ActionParseError(f"unexpected text in <function={tool}>: {body[position:].strip()[:60]!r}")
    return args
