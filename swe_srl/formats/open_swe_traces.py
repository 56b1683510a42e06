"""NVIDIA's Open-SWE-Traces rows: OpenAI chat under ``messages`` with a task id and a verdict.

The columns, as the dataset viewer shows them (a copy of the set at
https://huggingface.co/datasets/ArkhAngelLifeJiggy/Open-SWE-Traces; the set itself is
https://huggingface.co/datasets/nvidia/Open-SWE-Traces, its paper
https://huggingface.co/papers/2606.16038): ``instance_id``, ``repo``, ``license``, ``language``
(nine: Python, Go, TypeScript, JavaScript, Rust, Java, PHP, C, C++), ``trajectory_id`` (a uuid),
``messages`` (23 to 401), ``tools`` (four function specs, each a JSON string), ``resolved`` (an
int32 from -1 to 1; the rows shown hold 1 and 0), ``metadata`` (a dict: ``category``,
``teacher_model`` with its name and thinking settings) and ``hf_dataset_name`` (the task
source, nebius/SWE-rebench-V2). The paper's runs come from two harnesses, OpenHands and SWE-agent,
and two teachers (MiniMax-M2.5 thinking, Qwen3.5-122B not); loaders pick them by folder,
``data/<harness>/<teacher>/`` (a tutorial that streams the set:
https://ai-maestro.online/building-supervised-fine-tuning-data-from-nvidia-open-swe/). A row does
not say which harness wrote it, so no observation dialect is assumed. The message fields beyond
``role`` and ``content`` are read as OpenAI's (``tool_calls``, ``tool_call_id``,
``reasoning_content``): the viewer shows no more.

``resolved`` 1 and 0 are the verdict; -1 is read as none (the row is ungraded, never a failure),
as the project reads it in every parquet export. Hub discussion #3 asks how ``resolved`` was
decided; the stored page has no answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from swe_srl.formats.base import ImportResult
from swe_srl.formats.rows import first_row, read_chat_rows
from swe_srl.formats.text_actions import any_text_actions


class OpenSweTracesFormat:
    name = "open-swe-traces"

    def sniff(self, sample: Any) -> bool:
        row = first_row(sample)
        return row is not None and isinstance(row.get("trajectory_id"), str) and isinstance(row.get("language"), str)

    def read(self, path: Path) -> Iterator[ImportResult]:
        return read_chat_rows(path, source_format=self.name, text_parser=any_text_actions)
