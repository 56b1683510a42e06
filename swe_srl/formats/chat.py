"""Chat messages -> steps: the engine behind every message-list format.

Actions come from an assistant message's native ``tool_calls`` (each answered by a ``tool``
message with its ``tool_call_id``) or, without them, from its text through a format's text
parser (``<function=...>`` blocks, CodeAct tags, fenced shell blocks); the user message after a
text action is its observation. Several calls in one message become several steps, in order;
the message's text is the thought of the first. Everything else is a Skip with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from swe_srl.actions import Action, find_blocks, parse_function_calls
from swe_srl.errors import ActionParseError
from swe_srl.formats.base import Skip, Where, content_text, strip_observation_label
from swe_srl.formats.toolcalls import Converted, Thought, ToolCallError, Unsupported, convert_call
from swe_srl.trajectory import Step

# (thought text, converted actions) from an assistant message's text; raises ToolCallError.
TextParser = Callable[[str], tuple[str, list[Converted]]]


@dataclass
class _Draft:
    action: Action
    thought: str
    metadata: dict[str, Any]
    observation: str = ""


@dataclass
class ChatRead:
    """What a message list held: steps, skips, and the first user message (the task as seen)."""

    steps: list[Step]
    skipped: list[Skip]
    task_prompt: str
    units: int
    extras: dict[str, Any] = field(default_factory=dict)


def read_messages(messages: Any, where: Where, *, text_parser: TextParser | None, field_name: str = "messages") -> ChatRead:
    """Turn a chat message list into steps; raises DataError only if ``messages`` is not a list."""
    if not isinstance(messages, list):
        raise where.error("expected a list of chat messages", field_name)
    drafts: list[_Draft] = []
    skipped: list[Skip] = []
    pending: dict[str, tuple[str, int | None]] = {}  # call id -> (kind, draft index)
    pending_order: list[str] = []
    awaiting: int | None = None  # draft index whose observation is the next user message
    task_prompt: str | None = None
    last_acted: bool | None = None
    carried = ""  # think-call text waiting for the next action
    reply_to: str | None = None  # what the next user message answers when it is no observation

    def skip(reason: str, index: int, error: Exception | None = None, sub: str = "") -> None:
        data_error = where.error(str(error), f"{field_name}[{index}]{sub}") if error is not None else None
        skipped.append(Skip(reason, index, data_error))

    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            skip("malformed message", index, ValueError("message has no role"), ".role")
            continue
        role = message["role"]
        text = content_text(message.get("content"))
        if role == "system":
            skip("system prompt", index)
        elif role in ("user", "human"):
            if awaiting is not None:
                drafts[awaiting].observation = strip_observation_label(text)
                drafts[awaiting].metadata["observation_index"] = index
                awaiting = None
            elif task_prompt is None:
                task_prompt = text
                skip("task prompt", index)
            elif reply_to is not None:
                skip(f"{reply_to} result", index)
                reply_to = None
            else:
                skip("nudge" if last_acted is False else "user message", index)
        elif role in ("tool", "function"):
            call_id = message.get("tool_call_id")
            if not (isinstance(call_id, str) and call_id in pending):
                call_id = pending_order[0] if pending_order else None
            if call_id is None:
                skip("tool result without a call", index)
                continue
            kind, draft = pending.pop(call_id)
            pending_order.remove(call_id)
            if draft is None:
                skip(f"{kind} result", index)
            else:
                drafts[draft].observation = strip_observation_label(text)
                drafts[draft].metadata["observation_index"] = index
        elif role == "assistant":
            awaiting = reply_to = None
            calls = _native_calls(message)
            acted = False
            if calls:
                thought = text
                for number, (call_id, name, arguments) in enumerate(calls):
                    key = call_id or f"#{index}.{number}"
                    try:
                        converted = convert_call(name, arguments)
                    except ToolCallError as err:
                        skip("invalid tool call", index, err, f".tool_calls[{number}].function.{err.field}")
                        _expect(pending, pending_order, key, "invalid tool call", None)
                        continue
                    if isinstance(converted, Thought):
                        carried = _join(carried, thought, converted.text)
                        thought = ""
                        skip("think call", index)
                        _expect(pending, pending_order, key, "think", None)
                    elif isinstance(converted, Unsupported):
                        skip(f"unsupported tool {converted.tool}", index)
                        _expect(pending, pending_order, key, "unsupported tool", None)
                    else:
                        meta: dict[str, Any] = {"message_index": index}
                        if call_id:
                            meta["tool_call_id"] = call_id
                        drafts.append(_Draft(converted, _join(carried, thought), meta))
                        carried = thought = ""
                        _expect(pending, pending_order, key, "action", len(drafts) - 1)
                        acted = True
            elif text_parser is not None:
                try:
                    thought, converted_list = text_parser(text)
                except (ToolCallError, ActionParseError) as err:
                    skip("invalid tool call", index, err, ".content")
                    last_acted, reply_to = False, "invalid tool call"
                    continue
                for converted in converted_list:
                    if isinstance(converted, Thought):
                        carried = _join(carried, thought, converted.text)
                        thought = ""
                        skip("think call", index)
                    elif isinstance(converted, Unsupported):
                        skip(f"unsupported tool {converted.tool}", index)
                        reply_to = "unsupported tool"
                    else:
                        drafts.append(_Draft(converted, _join(carried, thought), {"message_index": index}))
                        carried = thought = ""
                        acted = True
                if acted:
                    # Text agents answer with one user message: it observes the message's last action.
                    awaiting = len(drafts) - 1
            if not acted and not any(s.index == index for s in skipped):
                skip("assistant message without action", index)
            last_acted = acted
        else:
            skip(f"unknown role {role}", index, ValueError(f"unknown message role '{role}'"), ".role")
    steps = [Step(d.action, d.observation, d.thought, d.metadata) for d in drafts]
    return ChatRead(steps, skipped, task_prompt or "", len(messages))


def _expect(pending: dict, order: list, key: str, kind: str, draft: int | None) -> None:
    pending[key] = (kind, draft)
    order.append(key)


def _join(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _native_calls(message: dict[str, Any]) -> list[tuple[str | None, Any, Any]]:
    """(id, name, arguments) of each native call, including the legacy single ``function_call``."""
    calls: list[tuple[str | None, Any, Any]] = []
    for call in message.get("tool_calls") or []:
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


def function_blocks(text: str) -> tuple[str, list[Converted]]:
    """``<function=NAME>`` blocks (SWE-smith, OpenHands without native calls); thought is the rest."""
    if "<function=" not in text:
        return text.strip(), []
    try:
        blocks = parse_function_calls(text)
    except ActionParseError as err:
        raise ToolCallError(str(err), field="content") from None
    converted = [convert_call(name, params) for name, params in blocks]
    thought = text.split("<function=", 1)[0].strip()
    return thought, converted


_CODEACT_START = re.compile(r"<(execute_bash|execute_ipython|execute_browse)>")
_FINISH_START = re.compile(r"<finish(>|\s*/>)")


def codeact_blocks(text: str) -> tuple[str, list[Converted]]:
    """The older OpenHands CodeAct text form: ``<execute_bash>`` ... and ``<finish></finish>``."""
    converted: list[Converted] = []
    first = len(text)
    for opening, body, _ in find_blocks(text, _CODEACT_START, lambda m: f"</{m.group(1)}>"):
        first = min(first, opening.start())
        if opening.group(1) == "execute_bash":
            converted.append(convert_call("execute_bash", {"command": body}))
        else:
            converted.append(Unsupported(opening.group(1)))
    # <finish>...</finish>, or a self-closed <finish/> (its "closing tag" is the empty string).
    finish = next(find_blocks(text, _FINISH_START, lambda m: "</finish>" if m.group(1) == ">" else ""), None)
    if finish:
        first = min(first, finish[0].start())
        converted.append(Action.submit())
    return text[:first].strip(), converted


def any_text_actions(text: str) -> tuple[str, list[Converted]]:
    """Function blocks if there are any, else CodeAct tags."""
    thought, converted = function_blocks(text)
    if converted:
        return thought, converted
    return codeact_blocks(text)


