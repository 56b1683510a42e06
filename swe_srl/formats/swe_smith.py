"""SWE-smith fine-tuning rows, the SRL paper's data: ``{"messages": [...], "instance_id": ...}``.

Each assistant message holds reasoning then one ``<function=NAME>`` block (bash,
str_replace_editor, submit); observations are the user messages that follow. Only assistant
messages are parsed: the system prompt carries a ``<function=example_function_name>`` template.
Observation labels vary (``OBSERVATION:``, ``Observation:``, none) and are dropped. Runs call
``submit`` twice (the first gets SWE-agent's review text back): both are kept as steps. SWE-agent's
parser needs ``</function>``: a block without it got a format error back and is an invalid call.
Rows whose results read ``EXECUTION RESULT of [tool]:`` were written by OpenHands, whose parser
differs, and belong to ``swe-gym``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from swe_srl.formats.base import ImportResult, content_text
from swe_srl.formats.text_actions import function_blocks
from swe_srl.formats.rows import first_row, has_native_calls, openhands_text_form, read_chat_rows


class SweSmithFormat:
    name = "swe-smith"

    def sniff(self, sample: Any) -> bool:
        row = first_row(sample)
        if row is None or has_native_calls(row) or openhands_text_form(row):
            return False
        return any(
            isinstance(m, dict) and m.get("role") == "assistant" and "<function=" in content_text(m.get("content"))
            for m in row["messages"]
        )

    def read(self, path: Path) -> Iterator[ImportResult]:
        return read_chat_rows(path, source_format=self.name, text_parser=function_blocks)
