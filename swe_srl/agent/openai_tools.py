"""Our three tools as OpenAI function schemas, and step-wise prompts as native tool-call messages.

With native tool calling the conversation has to speak the endpoint's dialect: an assistant turn
that is one canonical action becomes an assistant message with a ``tool_calls`` entry, and the
observation after it a ``tool`` message answering that call. Everything else passes as it is.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from swe_srl.actions import BASH, EDITOR, EDITOR_COMMANDS, SUBMIT, Action, parse_action
from swe_srl.errors import ActionParseError
from swe_srl.stepwise import Message

TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {
        "name": BASH,
        "description": "Run a shell command in the repository's sandbox (the repository is at /testbed).",
        "parameters": {"type": "object", "properties": {
            "command": {"type": "string", "description": "the bash command to run"}},
            "required": ["command"]}}},
    {"type": "function", "function": {
        "name": EDITOR,
        "description": "View, create and edit files. old_str must match exactly once for str_replace.",
        "parameters": {"type": "object", "properties": {
            "command": {"type": "string", "enum": list(EDITOR_COMMANDS)},
            "path": {"type": "string", "description": "absolute path"},
            "file_text": {"type": "string"},
            "old_str": {"type": "string"},
            "new_str": {"type": "string"},
            "insert_line": {"type": "integer"},
            "view_range": {"type": "array", "items": {"type": "integer"}}},
            "required": ["command", "path"]}}},
    {"type": "function", "function": {
        "name": SUBMIT,
        "description": "Finish: the changes in the repository are the answer.",
        "parameters": {"type": "object", "properties": {}}}},
]


def call_arguments(action: Action) -> dict[str, Any]:
    """An Action's arguments with the JSON types the schema declares."""
    args: dict[str, Any] = {}
    for key, value in action.args:
        if key == "insert_line":
            args[key] = int(value)
        elif key == "view_range":
            args[key] = json.loads(value)
        else:
            args[key] = value
    return args


def _as_action(content: str) -> Action | None:
    text = content.strip()
    if not text.startswith("<function=") or not text.endswith("</function>"):
        return None
    try:
        return parse_action(text)
    except ActionParseError:
        return None


def to_openai_messages(messages: Sequence[Message], native_tools: bool) -> list[dict[str, Any]]:
    """``messages`` as an OpenAI chat request's messages (tool calls where ``native_tools``)."""
    out: list[dict[str, Any]] = []
    pending: str | None = None  # the id of a tool call awaiting its observation
    for i, message in enumerate(messages):
        if native_tools and message.role == "assistant":
            action = _as_action(message.content)
            if action is not None:
                pending = f"call_{i}"
                out.append({"role": "assistant", "content": None, "tool_calls": [{
                    "id": pending, "type": "function",
                    "function": {"name": action.tool, "arguments": json.dumps(call_arguments(action))}}]})
                continue
        if pending is not None and message.role == "user":
            out.append({"role": "tool", "tool_call_id": pending, "content": message.content})
            pending = None
            continue
        pending = None
        out.append({"role": message.role, "content": message.content})
    return out
