"""One OpenHands event stream -> steps (see swe_srl.formats.openhands for the record around it).

Agent events ``run``, ``run_ipython``, ``read``, ``edit`` and ``finish`` are actions; ``think``
is a thought, carried to the next action. An observation joins the action its ``cause`` names
(event ids skip numbers, so nothing relies on order); without a ``cause`` (the older flat and
pair forms, whose events carry no ids) it answers the action event right before it. An event's
arguments are its ``args``, or, in the older flat form, the event's own fields. The call the model
made is read from ``tool_call_metadata`` when present, since replay fixtures leave ``edit`` args
empty (``content: ""``, no ``command``); without it, from the event's args, then from
``translated_ipython_code``. An ``error`` observation with no action before it is a call the
runtime rejected ("invalid tool call"); a run may stop at the iteration limit with no finish.
"""

from __future__ import annotations

import ast
from typing import Any

from swe_srl.actions import Action
from swe_srl.formats.agent_skills import map_cells
from swe_srl.formats.base import Skip, Where
from swe_srl.formats.drafts import Draft, join_thoughts
from swe_srl.formats.toolcalls import Converted, Thought, ToolCallError, Unsupported, convert_call
from swe_srl.trajectory import Step

_ACTIONS = {"run", "run_ipython", "read", "edit", "finish"}
_RUNTIME = {"change_agent_state", "null", "agent_state_changed", "user_rejected", "pause", "reject", "condensation"}
_FILE_EDITOR = "file_editor(**{"


def is_event(value: Any) -> bool:
    return isinstance(value, dict) and ("action" in value or "observation" in value) and "role" not in value


def read_events(events: list[Any], where: Where) -> tuple[list[Step], list[Skip], str]:
    """(steps, skips, task prompt) of an event list; every event lands in one of the first two."""
    reader = _EventReader(where)
    for index, event in enumerate(events):
        if not is_event(event):
            reader.skip("malformed event", index, "event has neither 'action' nor 'observation'")
        elif "action" in event:
            reader.action_event(index, event)
        else:
            reader.observation_event(index, event)
    map_cells(reader.drafts)
    steps = [d.step() for d in reader.drafts]
    return steps, reader.skipped, reader.task_prompt or ""


class _EventReader:
    """The state of one pass over an event list."""

    def __init__(self, where: Where) -> None:
        self.where = where
        self.drafts: list[Draft] = []
        self.skipped: list[Skip] = []
        self.by_id: dict[Any, int | str] = {}  # action event id -> draft index, or the kind of non-step
        self.just_acted: int | str | None = None  # what the previous event, an action, became
        self.task_prompt: str | None = None
        self.carried = ""  # think text waiting for the next action
        self.last_kind = ""

    def skip(self, reason: str, index: int, error: str | None = None, field: str = "") -> None:
        self.skipped.append(Skip(reason, index, self.where.error(error, f"history[{index}]{field}") if error else None))

    def action_event(self, index: int, event: dict[str, Any]) -> None:
        kind, source = event.get("action"), event.get("source")
        args = event["args"] if isinstance(event.get("args"), dict) else event  # the flat form has no args
        target: int | str | None = None
        if kind == "system":
            self.skip("system prompt", index)
        elif kind == "message" and (source == "user" or source is None and self.task_prompt is None):
            # The flat form names no source: its first message is the task, as elsewhere the user's.
            if self.task_prompt is None:
                self.task_prompt = str(args.get("content", event.get("message", "")))
                self.skip("task prompt", index)
            else:
                self.skip("nudge" if self.last_kind == "agent message" else "user message", index)
        elif kind == "message":
            self.skip("assistant message without action", index)
            kind = "agent message"
        elif kind == "recall":
            self.skip("recall", index)
            target = "recall"
        elif kind == "think":
            target = self.add(index, Thought(str(args.get("thought", ""))), "", event)
        elif kind in _ACTIONS:
            try:
                converted = _action(event, args)
            except ToolCallError as err:
                self.skip("invalid tool call", index, str(err), f".{err.field}")
                converted = None
            thought = str(args.get("thought") or args.get("final_thought") or "")
            target = "invalid tool call" if converted is None else self.add(index, converted, thought, event)
        elif kind in _RUNTIME:
            self.skip("runtime event", index)
        else:
            self.skip(f"unsupported action {kind}", index)
            target = "unsupported action"
        if target is not None:
            self.by_id[event.get("id")] = target
        self.just_acted = target
        self.last_kind = kind

    def add(self, index: int, converted: Converted, thought: str, event: dict[str, Any]) -> int | str:
        """A draft for an action (its index); a think's text is carried; what else became of it."""
        if isinstance(converted, Thought):
            self.carried = join_thoughts(self.carried, thought, converted.text)
            self.skip("think call", index)
            return "think"
        if isinstance(converted, Unsupported):
            self.skip(f"unsupported tool {converted.tool}", index)
            return "unsupported tool"
        metadata = {"event_id": event.get("id"), "event_index": index}
        self.drafts.append(Draft(converted, join_thoughts(self.carried, thought), metadata))
        self.carried = ""
        return len(self.drafts) - 1

    def observation_event(self, index: int, event: dict[str, Any]) -> None:
        kind = event.get("observation")
        target = self.by_id.get(event["cause"]) if "cause" in event else self.just_acted
        self.just_acted = None
        if isinstance(target, int):
            draft = self.drafts[target]
            draft.observation = seen_text(event)
            draft.metadata["observation_index"] = index
        elif isinstance(target, str):
            self.skip(f"{target} result", index)
        elif kind == "error":
            self.skip("invalid tool call", index)  # the runtime rejected a call that never became an event
        elif kind in _RUNTIME:
            self.skip("runtime event", index)
        else:
            self.skip("observation without action", index)


