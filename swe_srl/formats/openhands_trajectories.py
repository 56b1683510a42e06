"""Published OpenHands trajectory sets whose chat sits under ``trajectory`` (2025-2026).

The row schema, as the dataset cards document it:

- nebius/SWE-rebench-openhands-trajectories (OpenHands 0.54, Qwen3-Coder-480B; 67,074 rows):
  ``trajectory_id``, ``instance_id``, ``repo``, ``trajectory`` (messages: ``role``, ``content``,
  assistant ``tool_calls`` with JSON-string ``arguments``, tool ``name`` and ``tool_call_id``),
  ``tools`` (the function specs offered), ``model_patch``, ``exit_status``, ``resolved`` (0/1),
  ``gen_tests_correct``, ``pred_passes_gen_tests``.
- nvidia/SWE-Zero-openhands-trajectories and nvidia/SWE-Hero-openhands-trajectories
  (Qwen3-Coder-480B): ``instance_id``, ``repo``, ``license``, ``trajectory_id``, ``trajectory``
  (the same messages; SWE-Hero's carry no ``name`` or ``tool_call_id``, so each tool message
  answers the oldest open call), ``model_patch``, ``dataset``. No ``resolved``.

They are published as parquet; ``datasets.load_dataset(NAME, split="train").to_json("x.jsonl")``
writes the JSONL this reads. The tools are OpenHands' (``execute_bash``, ``str_replace_editor``,
``think``, ``finish``, ``execute_ipython_cell``), read as in swe-gym rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from swe_srl.formats.base import ImportResult
from swe_srl.formats.rows import read_chat_rows
from swe_srl.formats.text_actions import any_text_actions

_FIELD = "trajectory"


class OpenHandsTrajectoriesFormat:
    name = "openhands-trajectories"

    def sniff(self, sample: Any) -> bool:
        row = sample[0] if isinstance(sample, list) and sample else sample
        chat = row.get(_FIELD) if isinstance(row, dict) else None
        return isinstance(chat, list) and bool(chat) and all(isinstance(m, dict) and "role" in m for m in chat[:20])

    def read(self, path: Path) -> Iterator[ImportResult]:
        return read_chat_rows(path, source_format=self.name, text_parser=any_text_actions, messages_field=_FIELD)
