"""Replay the teachers' real observations (../shared/data/trajectories) in their own dialect.

For each editor call the file state its observation implies is rebuilt (the numbered lines a view
shows, a snippet with the edit taken back out, a file of the length an error names, a listing),
the call is made again on that state with this project's editor in the trajectory's dialect, and
the text is compared byte for byte with what the teacher's model read (as the importer keeps it).
Each bash result is taken apart into output, exit code and directory, and framed again.

    PYTHONPATH=. python -m tests.dialects.replay      # the match rate per source and kind
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from swe_srl.actions import BASH, EDITOR
from swe_srl.dialects import DIALECT_KEY, Dialect, EditorStyle, edit_text, get_dialect
from swe_srl.dialects.bash import BashResult, render_bash
from swe_srl.dialects.edit_text import MAX_VIEW_CHARS, SNIPPET_LINES, EditorError
from swe_srl.formats import import_paths
from swe_srl.trajectory import Step

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "trajectories"
FILLER = "# filler line {}"  # lines the observation does not show; never part of an old_str
WINDOWED = re.compile(r"^\[File: |\n\(Open file: |\n\(Current directory: ")  # SWE-agent 0.x's windowed tools
WINDOWED_RUN = "SWE-agent 0.x run"
NUMBERED = re.compile(r"^ *(\d+)(?:\t(.*))?$")
VIEW_HEAD = re.compile(r"^Here's the result of running `cat -n` on (?P<path>[^\n]*?):\n")
EDIT_HEAD = re.compile(r"^The file (?P<path>[^\n]*?) has been edited\. Here's the result of running `cat -n` on a "
                       r"snippet of [^\n]*?:\n")
UNDO_HEAD = re.compile(r"^Last edit to (?P<path>[^\n]*?) undone successfully\. ")


@dataclass(frozen=True)
class Outcome:
    """One replayed observation."""

    source: str  # the importer's format name
    kind: str  # e.g. "editor view", "bash"
    dialect: str
    matched: bool
    recorded: str
    rendered: str


def numbered_lines(body: str) -> tuple[int, list[str]] | None:
    """(first line number, the lines' text) of ``cat -n`` output; None when it is not that."""
    first, lines = None, []
    for row in body.split("\n"):
        match = NUMBERED.match(row)
        if match is None:
            return None
        first = int(match.group(1)) if first is None else first
        lines.append(match.group(2) or "")
    return (first, lines) if first is not None else None


def _body(text: str, head: re.Pattern[str], style: EditorStyle) -> tuple[str, str] | None:
    """(path, the numbered part) of an observation opening with ``head``."""
    match = head.match(text)
    if match is None:
        return None
    body = text[match.end():]
    if not style.strip and body.endswith("\n"):
        body = body[:-1]
    return match.group("path"), body


def _fillers(count: int, start: int = 0) -> list[str]:
    return [FILLER.format(start + i) for i in range(count)]


def _file_of_view(body: str, view_range: tuple[int, int] | None, style: EditorStyle) -> str | None:
    """The file text a whole-file or ranged view implies (what it does not show: filler)."""
    clipped = style.clip_note in body
    if clipped:
        body = body.replace(style.clip_note, "")
    parsed = numbered_lines(body)
    if parsed is None:
        return None
    first, lines = parsed
    if view_range is None:
        text = "\n".join(lines) if style.final_newline_line else "\n".join(lines) + "\n"
        if clipped:  # the text was cut at MAX_VIEW_CHARS before numbering: what follows is unseen
            text += "\n".join(["", *_fillers(400)])
        return text
    before = _fillers(first - 1)
    after = [] if view_range[1] == -1 else _fillers(SNIPPET_LINES, first + len(lines))
    return "\n".join(before + lines + after) + "\n"


def replay_view(args: dict, recorded: str, style: EditorStyle, out: EditorStyle) -> str:
    path = args.get("path") or ""
    view_range = edit_text.parse_view_range(args.get("view_range"))
    listing = recorded.split(":\n", 1)[1] if recorded.startswith("Here's the files and directories") else None
    if listing is not None:  # a directory: its listing is the state
        entries = listing.split("\n")
        entries[0] = entries[0].rstrip("/") or "/"
        return edit_text.finish(edit_text.view_directory(path, "\n".join(entries), out), out)
    error = _view_error(recorded, args, style, out)
    if error is not None:
        return error
    parts = _body(recorded, VIEW_HEAD, style)
    text = None if parts is None else _file_of_view(parts[1], view_range, style)
    if text is None:
        return "<no file state could be read off the observation>"
    return edit_text.finish(edit_text.view_file(path, text, view_range, out), out)


def _view_error(recorded: str, args: dict, style: EditorStyle, out: EditorStyle) -> str | None:
    """The error a view made, on a directory or on a file of the length the message names."""
    if "`path` points to a directory" in recorded:
        try:
            edit_text.check_directory_view(args.get("view_range"))
        except EditorError as error:
            return edit_text.error_text(str(error), out)
    count = re.search(r"(?:\[1, |`)(\d+)\]?`?\.?$", recorded)
    if not recorded.startswith(style.error_prefix + "Invalid `view_range`") or count is None:
        return None
    text = "".join(f"line {i}\n" for i in range(int(count.group(1))))
    try:
        edit_text.view_file(args["path"], text, edit_text.parse_view_range(args.get("view_range")), out)
    except EditorError as error:
        return edit_text.error_text(str(error), out)
    return "<the view did not fail>"


def replay_str_replace(args: dict, recorded: str, style: EditorStyle, out: EditorStyle) -> str:
    path, old, new = args.get("path") or "", args.get("old_str"), args.get("new_str")
    text = _file_before_replace(recorded, old, new or "", style)
    try:
        return edit_text.finish(edit_text.str_replace(path, text, old, new, out).message, out)
    except EditorError as error:
        return edit_text.error_text(str(error), out)


def _file_before_replace(recorded: str, old: str | None, new: str, style: EditorStyle) -> str:
    """A file holding ``old`` where the snippet shows ``new`` (or, for an error, where the error says)."""
    lines_at = re.search(r"Multiple occurrences of old_str .* in lines \[([\d, ]+)\]", recorded, re.DOTALL)
    if lines_at is not None and old:
        wanted = [int(n) for n in lines_at.group(1).split(",")]
        return "\n".join(old if i + 1 in wanted else FILLER.format(i) for i in range(max(wanted) + 2)) + "\n"
    parts = _body(recorded.rsplit("\n", 1)[0], EDIT_HEAD, style)
    parsed = None if parts is None else numbered_lines(parts[1])
    if parsed is None or old is None:
        return "\n".join(_fillers(10)) + "\n"
    first, lines = parsed
    shown = "\n".join(lines)
    at = shown.find(new) if new else _line_start(shown, SNIPPET_LINES + style.snippet_shift if first > 1 else 0)
    if at < 0:
        return "\n".join(_fillers(10)) + "\n"
    local = shown[:at] + old + shown[at + len(new):]
    edited = first - 1 + shown.count("\n", 0, at)  # 0-based line of the replacement
    window_end = edited + new.count("\n") + SNIPPET_LINES - style.snippet_shift  # the snippet's last line
    ends_here = first - 1 + len(lines) - 1 < window_end  # the snippet stopped at the end of the file
    after = [] if ends_here else _fillers(SNIPPET_LINES, 10_000)
    text = "\n".join(_fillers(first - 1) + [local] + after)
    return text if ends_here and style.final_newline_line else text + "\n"


def _line_start(text: str, line: int) -> int:
    """The offset where 0-based ``line`` of ``text`` starts (an empty new_str leaves only its place)."""
    at = 0
    for _ in range(line):
        at = text.find("\n", at) + 1
    return at


def replay_insert(args: dict, recorded: str, style: EditorStyle, out: EditorStyle) -> str:
    path, new = args.get("path") or "", args.get("new_str") or ""
    line = int(args.get("insert_line") or 0)
    parts = _body(recorded.rsplit("\n", 1)[0], EDIT_HEAD, style)
    parsed = None if parts is None else numbered_lines(parts[1])
    if parsed is None:
        return "<no file state could be read off the observation>"
    first, lines = parsed
    added = len(new.split("\n")) if style.final_newline_line else len(edit_text.split_lines(new) or [""])
    split = line - (first - 1)
    old_lines = lines[:split] + lines[split + added:]
    ends_here = len(lines) - split - added < style.insert_context_after
    text = "\n".join(_fillers(first - 1) + old_lines + ([] if ends_here else _fillers(SNIPPET_LINES, 10_000)))
    text += "" if ends_here and style.final_newline_line else "\n"
    try:
        return edit_text.finish(edit_text.insert(path, text, line, new, out).message, out)
    except EditorError as error:
        return edit_text.error_text(str(error), out)


def replay_undo(args: dict, recorded: str, style: EditorStyle, out: EditorStyle) -> str:
    match = UNDO_HEAD.match(recorded)
    parts = None if match is None else _body(recorded[match.end():], VIEW_HEAD, style)
    text = None if parts is None else _file_of_view(parts[1], None, style)
    if text is None:
        return "<no file state could be read off the observation>"
    return edit_text.finish(edit_text.undone(args.get("path") or "", text, out), out)


EDITOR_REPLAYS = {"view": replay_view, "str_replace": replay_str_replace, "insert": replay_insert,
                  "undo_edit": replay_undo,
                  "create": lambda args, recorded, style, out: edit_text.created(args["path"])}


def replay_bash(recorded: str, dialect: Dialect, command: str, out: Dialect) -> str:
    """``recorded`` taken apart into the command's result as ``dialect`` frames it, and framed as ``out`` does."""
    style = dialect.bash
    found: dict[str, str] = {}
    text = recorded
    for line in reversed(style.after):  # the lines after the output, last first
        pattern = re.escape("\n" + line).replace(r"\{code\}", r"(?P<code>-?\d+)").replace(
            r"\{cwd\}", r"(?P<cwd>[^\n]*)").replace(r"\{python\}", r"(?P<python>[^\n]*)") + "$"
        match = re.search(pattern, text)
        if match is not None:
            found.update(match.groupdict())
            text = text[:match.start()]
    if style.envelope != "{text}":  # mini-swe-agent's <returncode>/<output>, SWE-Gym's terminal prompt
        pattern = re.escape(style.envelope).replace(r"\{text\}", "(?P<text>.*)")
        for name, value in (("code", r"-?\d+"), ("cwd", r"[^\n]*?"), ("python", r"[^\n\]]*")):
            pattern = pattern.replace(r"\{" + name + r"\}", f"(?P<{name}>{value})")
        match = re.fullmatch(pattern, text, re.DOTALL)
        if match is None:
            return "<not framed as the dialect frames a result>"
        found.update({k: v for k, v in match.groupdict().items() if k != "text"})
        text = match.group("text")
    if style.cut_chars is not None:  # the cut-out middle is unseen: any text long enough stands for it
        text = text.replace(style.cut_marker, "~" * 100)
    if style.echo_command:
        text = text[len(command):].removeprefix(style.line_ending) if text.startswith(command) else "<no echo>"
    text = text.replace(style.line_ending, "\n")
    if style.envelope != "{text}" or (style.empty_output is not None and text == style.empty_output):
        output = "" if text == style.empty_output else text  # the envelope keeps the output as it was
    else:
        output = text + "\n" if text else ""  # as a shell prints it; the style strips it again
    code = int(found["code"]) if "code" in found else (0 if not style.after else None)
    result = BashResult(output, code, command=command, cwd=found.get("cwd"), python=found.get("python"))
    return render_bash(out.bash, result)


def replay_step(step: Step, source: str, dialect: Dialect, windowed: bool = False,
                out: Dialect | None = None) -> Outcome | None:
    """One step replayed, rendered in ``out`` (default: its own ``dialect``); None for a tool with nothing
    to replay (submit, python). ``windowed``: the run used SWE-agent 0.x's windowed tools, which no
    dialect renders (its kinds are counted apart)."""
    out = out or dialect
    recorded = step.observation
    tag = f" ({WINDOWED_RUN})" if windowed else ""
    if step.action.tool == BASH:
        kind = "bash" + tag
        rendered = replay_bash(recorded, dialect, step.action.get("command") or "", out)
    elif step.action.tool == EDITOR:
        command = step.action.get("command") or ""
        args = dict(step.action.args)
        kind = f"editor {command}{tag}"
        replay = EDITOR_REPLAYS.get(command)
        plain = recorded.replace(dialect.editor.line_ending, "\n")  # the states are read off plain lines
        rendered = replay(args, plain, dialect.editor, out.editor) if replay else "<no replay>"
    else:
        return None
    return Outcome(source, kind, dialect.name, rendered == recorded, recorded, rendered)


def replay_all(root: Path = SHARED, render_in: str | None = None) -> list[Outcome]:
    """Every bash and editor observation under ``root``, replayed on the states its trajectory's dialect
    implies and rendered in that dialect (or in ``render_in``, to measure what another would show)."""
    out = get_dialect(render_in) if render_in else None
    outcomes = []
    for trajectory in import_paths([root], strict=True):
        dialect = get_dialect(str(trajectory.metadata[DIALECT_KEY]))
        windowed = any(WINDOWED.search(step.observation) for step in trajectory.steps)
        for step in trajectory.steps:
            outcome = replay_step(step, trajectory.source_format, dialect, windowed, out)
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes


def table(outcomes: list[Outcome]) -> str:
    """Matches per (source, dialect, kind), then per family of kinds."""
    total, same = Counter(), Counter()
    for o in outcomes:
        family = o.kind.split(" ")[0] + (f" ({WINDOWED_RUN})" if WINDOWED_RUN in o.kind else "")
        for key in ((o.source, o.dialect, o.kind), ("all", "", family)):
            total[key] += 1
            same[key] += o.matched
    rows = [f"{'source':<16}{'dialect':<16}{'kind':<34}{'exact':>6}{'of':>5}{'rate':>8}"]
    for key in sorted(total):
        rows.append(f"{key[0]:<16}{key[1]:<16}{key[2]:<34}{same[key]:>6}{total[key]:>5}{same[key] / total[key]:>8.1%}")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table(replay_all()))
    before = [o for o in replay_all(render_in="swe-srl") if WINDOWED_RUN not in o.kind]
    exact = sum(o.matched for o in before)
    print(f"\nthe same states rendered by this project's own tools (dialect swe-srl): {exact} of {len(before)} "
          f"exact ({exact / len(before):.1%}), {sum(len(o.recorded) for o in before if o.matched)} of "
          f"{sum(len(o.recorded) for o in before)} observation characters")