def seen_text(event: dict[str, Any]) -> str:
    """An observation as OpenHands showed it to the model: a command's output comes with the prefix and
    suffix (``[The command completed with exit code N.]``, a timeout note) in ``extras.metadata`` and
    the working directory, interpreter and exit-code lines OpenHands appends after them."""
    content = str(event.get("content", event.get("message", "")))
    extras = event.get("extras")
    meta = extras.get("metadata") if isinstance(extras, dict) else None
    if event.get("observation") != "run" or not isinstance(meta, dict):
        return content
    text = f"{meta.get('prefix') or ''}{content}{meta.get('suffix') or ''}"
    if meta.get("working_dir"):
        text += f"\n[Current working directory: {meta['working_dir']}]"
    if meta.get("py_interpreter_path"):
        text += f"\n[Python interpreter: {meta['py_interpreter_path']}]"
    if meta.get("exit_code", -1) != -1:
        text += f"\n[Command finished with exit code {meta['exit_code']}]"
    return text


def _action(event: dict[str, Any], args: dict[str, Any]) -> Converted:
    call = _metadata_call(event)
    if call is not None:
        return convert_call(*call)
    kind = event["action"]
    if kind == "finish":
        return Action.submit()
    if kind == "run":
        return convert_call("execute_bash", {"command": args.get("command"), "is_input": args.get("is_input", False)})
    if kind == "run_ipython":
        return convert_call("execute_ipython_cell", {"code": args.get("code")})
    if kind == "read":
        view = {"command": "view", "path": args.get("path"), "view_range": args.get("view_range")}
        start, end = args.get("start", 0), args.get("end", -1)
        if view["view_range"] is None and (start not in (0, 1) or end != -1):
            # Older read events give a line window as start/end instead of view_range.
            view["view_range"] = [max(int(start), 1), int(end)]
        return convert_call("str_replace_editor", view)
    # kind == "edit"
    if args.get("command"):
        keys = ("command", "path", "file_text", "old_str", "new_str", "insert_line")
        return convert_call("str_replace_editor", {k: args.get(k) for k in keys})
    literal = file_editor_literal(str(args.get("translated_ipython_code", "")).strip())
    if literal:
        try:
            return convert_call("str_replace_editor", ast.literal_eval(literal))
        except (ValueError, SyntaxError):
            raise ToolCallError("translated_ipython_code is not a literal editor call", "args.translated_ipython_code") from None
    raise ToolCallError("edit event has no editor command (content-only edits are not supported)", "args.command")


def file_editor_literal(code: str) -> str | None:
    r"""The ``{...}`` of a ``file_editor(**{...})`` call that ends ``code``, bare or in ``print(...)``.

    What ``re.search(r"file_editor\(\*\*(\{.*\})\)\)?\s*$", code, re.DOTALL)`` gives for stripped
    code, in linear time: the regex scans to the end from every occurrence of the call.
    """
    opening = code.find(_FILE_EDITOR)
    for tail in ("})", "}))"):
        brace = len(code) - len(tail)
        if opening >= 0 and code.endswith(tail) and brace > opening + len(_FILE_EDITOR) - 1:
            return code[opening + len(_FILE_EDITOR) - 1 : brace + 1]
    return None


def _metadata_call(event: dict[str, Any]) -> tuple[str, Any] | None:
    """(name, arguments) of the model's own call for this event, from ``tool_call_metadata``."""
    meta = event.get("tool_call_metadata")
    if not isinstance(meta, dict):
        return None
    try:
        calls = meta["model_response"]["choices"][0]["message"]["tool_calls"] or []
    except (KeyError, IndexError, TypeError):
        calls = []
    for call in calls:
        if isinstance(call, dict) and call.get("id") == meta.get("tool_call_id"):
            function = call.get("function") or {}
            return str(function.get("name")), function.get("arguments")
    return None
