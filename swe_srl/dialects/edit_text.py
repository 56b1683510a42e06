"""The pure text side of str_replace_editor: numbering, ranges, replacement and insertion.

Every function takes and returns strings, so the editor's behaviour is tested without a
sandbox. Messages keep the conditions of the editor that SWE-agent, OpenHands and Anthropic's tool
share; their wording, and how lines are counted, follow the EditorStyle of the observation dialect
(swe_srl/dialects): the teachers number ``text.split("\\n")``, so a final newline shows one more
numbered empty line, an insert of text ending in a newline adds an empty line, and a long file is
cut before it is numbered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from swe_srl.dialects import EditorStyle
from swe_srl.errors import SweSrlError

SNIPPET_LINES = 4  # context lines shown on each side of an edit
MAX_VIEW_CHARS = 16_000  # a longer view is clipped with a note telling the agent to use grep -n
OURS = EditorStyle()
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


def lines_of(text: str, style: EditorStyle = OURS) -> list[str]:
    """The lines the editor numbers: ``split_lines``, or every piece of ``text.split("\\n")`` for the teachers."""
    return text.split("\n") if style.final_newline_line else split_lines(text)


def numbered(text: str, first_line: int = 1, style: EditorStyle = OURS) -> str:
    """``text`` with `cat -n`-style line numbers starting at ``first_line``."""
    return "\n".join(f"{first_line + i:6}\t{line}" for i, line in enumerate(lines_of(text, style)))


def clip(text: str, limit: int = MAX_VIEW_CHARS, note: str = OURS.clip_note) -> str:
    """``text`` cut to ``limit`` characters with a note saying so."""
    return text if len(text) <= limit else text[:limit] + "\n" + note


def finish(text: str, style: EditorStyle = OURS) -> str:
    """An observation as the style delivers it (the classic editor strips it; a terminal ends lines with \\r\\n)."""
    return (text.strip() if style.strip else text).replace("\n", style.line_ending)


def error_text(message: str, style: EditorStyle = OURS) -> str:
    """An error message as the style words it."""
    return finish(style.error_prefix + message, style)


def path_error(path: str, message: str, style: EditorStyle = OURS) -> EditorError:
    """An error about ``path``, with the "Invalid `path` parameter" opening where the style has one."""
    return EditorError((f"Invalid `path` parameter: {path}. " if style.path_error_prefix else "") + message)


def cat_n(path: str, text: str, first: int, style: EditorStyle = OURS) -> str:
    """``Here's the result of running `cat -n` ...`` for ``text`` starting at line ``first``, clipped."""
    header = f"Here's the result of running `cat -n` on {path}:\n"
    if style.clip_before_numbering:
        cut = text if len(text) <= MAX_VIEW_CHARS else text[:MAX_VIEW_CHARS] + style.clip_note
        return header + numbered(cut, first, style) + "\n"
    return clip(header + numbered(text, first, style) + "\n", note=style.clip_note)


def parse_view_range(value: str | None) -> tuple[int, int] | None:
    """``"[a, b]"`` (the canonical Action form) or a JSON-ish pair, as two integers."""
    if value is None:
        return None
    numbers = re.fullmatch(r"\s*\[?\s*(-?\d+)\s*,\s*(-?\d+)\s*\]?\s*", value)
    if numbers is None:
        raise EditorError(f"Invalid `view_range` {value!r}. It should be a list of two integers.")
    return int(numbers.group(1)), int(numbers.group(2))


def view_file(path: str, text: str, view_range: tuple[int, int] | None = None, style: EditorStyle = OURS) -> str:
    """What `view` shows for a file, whole or the lines in ``view_range`` (end -1: to the end)."""
    if view_range is None:
        return cat_n(path, text, 1, style)
    lines = split_lines(text)
    count = len(lines)
    start, end = view_range
    fill = {"range": list(view_range), "start": start, "end": end, "count": count}
    if not 1 <= start <= count:
        raise EditorError(style.range_start_error.format(**fill))
    if end != -1 and end < start:
        raise EditorError(style.range_order_error.format(**fill))
    if end > count:
        raise EditorError(style.range_end_error.format(**fill))
    chosen = lines[start - 1 :] if end == -1 else lines[start - 1 : end]
    return cat_n(path, "\n".join(chosen) + ("" if style.final_newline_line else "\n"), start, style)


def created(path: str) -> str:
    """What `create` says (every dialect words it so)."""
    return f"File created successfully at: {path}"


