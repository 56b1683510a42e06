"""SWE-agent ``.traj`` files: ``trajectory`` steps and the ``history`` chat.

``trajectory`` has one entry per step (``thought``, ``action``, ``observation``, ``state``);
``history`` is the chat (``role``, ``content``, ``thought``, ``action``, ``tool_calls``,
``message_type``, ``is_demo``). When both are there and the history's assistant turns match the
trajectory's steps one to one, each step takes its call from the history (native ``tool_calls``
carry exact arguments) and its observation from the trajectory (raw, without the chat's
framing, unless empty there); a file with only ``history`` (older function-calling demos) is read from the chat;
if the two disagree, the trajectory alone is used and the history is counted as skipped.
Command mapping: see swe_agent_commands.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterator

from swe_srl.actions import Action
from swe_srl.formats.base import (
    ImportResult, Skip, Where, content_text, file_task_id, finish_record, guarded, iter_documents,
    strip_observation_label,
)
from swe_srl.formats.swe_agent_commands import call_action, command_action
from swe_srl.formats.toolcalls import ToolCallError
from swe_srl.trajectory import Step

logger = logging.getLogger(__name__)


class SweAgentFormat:
    name = "swe-agent"

    def sniff(self, sample: Any) -> bool:
        if not isinstance(sample, dict):
            return False
        trajectory, history = sample.get("trajectory"), sample.get("history")
        if isinstance(trajectory, list) and trajectory and isinstance(trajectory[0], dict):
            return "action" in trajectory[0] and "observation" in trajectory[0]
        return (
            isinstance(history, list) and bool(history)
            and all(isinstance(m, dict) and "role" in m for m in history[:20])
            and any(isinstance(m, dict) and "message_type" in m or "agent" in m for m in history[:20])
        )

    def read(self, path: Path) -> Iterator[ImportResult]:
        for where, document in iter_documents(path):
            if isinstance(document, Exception):
                yield where.failed(document)  # type: ignore[arg-type]
            elif not isinstance(document, dict):
                yield where.failed(where.error(f"expected a JSON object, got {type(document).__name__}"))
            else:
                yield guarded(where, lambda: self._record(document, where))

    def _record(self, data: dict[str, Any], where: Where) -> ImportResult:
        trajectory = data.get("trajectory") or []
        history = data.get("history") or []
        if not isinstance(trajectory, list) or not isinstance(history, list):
            raise where.error("must be a list", "trajectory" if not isinstance(trajectory, list) else "history")
        if not trajectory and not history:
            raise where.error("missing: neither 'trajectory' nor 'history' holds steps", "trajectory")
        turns = [i for i, m in enumerate(history) if _role(m) == "assistant" and not m.get("is_demo")]
        if trajectory and len(turns) != len(trajectory):
            logger.info("%s: history has %d assistant turns for %d steps; reading the trajectory alone",
                        where.source, len(turns), len(trajectory))
            steps, skipped, task_prompt = _from_trajectory(trajectory, where)
            skipped += [Skip("history (trajectory used)", i) for i in range(len(history))]
            units = len(trajectory) + len(history)
        else:
            steps, skipped, task_prompt = _from_history(history, trajectory, where)
            units = len(history)
        info = data.get("info") if isinstance(data.get("info"), dict) else {}
        metadata: dict[str, Any] = {}
        if isinstance(info.get("exit_status"), str):
            metadata["exit_status"] = info["exit_status"]
        task_id = _task_id(data, where)
        metadata["trajectory_id"] = task_id
        return finish_record(
            where, source_format=self.name, steps=steps, skipped=skipped, units=units, task_id=task_id,
            problem_statement=task_prompt, patch=str(info.get("submission") or ""), metadata=metadata,
        )


def _role(message: Any) -> str | None:
    return message.get("role") if isinstance(message, dict) else None


def _state(entry: Any) -> dict[str, Any]:
    state = entry.get("state") if isinstance(entry, dict) else None
    if isinstance(state, str):
        try:
            state = json.loads(state)
        except json.JSONDecodeError:
            return {}
    return state if isinstance(state, dict) else {}


def _cwd(trajectory: list[Any], k: int) -> str | None:
    """The working directory when step k ran: the state after step k-1, else after step k."""
    for j in (k - 1, k):
        entry = trajectory[j] if 0 <= j < len(trajectory) else None
        cwd = _state(entry).get("working_dir")
        if isinstance(cwd, str) and cwd:
            return cwd
    return None


def _step(action: Action, text: str, observation: str, thought: str, meta: dict[str, Any]) -> Step:
    if action.tool != "bash" or action.get("command") != text.strip():
        meta["original_command"] = text.strip()
    return Step(action, observation, thought.strip(), meta)


def _from_trajectory(trajectory: list[Any], where: Where) -> tuple[list[Step], list[Skip], str]:
    steps: list[Step] = []
    skipped: list[Skip] = []
    for k, entry in enumerate(trajectory):
        if not isinstance(entry, dict) or not isinstance(entry.get("action"), str):
            skipped.append(Skip("invalid step", k, where.error("missing or not text", f"trajectory[{k}].action")))
            continue
        try:
            action = command_action(entry["action"], _cwd(trajectory, k))
        except ToolCallError as err:
            skipped.append(Skip("invalid tool call", k, where.error(str(err), f"trajectory[{k}].action")))
            continue
        steps.append(_step(action, entry["action"], str(entry.get("observation") or ""),
                           str(entry.get("thought") or ""), {"trajectory_index": k}))
    return steps, skipped, ""


def _from_history(history: list[Any], trajectory: list[Any], where: Where) -> tuple[list[Step], list[Skip], str]:
    steps: list[Step] = []
    skipped: list[Skip] = []
    task_prompt: str | None = None
    awaiting: int | None = None  # index into steps whose observation comes next in the chat
    k = 0  # assistant turn number = trajectory index
    for i, message in enumerate(history):
        role = _role(message)
        if role is None:
            skipped.append(Skip("malformed message", i, where.error("message has no role", f"history[{i}].role")))
        elif message.get("is_demo"):
            skipped.append(Skip("demonstration", i))
        elif role == "system":
            skipped.append(Skip("system prompt", i))
        elif role in ("user", "tool"):
            if awaiting is not None:
                step = steps[awaiting]
                if not step.observation:
                    # No trajectory, or SWE-agent recorded empty output there and told the model
                    # something ("Your command ran successfully..."): keep what the model saw.
                    step = Step(step.action, strip_observation_label(content_text(message.get("content"))),
                                step.thought, step.metadata)
                step.metadata["observation_index"] = i
                steps[awaiting] = step
                awaiting = None
            elif task_prompt is None:
                task_prompt = content_text(message.get("content"))
                skipped.append(Skip("task prompt", i))
            else:
                skipped.append(Skip("user message", i))
        elif role == "assistant":
            entry = trajectory[k] if k < len(trajectory) else {}
            text = message.get("action") if isinstance(message.get("action"), str) else entry.get("action", "")
            calls = message.get("tool_calls") or []
            try:
                if calls:
                    function = calls[0].get("function") or {}
                    action = call_action(str(function.get("name")), function.get("arguments"), text, _cwd(trajectory, k))
                else:
                    action = command_action(text, _cwd(trajectory, k))
            except ToolCallError as err:
                skipped.append(Skip("invalid tool call", i, where.error(str(err), f"history[{i}].{err.field}")))
                k += 1
                awaiting = None
                continue
            if len(calls) > 1:
                # SWE-agent runs one call per turn; the others never ran.
                skipped.append(Skip("extra tool calls (not run by SWE-agent)", i))
            thought = entry.get("thought") if entry else None
            observation = str(entry.get("observation") or "") if entry else ""
            meta: dict[str, Any] = {"message_index": i}
            if entry:
                meta["trajectory_index"] = k
            steps.append(_step(action, text, observation, str(thought if thought is not None else message.get("thought") or ""), meta))
            awaiting = len(steps) - 1
            k += 1
        else:
            skipped.append(Skip(f"unknown role {role}", i, where.error(f"unknown role '{role}'", f"history[{i}].role")))
    return steps, skipped, task_prompt or ""


def _task_id(data: dict[str, Any], where: Where) -> str:
    config = data.get("replay_config")
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except json.JSONDecodeError:
            config = None
    if isinstance(config, dict):
        statement = config.get("problem_statement")
        if isinstance(statement, dict) and isinstance(statement.get("id"), str) and statement["id"]:
            return statement["id"]
    environment = data.get("environment")
    if isinstance(environment, str) and environment not in ("", "main", "swe_main"):
        return environment
    return file_task_id(where.source)
