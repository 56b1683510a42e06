"""Other agents' tool calls -> our Actions.

OpenHands, SWE-Gym and SWE-smith call the same three tools we run (``execute_bash``/``bash``,
``str_replace_editor``, ``finish``/``submit``) plus ``think``, whose text is a thought, not an
action. A bash call with an empty command (read more output) or ``is_input: true`` (text for a
running process) is an action of its own (see swe_srl.actions); an IPython cell
(``execute_ipython_cell``) is a ``python`` action. Execution options that do not
change what runs (``timeout``, ``security_risk``) are dropped; parameters our editor does not
have are an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from swe_srl.actions import BASH, EDITOR, PARAMETERS, PYTHON, SUBMIT, TOOL_ALIASES, Action
from swe_srl.errors import MAX_QUOTED_CHARS, ActionParseError, clip, quoted

THINK_TOOLS = frozenset({"think"})

# Keys agents add to a call that say how to run it, not what to run.
_EXECUTION_OPTIONS = frozenset({"timeout", "security_risk", "blocking", "impl_source", "thought", "kernel_init_code"})

# Editor parameters each command reads; a null-like value elsewhere is the printer's filler.
_RELEVANT = {
    "view": {"view_range"},
    "create": {"file_text"},
    "str_replace": {"old_str", "new_str"},
    "insert": {"insert_line", "new_str"},
    "undo_edit": set(),
}
_NULL_TEXTS = ("None", "null")


@dataclass(frozen=True)
class Thought:
    """A ``think`` call: reasoning the agent wrote down through a tool."""

    text: str


@dataclass(frozen=True)
class Unsupported:
    """A well-formed call to a tool we do not run (e.g. ``execute_ipython_cell``, browsing)."""

    tool: str


Converted = Action | Thought | Unsupported


class ToolCallError(ActionParseError):
    """A call that cannot become an action; ``field`` names the offending part of the call."""

    def __init__(self, message: str, field: str = "arguments") -> None:
        self.field = field
        super().__init__(message)


def decode_arguments(arguments: Any) -> dict[str, Any]:
    """A call's arguments as a dict: OpenAI sends a JSON string, others a dict; empty means none."""
    if arguments is None or arguments == "":
        return {}
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError as err:
            raise ToolCallError(f"arguments are not valid JSON: {err.msg}") from None
        except ValueError:  # what json.loads raises besides a syntax error
            raise ToolCallError("arguments hold a number of more than 4,300 digits") from None
        except RecursionError:
            raise ToolCallError("arguments are nested too deeply") from None
    if not isinstance(arguments, dict):
        raise ToolCallError(f"arguments must be a JSON object, got {type(arguments).__name__}")
    return arguments


def convert_call(name: Any, arguments: Any, *, unsupported: frozenset[str] = frozenset()) -> Converted:
    """One tool call as an Action, a Thought, or an Unsupported tool; raises ToolCallError."""
    if not isinstance(name, str) or not name:
        raise ToolCallError("tool call has no function name", field="name")
    args = decode_arguments(arguments)
    if name in THINK_TOOLS:
        thought = args.get("thought", args.get("content", ""))
        if not isinstance(thought, str):
            raise ToolCallError(f"a think call's thought must be text, got {type(thought).__name__}", "arguments.thought")
        return Thought(thought)
    if name in unsupported:
        return Unsupported(name)
    tool = TOOL_ALIASES.get(name)
    if tool is None:
        raise ToolCallError(f"unknown tool {quoted(name)}", field="name")
    try:
        if tool == BASH:
            return _bash(args)
        if tool == EDITOR:
            return _editor(args)
        if tool == PYTHON:
            _reject_unknown(args, {"code"})
            return Action.make(PYTHON, {"code": args.get("code")})
        return Action.make(SUBMIT)
    except ToolCallError:
        raise
    except ActionParseError as err:
        raise ToolCallError(str(err)) from None


def _bash(args: Mapping[str, Any]) -> Action:
    command = args.get("command")
    if not isinstance(command, str):
        raise ToolCallError(f"bash command must be text, got {type(command).__name__}", "arguments.command")
    _reject_unknown(args, {"command", "is_input"})
    # Only a true is_input sends the command to a running process; any other value runs it.
    is_input = args.get("is_input")
    sent = is_input is True or isinstance(is_input, str) and is_input.strip().lower() == "true"
    return Action.make(BASH, {"command": command, "is_input": sent})


def _editor(args: Mapping[str, Any]) -> Action:
    command = args.get("command")
    if not isinstance(command, str) or command.strip() not in _RELEVANT:
        raise ToolCallError(f"editor command {quoted(command)} is not one of {', '.join(_RELEVANT)}", "arguments.command")
    command = command.strip()
    _reject_unknown(args, set(PARAMETERS[EDITOR]))
    kept: dict[str, Any] = {}
    for key in PARAMETERS[EDITOR]:
        value = args.get(key)
        if value is None:
            continue
        # Printed args write a missing value as "None"; only a parameter the command reads
        # can carry that text on purpose (new_str "None" replaces with the word None).
        if isinstance(value, str) and value in _NULL_TEXTS:
            if key in ("view_range", "insert_line") or key not in _RELEVANT[command] and key not in ("command", "path"):
                continue
        kept[key] = value
    if "path" not in kept:
        raise ToolCallError("editor call has no path", "arguments.path")
    return Action.make(EDITOR, kept)


def _reject_unknown(args: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(args) - known - _EXECUTION_OPTIONS)
    if unknown:
        shown = ", ".join(clip(name, MAX_QUOTED_CHARS) for name in unknown[:5])
        raise ToolCallError(f"unexpected parameter {shown}", f"arguments.{clip(unknown[0], MAX_QUOTED_CHARS)}")
