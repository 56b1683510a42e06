"""The dialect records and the named dialects: this project's own and the teachers'.

Every text below was read off real observations in ../shared/data/trajectories unless its comment
says otherwise; the replay suite (tests/dialects/test_replay.py) measures how many each reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from swe_srl.errors import ConfigError

NO_OUTPUT = "Your command ran successfully and did not produce any output."  # ours and SWE-agent's


@dataclass(frozen=True)
class BashStyle:
    """How a bash command's result is framed for the model."""

    strip: str = ""  # "": output as printed; "right": trailing whitespace dropped; "both": both ends
    empty_output: str | None = NO_OUTPUT  # shown for a command that printed nothing (and no note); None: nothing
    failure_note: str | None = None  # after a non-zero exit only ({code})
    # Lines after every command, in order: those with {code} are left out when the command timed out
    # (no exit code), those with {cwd} or {python} when the directory or interpreter is unknown.
    after: tuple[str, ...] = ()
    newline_before_notes: bool = False  # every note starts a new line, even after empty output
    timeout_note: str = ("[The command timed out after {timeout:g} seconds and was killed with every process it "
                         "started.]")
    timeout_replaces_output: bool = False  # the note is the whole observation ({command} may be named)
    truncation_note: str | None = "[Output truncated: the command printed more than the cap{cap}.]"
    # The whole observation around the framed text; it may name {code} (-1 after a timeout), {cwd},
    # {python} and {command}.
    envelope: str = "{text}"
    echo_command: bool = False  # the command line comes first, as a terminal echoes it
    cut_chars: int | None = None  # a longer enveloped text keeps its head and tail halves around cut_marker
    cut_marker: str = "\n[... Observation truncated due to length ...]\n"
    line_ending: str = "\n"  # "\r\n": the output came through a terminal


@dataclass(frozen=True)
class EditorStyle:
    """How str_replace_editor words its results and errors."""

    error_prefix: str = ""  # before every error message
    strip: bool = False  # the whole observation is stripped of surrounding whitespace
    # A file ending in a newline shows one more numbered, empty line (the teachers number text.split("\n")).
    final_newline_line: bool = False
    clip_before_numbering: bool = False  # the file text is cut, then numbered (the note ends its last line)
    clip_note: str = (
        "<response clipped><NOTE>Only part of this file is shown to save context. Search inside it "
        "with `grep -n` to find the line numbers you want, then view them with `view_range`.</NOTE>")
    path_error_prefix: bool = False  # path errors start "Invalid `path` parameter: PATH. "
    directory_root_slash: bool = False  # a directory view lists its root as "PATH/"
    range_start_error: str = ("Invalid `view_range`: {range}. Its first element `{start}` should be within the "
                              "range of lines of the file: [1, {count}].")
    range_order_error: str = ("Invalid `view_range`: {range}. Its second element `{end}` should be larger than "
                              "or equal to its first `{start}`.")
    range_end_error: str = ("Invalid `view_range`: {range}. Its second element `{end}` should be at most the "
                            "number of lines in the file: `{count}`.")
    same_strings_error: str = "No replacement was performed: `new_str` and `old_str` must be different."
    # Lines a str_replace snippet's window sits earlier than SNIPPET_LINES (4) around the edit: SWE-agent
    # shows 5 lines before and 3 after (every snippet in SWE-smith's runs), openhands-aci 3 and 5.
    snippet_shift: int = 0
    insert_context_after: int = 4  # lines an insert's snippet shows after the new text (openhands-aci: 5)
    line_ending: str = "\n"  # "\r\n": the results came through a terminal (SWE-agent's runtime)


@dataclass(frozen=True)
class Dialect:
    """A named way of rendering tool observations."""

    name: str
    description: str
    bash: BashStyle
    editor: EditorStyle


TEACHER_CLIP_NOTE = (
    "<response clipped><NOTE>Due to the max output limit, only part of this file has been shown to you. You "
    "should retry this tool after you have searched inside the file with `grep -n` in order to find the line "
    "numbers of what you are looking for.</NOTE>")
CLASSIC_CLIP_NOTE = (  # SWE-Gym's rows; SWE-smith's runs clip no view, so SWE-agent's is assumed the same
    "<response clipped><NOTE>To save on context only part of this file has been shown to you. You should "
    "retry this tool after you have searched inside the file with `grep -n` in order to find the line numbers "
    "of what you are looking for.</NOTE>")
