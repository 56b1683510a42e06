"""Chat messages -> steps: the engine behind every message-list format.

Actions come from an assistant message's native ``tool_calls`` (each answered by a ``tool``
message with its ``tool_call_id``, or by the next ``tool`` message when the id is missing) or,
without them, from its text through a format's text parser (swe_srl.formats.text_actions); the
user message after a text action is its observation. Several calls in one message become several
steps, in order; the message's text is the thought of the first. A ``think`` call's text joins the
thought of the next action. Everything else is a Skip with its reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from swe_srl.errors import ActionParseError
from swe_srl.formats.agent_skills import map_cells
from swe_srl.formats.base import Skip, Where, content_text, strip_observation_label
from swe_srl.formats.drafts import Draft, join_thoughts
from swe_srl.formats.text_actions import TextParser
from swe_srl.formats.toolcalls import Converted, Thought, ToolCallError, Unsupported, convert_call
from swe_srl.trajectory import Step


@dataclass(frozen=True)
class ChatRead:
    """What a message list held: steps, skips, and the first user message (the task as seen)."""

    steps: list[Step]  # one per action, in order
    skipped: list[Skip]  # every message that became no step, with its reason
    task_prompt: str  # the first user message; "" when there is none
    units: int  # messages in the list


def read_messages(messages: Any, where: Where, *, text_parser: TextParser | None, field_name: str = "messages") -> ChatRead:
    """Turn a chat message list into steps; raises DataError only if ``messages`` is not a list."""
    if not isinstance(messages, list):
        raise where.error("expected a list of chat messages", field_name)
    reader = _Reader(where, text_parser, field_name)
    for index, message in enumerate(messages):
        reader.message(index, message)
    map_cells(reader.drafts)
    steps = [d.step() for d in reader.drafts]
    return ChatRead(steps, reader.skipped, reader.task_prompt or "", len(messages))


class _Reader:
    """The state of one pass over a message list."""

    def __init__(self, where: Where, text_parser: TextParser | None, field_name: str) -> None:
        self.where, self.text_parser, self.field_name = where, text_parser, field_name
        self.drafts: list[Draft] = []
        self.skipped: list[Skip] = []
        self.pending: dict[str, int | str] = {}  # native call id -> its draft index, or the kind of non-step
        self.awaiting: int | None = None  # draft index whose observation is the next user message
        self.task_prompt: str | None = None
        self.last_acted: bool | None = None
        self.carried = ""  # think-call text waiting for the next action
        self.reply_to: str | None = None  # what the next user message answers when it is no observation

    def skip(self, reason: str, index: int, error: Exception | None = None, sub: str = "") -> None:
        data_error = self.where.error(str(error), f"{self.field_name}[{index}]{sub}") if error is not None else None
        self.skipped.append(Skip(reason, index, data_error))

    def message(self, index: int, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            self.skip("malformed message", index, ValueError("message has no role"), ".role")
            return
        role, text = message["role"], content_text(message.get("content"))
        if role == "system":
            self.skip("system prompt", index)
        elif role in ("user", "human"):
            self.user(index, text)
        elif role in ("tool", "function"):
            self.tool_result(index, message.get("tool_call_id"), text)
        elif role == "assistant":
            self.assistant(index, message, text)
        else:
            self.skip(f"unknown role {role}", index, ValueError(f"unknown message role '{role}'"), ".role")

    def user(self, index: int, text: str) -> None:
        if self.awaiting is not None:
            self.observe(self.awaiting, index, text)
            self.awaiting = None
        elif self.task_prompt is None:
            self.task_prompt = text
            self.skip("task prompt", index)
        elif self.reply_to is not None:
            self.skip(f"{self.reply_to} result", index)
            self.reply_to = None
        else:
            self.skip("nudge" if self.last_acted is False else "user message", index)

    def tool_result(self, index: int, call_id: Any, text: str) -> None:
        if not (isinstance(call_id, str) and call_id in self.pending):
            call_id = next(iter(self.pending), None)  # no or unknown id: the oldest call still open
        if call_id is None:
            self.skip("tool result without a call", index)
            return
        target = self.pending.pop(call_id)
        if isinstance(target, str):
            self.skip(f"{target} result", index)
        else:
            self.observe(target, index, text)

    def observe(self, draft: int, index: int, text: str) -> None:
        self.drafts[draft].observation = strip_observation_label(text)
        self.drafts[draft].metadata["observation_index"] = index

    def assistant(self, index: int, message: dict[str, Any], text: str) -> None:
        self.awaiting = self.reply_to = None
        reasoning = content_text(message.get("reasoning_content"))
        try:
            calls = _native_calls(message)
        except ToolCallError as err:
            self.skip("invalid tool call", index, err, f".{err.field}")
            self.pending[f"#{index}"] = "invalid tool call"  # a tool message may still answer it
            self.last_acted, self.reply_to = False, "invalid tool call"
            return
        if calls:
            acted = self.native(index, calls, join_thoughts(reasoning, text))
        elif self.text_parser is not None:
            try:
                thought, converted = self.text_parser(text)
            except (ToolCallError, ActionParseError) as err:
                self.skip("invalid tool call", index, err, ".content")
                self.last_acted, self.reply_to = False, "invalid tool call"
                return
            acted = self.text_calls(index, join_thoughts(reasoning, thought), converted)
        else:
            acted = False
        if not acted and not (self.skipped and self.skipped[-1].index == index):
            self.skip("assistant message without action", index)
        self.last_acted = acted

    def native(self, index: int, calls: list[tuple[str | None, Any, Any]], thought: str) -> bool:
        """Each native call as a step or a skip; True if any became a step."""
        acted = False
        for number, (call_id, name, arguments) in enumerate(calls):
            key = call_id or f"#{index}.{number}"
            try:
                converted = convert_call(name, arguments)
            except ToolCallError as err:
                self.skip("invalid tool call", index, err, f".tool_calls[{number}].function.{err.field}")
                self.pending[key] = "invalid tool call"
                continue
            draft = self.add(index, converted, thought)
            if draft is None:
                self.pending[key] = "think" if isinstance(converted, Thought) else "unsupported tool"
            else:
                if call_id:
                    self.drafts[draft].metadata["tool_call_id"] = call_id
                self.pending[key] = draft
                acted = True
            if not isinstance(converted, Unsupported):
                thought = ""  # the message's text is the thought of its first action or think call
        return acted

    def text_calls(self, index: int, thought: str, converted: list[Converted]) -> bool:
        """Calls read from the message's text; True if any became a step."""
        steps = []
        for call in converted:
            draft = self.add(index, call, thought)
            if isinstance(call, Unsupported):
                self.reply_to = "unsupported tool"
            else:
                thought = ""  # the message's text is the thought of its first action or think call
            if draft is not None:
                steps.append(draft)
        if steps:
            # Text agents answer with one user message: it observes the message's last action.
            self.awaiting = steps[-1]
        return bool(steps)

    def add(self, index: int, converted: Converted, thought: str) -> int | None:
        """A draft for an action (its index); a think call's text is carried, an unsupported tool skipped."""
        if isinstance(converted, Thought):
            self.carried = join_thoughts(self.carried, thought, converted.text)
            self.skip("think call", index)
            return None
        if isinstance(converted, Unsupported):
            self.skip(f"unsupported tool {converted.tool}", index)
            return None
        self.drafts.append(Draft(converted, join_thoughts(self.carried, thought), {"message_index": index}))
        self.carried = ""
        return len(self.drafts) - 1


