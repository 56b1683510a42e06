"""NVIDIA's Nemotron SWE SFT rows: ``uuid``, ``messages``, ``license`` and no task id or verdict.

What the sources show (read 2026-12-02). No stored copy of Nemotron-SFT-SWE-v3's hub card
documents a row schema (its page holds the dataset viewer; an org member's 12-line "Create
README.md" pull request, hub discussion #1, is open), so the columns come from the viewer and from
a public loader:

- nvidia/Nemotron-SFT-SWE-v3 (parquet, 238k rows; tags tool-use, SWE, Nemotron_3_Ultra):
  columns ``messages`` (9 to 353 messages), ``uuid`` (36 characters) and ``license``
  (https://huggingface.co/datasets/nvidia/Nemotron-SFT-SWE-v3, its viewer). The rows mix agent
  harnesses, told apart by their system prompts: OpenHands, SWE-agent's ("You are a helpful
  assistant that can interact with a computer..."), opencode and others. A message is ``role``,
  ``content``, ``reasoning_content`` and ``tool_calls`` stored as one JSON string; there is no
  ``tools`` column (hub discussion #5 asks where the tool schemas are) and no ``tool_call_id``,
  so each tool message answers the oldest open call. OpenHands rows call ``execute_bash``,
  ``str_replace_editor``, ``think``, ``finish`` and ``task_tracker``. The message layout and the
  tool names are as a public loader reads them (https://github.com/JianhongTu/SkyRL,
  examples/train/multi-env/sft/prepare_openhands.py and generate_sft.py), not NVIDIA's word.
- nvidia/Nemotron-SWE-v1 (split ``r2e_gym``, OpenHands runs on R2E-Gym-Subset): ``uuid``,
  ``messages``, ``license``, ``used_in``, ``tools`` (OpenAI function specs), ``dataset``,
  ``repo``, as its viewer shows them (a copy: https://huggingface.co/datasets/nick007x/Nemotron-SWE-v1).
  The viewer does not show the messages' fields: they are read as v3's.
- nvidia/Nemotron-SFT-SWE-v2 (splits ``agentless`` and ``openhands_swe``): ``uuid`` and
  ``messages`` by the loaders that name it; no card or viewer of it is stored, so it is read as
  v1 and v3 are; an agentless row (no tool calls) fails as a record with no actions.

No row carries an instance id, a patch or a success label: every trajectory is ungraded
(``resolved`` None) and its task id is its ``uuid``. The harness is not a column, so no
observation dialect is assumed. Tools outside ours (opencode's, ``task_tracker``) are invalid tool
calls, counted and named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from swe_srl.formats.base import ImportResult
from swe_srl.formats.rows import first_row, read_chat_rows
from swe_srl.formats.text_actions import any_text_actions


class NemotronSweFormat:
    name = "nemotron-swe"

    def sniff(self, sample: Any) -> bool:
        row = first_row(sample)
        return row is not None and isinstance(row.get("uuid"), str) and "instance_id" not in row

    def read(self, path: Path) -> Iterator[ImportResult]:
        return read_chat_rows(path, source_format=self.name, text_parser=any_text_actions)