# The Anthropic-derived editor that SWE-agent and SWE-Gym-era OpenHands ran: output stripped, view_range
# errors worded "It's ..." without a final period (the first-element case is in SWE-Gym's rows; the
# other two follow the same pattern and are not in the data).
_CLASSIC_EDITOR = EditorStyle(
    strip=True, final_newline_line=True, clip_before_numbering=True, clip_note=CLASSIC_CLIP_NOTE,
    range_start_error=("Invalid `view_range`: {range}. It's first element `{start}` should be within the range "
                       "of lines of the file: [1, {count}]"),
    range_order_error=("Invalid `view_range`: {range}. It's second element `{end}` should be larger or equal "
                       "than its first `{start}`"),
    range_end_error=("Invalid `view_range`: {range}. It's second element `{end}` should be smaller than the "
                     "number of lines in the file: `{count}`"),
)
# SWE-agent's: the classic editor with its snippet window, through a terminal (every multi-line result in
# SWE-smith's runs, and in the chat sent to the model, ends its lines with \r\n); no error prefix (none in the data).
_SWE_AGENT_EDITOR = replace(_CLASSIC_EDITOR, snippet_shift=1, line_ending="\r\n")
# The data holds no timeout: a teacher dialect's timeout note is worded as its tool words other notes,
# saying what happens here (the command and everything it started are killed; nothing can be waited for).
_KILLED = "[The command timed out after {timeout:g} seconds and was killed.]"

DIALECTS: dict[str, Dialect] = {d.name: d for d in (
    Dialect("swe-srl", "this project's own tools", BashStyle(
        failure_note="[The command exited with code {code}.]"), EditorStyle()),
    Dialect("openhands", "OpenHands since 2025 (openhands-aci editor, exit code and directory after every command)",
            BashStyle(strip="right", empty_output=None, newline_before_notes=True, after=(
                "[The command completed with exit code {code}.]", "[Current working directory: {cwd}]",
                "[Python interpreter: {python}]", "[Command finished with exit code {code}]"), truncation_note=None,
                timeout_note=_KILLED),
            # In the data: the prefix, the view_range end error, the new_str error, windows, clipping. The path
            # prefix is from issue 21's survey of openhands-aci; the start and order errors follow the end one.
            EditorStyle(
                error_prefix="ERROR:\n", final_newline_line=True, clip_before_numbering=True,
                clip_note=TEACHER_CLIP_NOTE, path_error_prefix=True, directory_root_slash=True,
                range_start_error=("Invalid `view_range` parameter: {range}. Its first element `{start}` should be "
                                   "within the range of lines of the file: [1, {count}]."),
                range_order_error=("Invalid `view_range` parameter: {range}. Its second element `{end}` should be "
                                   "greater than or equal to the first element `{start}`."),
                range_end_error=("Invalid `view_range` parameter: {range}. Its second element `{end}` should be "
                                 "smaller than the number of lines in the file: `{count}`."),
                same_strings_error=("Invalid `new_str` parameter: {new_str}. No replacement was performed. "
                                    "`new_str` and `old_str` must be different."),
                snippet_shift=-1, insert_context_after=5)),
    Dialect("openhands-2024", "OpenHands of the SWE-Gym rows (2024): exit code after every command, classic editor",
            BashStyle(strip="right", empty_output=None, truncation_note=None, echo_command=True, line_ending="\r\n",
                      timeout_note=_KILLED,
                      envelope="{text}[Python Interpreter: {python}]\nroot@openhands-workspace:{cwd} # ",
                      after=("[Command finished with exit code {code}]",), newline_before_notes=True,
                      cut_chars=30_000),
            replace(_CLASSIC_EDITOR, error_prefix="ERROR:\n")),
    Dialect("swe-agent", "SWE-agent 1.x as SWE-smith recorded it: trailing space dropped, \\r\\n line ends, no exit "
            "code, classic editor",
            # The timeout note is SWE-agent's wording as recalled: the data holds no timeout.
            BashStyle(strip="right", truncation_note=None, timeout_replaces_output=True, line_ending="\r\n",
                      timeout_note=("The command '{command}' was cancelled because it took more than {timeout:g} "
                                    "seconds. Please try a different command that completes more quickly.")),
            _SWE_AGENT_EDITOR),
    Dialect("mini-swe-agent", "mini-swe-agent: <returncode> and <output> around every result (bash only; the "
            "editor is SWE-agent's without its terminal)",
            BashStyle(empty_output=None, truncation_note=None,
                      envelope="<returncode>{code}</returncode>\n<output>\n{text}</output>"),
            replace(_SWE_AGENT_EDITOR, line_ending="\n")),
)}
DEFAULT_DIALECT = "swe-srl"
DIALECT_KEY = "observation_dialect"  # where a trajectory's metadata names its dialect

# The dialect each importer's trajectories were recorded in (its teacher's tools).
_FORMAT_DIALECTS = {
    "openhands": "openhands", "openhands-trajectories": "openhands", "swe-gym": "openhands-2024",
    "swe-agent": "swe-agent", "swe-smith": "swe-agent", "mini-swe-agent": "mini-swe-agent",
    "swe-srl": "swe-srl", "agent": "swe-srl",
}


def get_dialect(name: str) -> Dialect:
    """The dialect called ``name``; a ConfigError lists the known ones."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise ConfigError(f"unknown observation dialect {name!r} (known: {', '.join(DIALECTS)})") from None


def dialect_for_format(source_format: str) -> str | None:
    """The dialect of trajectories read by the importer ``source_format``; None when it cannot tell
    (a plain chat export says nothing of the tools that answered)."""
    return _FORMAT_DIALECTS.get(source_format)
