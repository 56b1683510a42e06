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
    python: str | None = None  # the Python interpreter a dialect may name (our sandboxes name none)
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
        fill = {"code": result.exit_code, "cwd": result.cwd, "python": result.python}
        if any("{" + name + "}" in line and value is None for name, value in fill.items()):
            continue
        notes.append(line.format(**fill))
    return notes


def _cut(text: str, style: BashStyle) -> str:
    """``text`` past the style's length limit: its head and tail halves around the marker."""
    if style.cut_chars is None or len(text) <= style.cut_chars:
        return text
    half = style.cut_chars // 2
    return text[:half] + style.cut_marker + text[-half:]


def render_bash(style: BashStyle, result: BashResult) -> str:
    """The observation for ``result`` framed as ``style`` says: the output (stripped, its empty-output
    text, echoed and line-ended as a terminal shows it) in the envelope, cut, then the notes."""
    if result.timed_out and style.timeout_replaces_output:
        return style.timeout_note.format(timeout=result.timeout or 0, command=result.command)
    text = _stripped(result.output, style.strip)
    notes = _notes(style, result, text)
    if not text.strip() and not notes and style.empty_output is not None:
        text = style.empty_output
    text = text.replace("\n", style.line_ending)
    if style.echo_command:  # a terminal shows the command line first, the output on the lines after it
        text = result.command + (style.line_ending + text if text else "")
    fill = {"code": -1 if result.exit_code is None else result.exit_code, "cwd": result.cwd or "",
            "python": result.python or "", "command": result.command}
    text = _cut(style.envelope.format(text=text, **fill), style)
    if style.newline_before_notes:
        return text + "".join("\n" + note for note in notes)
    return text + ("" if not notes or not text or text.endswith("\n") else "\n") + "\n".join(notes)
