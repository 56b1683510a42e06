"""Plain OpenAI-style chat: ``messages`` with ``tool_calls`` (or the legacy ``function_call``).

The fallback for message lists: tools must be ones we run (``bash``/``execute_bash``,
``str_replace_editor``, ``submit``/``finish``; ``think`` is a thought). Without native calls the
assistant's text is read for ``<function=...>`` blocks, then for CodeAct tags. The task id is the
row's ``instance_id``/``task_id``/``id``, else the file name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from swe_srl.formats.base import ImportResult
from swe_srl.formats.text_actions import any_text_actions
from swe_srl.formats.rows import first_row, read_chat_rows


class OpenAIChatFormat:
    name = "openai-chat"

    def sniff(self, sample: Any) -> bool:
        return first_row(sample) is not None

    def read(self, path: Path) -> Iterator[ImportResult]:
        return read_chat_rows(path, source_format=self.name, text_parser=any_text_actions)
