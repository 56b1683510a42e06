"""The text a model reads for one bash command, in a dialect's framing (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from swe_srl.dialects.styles import BashStyle


@dataclass(frozen=True)
class BashResult:
    """What a command left, as the renderer needs it."""

    output: str  # stdout and stderr interleaved (with any notes the shell itself wrote)
    exit_code: int | None  # None when the command was killed at its timeout
    timed_out: bool = False
    truncated: bool = False  # the output went past the cap and was cut
    command: str = ""
    cwd: str | None = None  # the shell's directory after the command, where known
    timeout: float | None = None  # the limit it ran under, seconds
    output_cap: int | None = None  # bytes of output kept


def _stripped(text: str, how: str) -> str:
    return {"": text, "right": text.rstrip(), "both": text.strip()}[how]


def _notes(style: BashStyle, result: BashResult, text: str) -> list[str]:
    notes = []
    if result.truncated and style.truncation_note and "omitted" not in text:
        notes.append(style.truncation_note.format(cap=f" of {result.output_cap} bytes" if result.output_cap else ""))
    if result.timed_out:
        if "timed out" not in text[-500:]:  # the shell may have said so already
            notes.append(style.timeout_note.format(timeout=result.timeout or 0, command=result.command))
    elif style.failure_note and result.exit_code:
        notes.append(style.failure_note.format(code=result.exit_code))
    for line in style.after:
        if ("{code}" in line and result.exit_code is None) or ("{cwd}" in line and result.cwd is None):
            continue
        notes.append(line.format(code=result.exit_code, cwd=result.cwd))
    return notes


def render_bash(style: BashStyle, result: BashResult) -> str:
    """The observation for ``result`` framed as ``style`` says."""
    if result.timed_out and style.timeout_replaces_output:
        return style.timeout_note.format(timeout=result.timeout or 0, command=result.command)
    text = _stripped(result.output, style.strip)
    notes = _notes(style, result, text)
    if not text.strip() and not notes and style.empty_output is not None:
        text = style.empty_output
    elif style.newline_before_notes:
        text += "".join("\n" + note for note in notes)
    elif notes:
        text += ("" if not text or text.endswith("\n") else "\n") + "\n".join(notes)
    code = "" if result.exit_code is None else result.exit_code
    return style.envelope.format(text=text, code=code)