def _native_calls(message: dict[str, Any]) -> list[tuple[str | None, Any, Any]]:
    """(id, name, arguments) of each native call, including the legacy single ``function_call``;
    raises ToolCallError when ``tool_calls`` is a string that is no JSON list of calls."""
    calls: list[tuple[str | None, Any, Any]] = []
    for call in _decoded_tool_calls(message.get("tool_calls")):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            calls.append((None, None, None))  # convert_call reports the missing name
            continue
        call_id = call.get("id") if isinstance(call.get("id"), str) else None
        calls.append((call_id, function.get("name"), function.get("arguments")))
    legacy = message.get("function_call")
    if not calls and isinstance(legacy, dict):
        calls.append((None, legacy.get("name"), legacy.get("arguments")))
    return calls


def _decoded_tool_calls(tool_calls: Any) -> list[Any]:
    """A message's ``tool_calls`` as a list: a JSON string is decoded; empty or null means none."""
    if tool_calls is None or isinstance(tool_calls, list):
        return tool_calls or []
    if not isinstance(tool_calls, str):
        raise ToolCallError(f"tool_calls must be a list of calls, got {type(tool_calls).__name__}", "tool_calls")
    if not tool_calls.strip():
        return []
    try:
        decoded = json.loads(tool_calls)
    except json.JSONDecodeError as err:
        raise ToolCallError(f"tool_calls is a string that is not valid JSON: {err.msg}", "tool_calls") from None
    except (ValueError, RecursionError):  # a number of more than 4,300 digits, or nesting too deep
        raise ToolCallError("tool_calls is a string that cannot be decoded", "tool_calls") from None
    if not isinstance(decoded, list):
        raise ToolCallError(f"tool_calls must hold a list of calls, got {type(decoded).__name__}", "tool_calls")
    return decoded
