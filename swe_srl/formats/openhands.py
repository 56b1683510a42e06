"""OpenHands event streams: evaluation ``output.jsonl`` records and replay fixtures.

A record is ``{"instance_id", "instruction", "history": [events], "test_result": {"git_patch"}}``
(older versions store ``history`` as [action, observation] pairs), or a replay fixture, a plain
list of events. Agent events ``run``, ``read``, ``edit`` and ``finish`` are actions; an
observation joins the action its ``cause`` names (event ids skip numbers, so nothing relies on
order). The call the model made is read from ``tool_call_metadata`` when present, since replay
fixtures leave ``edit`` args empty (``content: ""``, no ``command``); without it, from the event's
args, then from ``translated_ipython_code``. ``think`` is a thought; an ``error`` observation
with no action before it is a call the runtime rejected ("invalid tool call"); a run may stop at
the iteration limit with no finish.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Iterator

from swe_srl.actions import Action
from swe_srl.formats.base import ImportResult, Skip, Where, file_task_id, finish_record, guarded, iter_documents
from swe_srl.formats.rows import patch_of, resolved_of
from swe_srl.formats.toolcalls import Thought, ToolCallError, Unsupported, convert_call
from swe_srl.trajectory import Step

_ACTIONS = {"run", "read", "edit", "finish"}
_RUNTIME = {"change_agent_state", "null", "agent_state_changed", "user_rejected", "pause", "reject", "condensation"}
_FILE_EDITOR = "file_editor(**{"


def _is_event(value: Any) -> bool:
    return isinstance(value, dict) and ("action" in value or "observation" in value) and "role" not in value


def _events(history: Any) -> list[Any]:
    """Flatten the older [action, observation] pair form."""
    events: list[Any] = []
    for item in history:
        if isinstance(item, list):
            events.extend(item)
        else:
            events.append(item)
    return events


class OpenHandsFormat:
    name = "openhands"

    def sniff(self, sample: Any) -> bool:
        if isinstance(sample, list) and sample:
            first = sample[0]
            if isinstance(first, dict) and isinstance(first.get("history"), list):
                sample = first
            else:
                return all(_is_event(e) for e in _events(sample[:20]))
        if isinstance(sample, dict) and isinstance(sample.get("history"), list) and "trajectory" not in sample:
            events = _events(sample["history"][:20])
            return bool(events) and all(_is_event(e) for e in events)
        return False

    def read(self, path: Path) -> Iterator[ImportResult]:
        for where, document in iter_documents(path):
            if isinstance(document, Exception):
                yield where.failed(document)  # type: ignore[arg-type]
            elif isinstance(document, list) and document and all(_is_event(e) for e in _events(document[:20])):
                yield guarded(where, lambda: self._record({"history": document}, where))
            elif isinstance(document, list):
                for index, row in enumerate(document):
                    row_where = Where(where.source, prefix=f"[{index}].")
                    yield guarded(row_where, lambda: self._record(row, row_where))
            else:
                yield guarded(where, lambda: self._record(document, where))

    def _record(self, record: Any, where: Where) -> ImportResult:
        if not isinstance(record, dict):
            raise where.error(f"expected a JSON object, got {type(record).__name__}")
        if not isinstance(record.get("history"), list):
            raise where.error("missing or not a list", "history")
        events = _events(record["history"])
        steps, skipped, task_prompt = _read_events(events, where)
        instance = record.get("instance") if isinstance(record.get("instance"), dict) else {}
        task_id = record.get("instance_id") or instance.get("instance_id") or file_task_id(where.source)
        statement = instance.get("problem_statement")
        metadata: dict[str, Any] = {"trajectory_id": str(task_id)}
        if isinstance(record.get("error"), str):
            metadata["error"] = record["error"]
        llm = record.get("metadata", {}).get("llm_config") if isinstance(record.get("metadata"), dict) else None
        if isinstance(llm, dict) and isinstance(llm.get("model"), str):
            metadata["model"] = llm["model"]
        return finish_record(
            where, source_format=self.name, steps=steps, skipped=skipped, units=len(events),
            task_id=str(task_id),
            problem_statement=statement if isinstance(statement, str) else task_prompt or str(record.get("instruction", "")),
            patch=patch_of(record), resolved=resolved_of(record), metadata=metadata,
        )


def _read_events(events: list[Any], where: Where) -> tuple[list[Step], list[Skip], str]:
    drafts: list[dict[str, Any]] = []
    skipped: list[Skip] = []
    by_id: dict[Any, int | str] = {}  # action event id -> draft index, or the kind of non-step
    task_prompt: str | None = None
    carried = ""
    last_kind = ""

    def skip(reason: str, index: int, error: str | None = None, field: str = "") -> None:
        skipped.append(Skip(reason, index, where.error(error, f"history[{index}]{field}") if error else None))

    for index, event in enumerate(events):
        if not _is_event(event):
            skip("malformed event", index, "event has neither 'action' nor 'observation'")
            continue
        if "action" in event:
            kind, source = event.get("action"), event.get("source")
            args = event.get("args") if isinstance(event.get("args"), dict) else {}
            if kind == "system":
                skip("system prompt", index)
            elif kind == "message" and source == "user":
                if task_prompt is None:
                    task_prompt = str(args.get("content", event.get("message", "")))
                    skip("task prompt", index)
                else:
                    skip("nudge" if last_kind == "agent message" else "user message", index)
            elif kind == "message":
                skip("assistant message without action", index)
                kind = "agent message"
            elif kind == "recall":
                skip("recall", index)
                by_id[event.get("id")] = "recall"
            elif kind == "think":
                carried = _join(carried, str(args.get("thought", "")))
                skip("think call", index)
                by_id[event.get("id")] = "think"
            elif kind in _ACTIONS:
                try:
                    action = _action(event, args)
                except ToolCallError as err:
                    skip("invalid tool call", index, str(err), f".{err.field}")
                    by_id[event.get("id")] = "invalid tool call"
                    last_kind = kind
                    continue
                if isinstance(action, (Thought, Unsupported)):
                    skip("think call" if isinstance(action, Thought) else f"unsupported tool {action.tool}", index)
                    by_id[event.get("id")] = "think" if isinstance(action, Thought) else "unsupported tool"
                    continue
                thought = str(args.get("thought") or args.get("final_thought") or "")
                drafts.append({"action": action, "thought": _join(carried, thought), "observation": "",
                               "metadata": {"event_id": event.get("id"), "event_index": index}})
                carried = ""
                by_id[event.get("id")] = len(drafts) - 1
            elif kind in _RUNTIME:
                skip("runtime event", index)
            else:
                skip(f"unsupported action {kind}", index)
                by_id[event.get("id")] = "unsupported action"
            last_kind = kind
        else:
            kind = event.get("observation")
            target = by_id.get(event.get("cause"), None) if "cause" in event else None
            if isinstance(target, int):
                draft = drafts[target]
                draft["observation"] = str(event.get("content", event.get("message", "")))
                draft["metadata"]["observation_index"] = index
            elif isinstance(target, str):
                skip(f"{target} result", index)
            elif kind == "error":
                skip("invalid tool call", index)  # the runtime rejected a call that never became an event
            elif kind in _RUNTIME:
                skip("runtime event", index)
            else:
                skip("observation without action", index)
    steps = [Step(d["action"], d["observation"], d["thought"], d["metadata"]) for d in drafts]
    return steps, skipped, task_prompt or ""


def _action(event: dict[str, Any], args: dict[str, Any]) -> Action | Thought | Unsupported:
    call = _metadata_call(event)
    if call is not None:
        return convert_call(*call)
    kind = event["action"]
    if kind == "finish":
        return Action.submit()
    if kind == "run":
        return convert_call("execute_bash", {"command": args.get("command"), "is_input": args.get("is_input", False)})
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
    literal = _file_editor_literal(str(args.get("translated_ipython_code", "")).strip())
    if literal:
        try:
            return convert_call("str_replace_editor", ast.literal_eval(literal))
        except (ValueError, SyntaxError):
            raise ToolCallError("translated_ipython_code is not a literal editor call", "args.translated_ipython_code") from None
    raise ToolCallError("edit event has no editor command (content-only edits are not supported)", "args.command")


def _file_editor_literal(code: str) -> str | None:
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


def _join(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())
