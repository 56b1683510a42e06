"""The pure text side of str_replace_editor: numbering, ranges, replacement and insertion.

Every function takes and returns strings, so the editor's behaviour is tested without a
sandbox. Messages keep the conditions (and much of the wording) of the editor that SWE-agent,
OpenHands and Anthropic's tool share, since teacher trajectories were recorded against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from swe_srl.errors import SweSrlError

SNIPPET_LINES = 4  # context lines shown on each side of an edit
MAX_VIEW_CHARS = 16_000  # a longer view is clipped with a note telling the agent to use grep -n
CLIPPED_NOTE = (
    "<response clipped><NOTE>Only part of this file is shown to save context. Search inside it "
    "with `grep -n` to find the line numbers you want, then view them with `view_range`.</NOTE>"
)
REVIEW_NOTE = "Review the changes and make sure they are as expected. Edit the file again if necessary."
INSERT_REVIEW_NOTE = (
    "Review the changes and make sure they are as expected (correct indentation, no duplicate "
    "lines, etc). Edit the file again if necessary."
)


class EditorError(SweSrlError):
    """An editor call that cannot be carried out; its message is the agent's observation."""


@dataclass(frozen=True)
class Edit:
    """The result of an edit: the new file text and the message shown to the agent."""

    text: str
    message: str


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their newlines; a final newline does not start a line."""
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


def numbered(text: str, first_line: int = 1) -> str:
    """``text`` with `cat -n`-style line numbers starting at ``first_line``."""
    return "\n".join(f"{first_line + i:6}\t{line}" for i, line in enumerate(split_lines(text)))


def clip(text: str, limit: int = MAX_VIEW_CHARS) -> str:
    """``text`` cut to ``limit`` characters with a note saying so."""
    return text if len(text) <= limit else text[:limit] + "\n" + CLIPPED_NOTE


def parse_view_range(value: str | None) -> tuple[int, int] | None:
    """``"[a, b]"`` (the canonical Action form) or a JSON-ish pair, as two integers."""
    if value is None:
        return None
    numbers = re.fullmatch(r"\s*\[?\s*(-?\d+)\s*,\s*(-?\d+)\s*\]?\s*", value)
    if numbers is None:
        raise EditorError(f"Invalid `view_range` {value!r}. It should be a list of two integers.")
    return int(numbers.group(1)), int(numbers.group(2))


def view_file(path: str, text: str, view_range: tuple[int, int] | None = None) -> str:
    """What `view` shows for a file, whole or the lines in ``view_range`` (end -1: to the end)."""
    first = 1
    if view_range is not None:
        lines = split_lines(text)
        count = len(lines)
        start, end = view_range
        if not 1 <= start <= count:
            raise EditorError(
                f"Invalid `view_range`: {list(view_range)}. Its first element `{start}` should be "
                f"within the range of lines of the file: [1, {count}]."
            )
        if end != -1 and end < start:
            raise EditorError(
                f"Invalid `view_range`: {list(view_range)}. Its second element `{end}` should be "
                f"larger than or equal to its first `{start}`."
            )
        if end > count:
            raise EditorError(
                f"Invalid `view_range`: {list(view_range)}. Its second element `{end}` should be "
                f"at most the number of lines in the file: `{count}`."
            )
        chosen = lines[start - 1 :] if end == -1 else lines[start - 1 : end]
        text = "\n".join(chosen) + "\n"
        first = start
    return clip(f"Here's the result of running `cat -n` on {path}:\n" + numbered(text, first) + "\n")


def view_directory(path: str, listing: str) -> str:
    """What `view` shows for a directory, given its listing (one path per line)."""
    entries = "\n".join(line for line in listing.splitlines() if line.strip())
    return clip(
        f"Here's the files and directories up to 2 levels deep in {path}, excluding hidden items:\n"
        + entries
        + "\n"
    )


def _match_starts(text: str, needle: str) -> list[int]:
    """Offsets of every occurrence of ``needle``, overlapping ones included (they are ambiguous too)."""
    starts, at = [], text.find(needle)
    while at >= 0:
        starts.append(at)
        at = text.find(needle, at + 1)
    return starts


def _snippet(text: str, first_line: int, last_line: int) -> tuple[str, int]:
    """Lines ``first_line``..``last_line`` (0-based, inclusive, clamped) and the 1-based start."""
    lines = split_lines(text)
    start = max(0, first_line)
    end = min(len(lines), last_line + 1)
    return "\n".join(lines[start:end]) + "\n", start + 1


def str_replace(path: str, text: str, old_str: str | None, new_str: str | None) -> Edit:
    """Replace the one occurrence of ``old_str`` in ``text`` with ``new_str`` (default: nothing)."""
    if old_str is None:
        raise EditorError("Parameter `old_str` is required for command: str_replace.")
    if old_str == "":
        raise EditorError("No replacement was performed: `old_str` is empty; give the exact text to replace.")
    new_str = new_str or ""
    if old_str == new_str:
        raise EditorError("No replacement was performed: `new_str` and `old_str` must be different.")
    starts = _match_starts(text, old_str)
    if not starts:
        raise EditorError(f"No replacement was performed, old_str `{old_str}` did not appear verbatim in {path}.")
    if len(starts) > 1:
        lines = sorted({text.count("\n", 0, at) + 1 for at in starts})
        raise EditorError(
            f"No replacement was performed. Multiple occurrences of old_str `{old_str}` in lines "
            f"{lines}. Please ensure it is unique."
        )
    at = starts[0]
    new_text = text[:at] + new_str + text[at + len(old_str) :]
    edited_line = text.count("\n", 0, at)  # 0-based line where the replacement starts
    last_line = edited_line + max(len(split_lines(new_str)) - 1, 0)
    body, first = _snippet(new_text, edited_line - SNIPPET_LINES, last_line + SNIPPET_LINES)
    message = (
        f"The file {path} has been edited. Here's the result of running `cat -n` on a snippet of {path}:\n"
        + numbered(body, first)
        + "\n"
        + REVIEW_NOTE
    )
    return Edit(new_text, message)


def insert(path: str, text: str, insert_line: str | int | None, new_str: str | None) -> Edit:
    """Insert ``new_str`` as whole lines after line ``insert_line`` (0: at the top)."""
    if insert_line is None:
        raise EditorError("Parameter `insert_line` is required for command: insert.")
    if new_str is None:
        raise EditorError("Parameter `new_str` is required for command: insert.")
    try:
        line = int(insert_line)
    except ValueError:
        raise EditorError(f"Invalid `insert_line` parameter: {insert_line!r}. It should be an integer.") from None
    lines = split_lines(text)
    if not 0 <= line <= len(lines):
        raise EditorError(
            f"Invalid `insert_line` parameter: {line}. It should be within the range of lines of "
            f"the file: [0, {len(lines)}]."
        )
    head = "".join(f"{x}\n" for x in lines[:line])
    tail_lines = lines[line:]
    tail = "\n".join(tail_lines) + ("\n" if tail_lines and text.endswith("\n") else "")
    block = new_str
    # The inserted text is whole lines; the file keeps its own trailing-newline state.
    if not block.endswith("\n") and (tail or text.endswith("\n") or not text):
        block += "\n"
    new_text = head + block + tail
    added = len(split_lines(block)) or 1
    body, first = _snippet(new_text, line - SNIPPET_LINES, line + added - 1 + SNIPPET_LINES)
    message = (
        f"The file {path} has been edited. Here's the result of running `cat -n` on a snippet of the edited file:\n"
        + numbered(body, first)
        + "\n"
        + INSERT_REVIEW_NOTE
    )
    return Edit(new_text, message)
