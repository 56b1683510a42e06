"""mini-swe-agent trajectories: the action is the one fenced shell block of an assistant message.

Two fences occur: v1 ```` ```bash ```` and v2 ```` ```mswea_bash_command ````. The file is a bare
list of messages or, from the ``mini`` CLI, ``{"info", "messages", "trajectory_format"}``. The next
user message (``<returncode>``/``<output>``) is the observation. mini-swe-agent rejects a reply
without exactly one block; such a reply counts as an invalid tool call, and the feedback message
after it as its result. A command that starts with the finish marker (``echo
COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT``, v1 ``echo MINI_SWE_AGENT_FINAL_OUTPUT``) is mini's submit:
it becomes ``submit``, the command is kept in the step's metadata as ``original_command``, and
its output, the submitted diff, is the trajectory's patch when the run has no ``info.submission``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

from swe_srl.actions import SUBMIT, Action, find_blocks
from swe_srl.formats.base import ImportResult, Where, content_text, finish_record, guarded, iter_rows
from swe_srl.formats.chat import read_messages
from swe_srl.formats.rows import first_row, has_native_calls, task_id_of
from swe_srl.formats.toolcalls import Converted, ToolCallError, convert_call

_FENCE_START = re.compile(r"```(bash|mswea_bash_command)[ \t]*\n")
_FENCE_END = "\n```"
_FINISH_MARKERS = ("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "MINI_SWE_AGENT_FINAL_OUTPUT")


def _fences(text: str) -> Iterator[tuple[re.Match[str], str, int]]:
    """Each fenced shell block: (opening fence, command, end offset)."""
    return find_blocks(text, _FENCE_START, lambda _: _FENCE_END)


def _command(text: str) -> tuple[str, str]:
    blocks = list(_fences(text))
    if len(blocks) != 1:
        raise ToolCallError(f"format error: {len(blocks)} shell blocks, mini-swe-agent needs exactly one", "content")
    opening, command, _ = blocks[0]
    return text[: opening.start()].strip(), command


def _is_finish(command: str) -> bool:
    first = command.strip().split("\n", 1)[0].strip()
    return any(first.startswith(f"echo {marker}") for marker in _FINISH_MARKERS)


def fenced_block(text: str) -> tuple[str, list[Converted]]:
    thought, command = _command(text)
    if _is_finish(command):
        return thought, [Action.submit()]
    return thought, [convert_call("bash", {"command": command})]


class MiniSweAgentFormat:
    name = "mini-swe-agent"

    def sniff(self, sample: Any) -> bool:
        if isinstance(sample, dict) and str(sample.get("trajectory_format", "")).startswith("mini-swe-agent"):
            return True
        row = first_row(sample)
        if row is None or has_native_calls(row):
            return False
        return any(
            isinstance(m, dict) and m.get("role") == "assistant" and next(_fences(content_text(m.get("content"))), None)
            for m in row["messages"]
        )

    def read(self, path: Path) -> Iterator[ImportResult]:
        for where, row in iter_rows(path):
            if not isinstance(row, dict):
                yield where.failed(row if isinstance(row, Exception) else where.error("expected a JSON object or list"))  # type: ignore[arg-type]
                continue
            yield guarded(where, lambda: self._record(row, where))

    def _record(self, row: dict[str, Any], where: Where) -> ImportResult:
        if "messages" not in row:
            raise where.error("missing", "messages")
        messages = row["messages"]
        read = read_messages(messages, where, text_parser=fenced_block)
        steps = []
        patch = ""
        for step in read.steps:
            if step.action.tool == SUBMIT:
                source = content_text(messages[step.metadata["message_index"]].get("content"))
                step = replace(step, metadata={**step.metadata, "original_command": _command(source)[1]})
                if "diff --git" in step.observation:
                    patch = step.observation
            steps.append(step)
        info = row.get("info") if isinstance(row.get("info"), dict) else {}
        if isinstance(info.get("submission"), str) and info["submission"]:
            patch = info["submission"]
        task_id, trajectory_id = task_id_of({**info, **row}, where)
        metadata: dict[str, Any] = {"trajectory_id": trajectory_id}
        if isinstance(info.get("exit_status"), str):
            metadata["exit_status"] = info["exit_status"]
        return finish_record(
            where, source_format=self.name, steps=steps, skipped=read.skipped, units=read.units,
            task_id=task_id, problem_statement=read.task_prompt, patch=patch, metadata=metadata,
        )