def undone(path: str, previous: str, style: EditorStyle = OURS) -> str:
    """What `undo_edit` says after putting ``previous`` back: the whole file, as `view` shows it."""
    return f"Last edit to {path} undone successfully. " + view_file(path, previous, None, style)


def check_directory_view(view_range: str | None) -> None:
    """A directory's `view` takes no range."""
    if view_range is not None:
        raise EditorError("The `view_range` parameter is not allowed when `path` points to a directory.")


def view_directory(path: str, listing: str, style: EditorStyle = OURS) -> str:
    """What `view` shows for a directory, given its listing (one path per line, the root first)."""
    entries = [line for line in listing.splitlines() if line.strip()]
    if style.directory_root_slash and entries and not entries[0].endswith("/"):
        entries[0] += "/"
    body = "\n".join(entries) + ("" if style.final_newline_line else "\n")
    return clip(f"Here's the files and directories up to 2 levels deep in {path}, excluding hidden items:\n"
                + body, note=style.clip_note)


def _match_starts(text: str, needle: str) -> list[int]:
    """Offsets of every occurrence of ``needle``, overlapping ones included (they are ambiguous too)."""
    starts, at = [], text.find(needle)
    while at >= 0:
        starts.append(at)
        at = text.find(needle, at + 1)
    return starts


def _snippet(text: str, first_line: int, last_line: int, style: EditorStyle = OURS) -> tuple[str, int]:
    """Lines ``first_line``..``last_line`` (0-based, inclusive, clamped) and the 1-based start."""
    lines = lines_of(text, style)
    start = max(0, first_line)
    end = min(len(lines), last_line + 1)
    return "\n".join(lines[start:end]) + ("" if style.final_newline_line else "\n"), start + 1


def _edited(path: str, about: str, body: str, first: int, note: str, style: EditorStyle) -> str:
    return (f"The file {path} has been edited. Here's the result of running `cat -n` on a snippet of {about}:\n"
            + numbered(body, first, style) + "\n" + note)


def str_replace(path: str, text: str, old_str: str | None, new_str: str | None, style: EditorStyle = OURS) -> Edit:
    """Replace the one occurrence of ``old_str`` in ``text`` with ``new_str`` (default: nothing)."""
    if old_str is None:
        raise EditorError("Parameter `old_str` is required for command: str_replace.")
    if old_str == "":
        raise EditorError("No replacement was performed: `old_str` is empty; give the exact text to replace.")
    new_str = new_str or ""
    if old_str == new_str:
        raise EditorError(style.same_strings_error.format(new_str=new_str))
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
    added = new_str.count("\n") if style.final_newline_line else max(len(split_lines(new_str)) - 1, 0)
    shift = style.snippet_shift
    body, first = _snippet(new_text, edited_line - SNIPPET_LINES - shift, edited_line + added + SNIPPET_LINES - shift,
                           style)
    return Edit(new_text, _edited(path, path, body, first, REVIEW_NOTE, style))


def insert(path: str, text: str, insert_line: str | int | None, new_str: str | None,
           style: EditorStyle = OURS) -> Edit:
    """Insert ``new_str`` as whole lines after line ``insert_line`` (0: at the top)."""
    if insert_line is None:
        raise EditorError("Parameter `insert_line` is required for command: insert.")
    if new_str is None:
        raise EditorError("Parameter `new_str` is required for command: insert.")
    try:
        line = int(insert_line)
    except ValueError:
        raise EditorError(f"Invalid `insert_line` parameter: {insert_line!r}. It should be an integer.") from None
    lines = lines_of(text, style)
    if not 0 <= line <= len(lines):
        raise EditorError(
            f"Invalid `insert_line` parameter: {line}. It should be within the range of lines of "
            f"the file: [0, {len(lines)}]."
        )
    if style.final_newline_line:
        return _insert_split(path, lines, line, new_str, style)
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
    return Edit(new_text, _edited(path, "the edited file", body, first, INSERT_REVIEW_NOTE, style))


def _insert_split(path: str, lines: list[str], line: int, new_str: str, style: EditorStyle) -> Edit:
    """The teachers' insert: ``new_str.split("\\n")`` goes between the file's split lines, so text ending
    in a newline leaves an empty line after it."""
    added = new_str.split("\n")
    start = max(0, line - SNIPPET_LINES)
    body = "\n".join(lines[start:line] + added + lines[line : line + style.insert_context_after])
    new_text = "\n".join(lines[:line] + added + lines[line:])
    return Edit(new_text, _edited(path, "the edited file", body, start + 1, INSERT_REVIEW_NOTE, style))
