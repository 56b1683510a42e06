"""SWE-Gym / OpenHands chat rows: ``messages`` with native ``tool_calls``.

The tools are ``execute_bash``, ``str_replace_editor``, ``think`` and ``finish``; ``arguments`` is a
JSON string; a message may carry several calls, each answered by its own ``tool`` message; turns
without a call are followed by a "Please continue working" user nudge; a run can end with no
``finish``. Sample ids carry a ``_N`` suffix (``python__mypy-15976_0``): the task id drops it,
the trajectory id keeps it. OpenHands without native calls writes the same run as text:
``<function=NAME>`` blocks (a final one may lack ``</function>``: see text_actions) answered by
user messages that start ``EXECUTION RESULT of [NAME]:``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from swe_srl.formats.base import ImportResult
from swe_srl.formats.text_actions import any_text_actions
from swe_srl.formats.rows import call_names, first_row, openhands_text_form, read_chat_rows

_OPENHANDS_TOOLS = {"execute_bash", "str_replace_editor"}


class SweGymFormat:
    name = "swe-gym"

    def sniff(self, sample: Any) -> bool:
        row = first_row(sample)
        return row is not None and (bool(call_names(row) & _OPENHANDS_TOOLS) or openhands_text_form(row))

    def read(self, path: Path) -> Iterator[ImportResult]:
        # A row without native calls may still hold the text form of the same tools.
        return read_chat_rows(path, source_format=self.name, text_parser=any_text_actions)
