"""OpenHands' agent-skills helpers in an IPython cell -> the editor or bash call that does the same.

CodeAct agents before OpenHands 0.10 edited and navigated through helpers imported into their
IPython kernel (read by swe_srl.formats.ipython_cells). A cell that is exactly one helper call
with literal arguments becomes the equivalent call where the trace proves the two do the same;
any other cell stays a ``python`` action. The proof comes from the call, from what the helper
printed (the cell's observation) and from the last window the trace printed of the file:

- ``open_file``, ``goto_line``, ``scroll_down``, ``scroll_up`` print a window of numbered lines:
  ``view`` of its file over that window (the whole file: no range).
- ``create_file(f)`` writes ``"\n"`` and fails if f exists: ``create`` with that text.
- ``edit_file_by_replace(f, to_replace, new_content)`` writes ``new_content`` plus a newline over
  the whole lines its unique match touches, not over the match alone: a ``str_replace`` of those
  lines, as the last window of f showed them (any shell command, cell or other edit of f since
  drops that window). Where it printed that nothing matched, the match was not unique, the two
  texts are equal or f is missing, it changed nothing, as ``str_replace`` of the same texts does.
- ``insert_content_at_line(f, n, c)`` puts ``c`` plus a newline before line n (Python slicing:
  past the end is the end): ``insert`` after line ``n - 1``; ``append_file(f, c)``: after the
  last line. The file had the lines the header counts after the edit less those of ``c``; one of
  no lines or one blank line is replaced by ``c`` (a ``printf`` to the file).
- ``search_dir(t, d)``, ``search_file(t, f)``, ``find_file(n, d)`` search lines for a fixed
  string (files named ``.*`` skipped) and names for a substring: ``grep -rnF``, ``grep -nF``,
  ``find -name``. A relative path is resolved against the kernel's directory its output names.

Every edit is checked against the window the helper printed after it. Not provable, so kept as
``python``: an edit the linter undid, a fuzzy match, a match outside the last window, text holding
line separators other than ``\n``. Differences that remain: each helper edit adds a final newline
to a file that lacks one, which ``str_replace`` and ``insert`` do not; ``search_dir`` also reads
files behind symbolic links, which ``grep -r`` skips; and the searches print in their own layout.
Checked against the helpers' own code on thousands of random files and calls.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable

from swe_srl.actions import EDITOR, PYTHON, SUBMIT, Action
from swe_srl.errors import ActionParseError
from swe_srl.formats.drafts import Draft
from swe_srl.formats.ipython_cells import OTHER_SEPARATORS, Window, helper_call, kernel_output, parse_window

_SEARCH_NAME = re.compile(r'\[(?:Found \d+ matches|No matches found) for ".*" in (.+)\]')
_SCROLL_HINT = "[Use `scroll_down` to view the next 100 lines of the file!]"
_REPLACE_REFUSALS = (
    "ERROR: `to_replace` appears more than once, please include enough lines to make code in `to_replace` unique.",
    "ERROR: `to_replace` and `new_content` must be different.",
)
# Helpers that change no file, and the argument naming the file each of the others may change.
_READS = ("open_file", "goto_line", "scroll_down", "scroll_up", "search_dir", "search_file", "find_file")
_TARGET = {"create_file": "filename", "edit_file_by_replace": "file_name", "insert_content_at_line": "file_name",
           "append_file": "file_name"}


class FileViews:
    """The last window the trace showed of each file, dropped when anything could have changed it."""

    def __init__(self) -> None:
        self.windows: dict[str, Window] = {}

    def after_action(self, action: Action) -> None:
        """Take in a step that is no helper call."""
        if action.tool == EDITOR and action.get("command") != "view":
            self.windows.pop(action.get("path") or "", None)
        elif action.tool != SUBMIT and action.tool != EDITOR:  # a shell command or a cell may change any file
            self.windows.clear()

    def after_helper(self, target: str | None, window: Window | None, known: bool) -> None:
        """Take in a helper call on ``target`` (its window; ``known``: mapped, so its effect is known)."""
        if window is not None:
            self.windows[window.path] = window  # a helper changes no file but the one it prints
        elif not known:  # e.g. an edit the linter undid: only its own file may have changed
            if target is None:
                self.windows.clear()
            else:
                self.windows.pop(target, None)

    def lines_matching(self, path: str, text: str) -> tuple[int, list[str]] | None:
        """(number of the first, the lines) of the whole lines the one place ``text`` is in the
        last window of ``path`` touches."""
        window = self.windows.get(path)
        if window is None:
            return None
        shown = "".join(line + "\n" for line in window.lines)
        at = shown.find(text)
        if at < 0 or shown.find(text, at + 1) >= 0:
            return None
        start = shown.count("\n", 0, at)  # index of the first line touched
        end = start + len(text.splitlines()) - 1
        return (window.first + start, list(window.lines[start : end + 1])) if end < len(window.lines) else None


@dataclass(frozen=True)
class _Cell:
    """One helper call and what the trace shows around it."""

    args: dict[str, Any]  # the call's arguments, bound to the helper's signature
    window: Window | None  # the window the helper printed, if any
    after: list[str]  # the output's lines after the window, or all of them without one
    cwd: str | None  # the kernel's directory, if its output said
    views: FileViews  # what the trace showed of each file before this cell


def map_cells(drafts: list[Draft]) -> None:
    """Replace each helper cell's python action by its exact equivalent, where the trace proves one."""
    views = FileViews()
    for draft in drafts:
        code = draft.action.get("code") if draft.action.tool == PYTHON else None
        call = helper_call(code) if code is not None else None
        if call is None:
            views.after_action(draft.action)
            continue
        helper, args = call
        body, cwd = kernel_output(draft.observation)
        window, after = parse_window(body)
        try:
            mapped = _EQUIVALENTS[helper](_Cell(args, window, after, cwd, views))
        except ActionParseError:  # a value no action can hold
            mapped = None
        if mapped is not None:
            draft.metadata["ipython_code"] = code
            draft.action = mapped
        reads = helper in _READS
        views.after_helper(None if reads else _absolute(args.get(_TARGET.get(helper, "")), cwd), window,
                           known=reads or mapped is not None)


def _absolute(path: Any, cwd: str | None) -> str | None:
    if not isinstance(path, str) or not path or "\0" in path:
        return None
    if posixpath.isabs(path):
        return path
    return posixpath.normpath(posixpath.join(cwd, path)) if cwd else None


def _view(cell: _Cell) -> Action | None:
    window = cell.window
    if window is None or window.edited or cell.after not in ([], [_SCROLL_HINT]):
        return None
    if window.first == 1 and window.last == window.total:
        return Action.editor("view", window.path)
    return Action.editor("view", window.path, view_range=[window.first, window.last])


def _create(cell: _Cell) -> Action | None:
    name = cell.args["filename"]
    created = cell.window is not None and cell.after == [f"[File {name} created.]"]
    exists = cell.window is None and cell.after == [f"ERROR: File '{name}' already exists."]
    path = cell.window.path if cell.window else _absolute(name, cell.cwd)
    return Action.editor("create", path, file_text="\n") if path and (created or exists) else None


def _replace(cell: _Cell) -> Action | None:
    old, new, name = cell.args["to_replace"], cell.args["new_content"], cell.args["file_name"]
    if not (isinstance(old, str) and isinstance(new, str)) or OTHER_SEPARATORS.search(old + new):
        return None
    if cell.window is None:
        # Refusals the editor makes too, so both change nothing: no such file, no match (the
        # whitespace-blind search failed as well), several matches, equal texts.
        refusals = (f"ERROR: File {name} not found.", f"[No exact match found in {name} for", *_REPLACE_REFUSALS)
        path = _absolute(name, cell.cwd) if cell.after[:1] and cell.after[0] in refusals else None
        return Action.editor("str_replace", path, old_str=old, new_str=new) if path else None
    found = cell.views.lines_matching(cell.window.path, old) if cell.window.edited else None
    new_lines = new if new.endswith("\n") else new + "\n"
    if found is None or not cell.window.shows(found[0], new_lines):
        return None
    # The helper writes new_content and a newline over the whole lines; a match that ends with
    # its last line's newline takes it along, one that ends inside or at the end of a line keeps it.
    keep = "\n" if old.endswith("\n") else ""
    return Action.editor("str_replace", cell.window.path, old_str="\n".join(found[1]) + keep, new_str=new_lines[:-1] + keep)


def _lines_before(cell: _Cell, content: Any) -> tuple[str, int] | None:
    """(file, the lines it had) for an insert or append whose header says it was made."""
    if not isinstance(content, str) or not content or OTHER_SEPARATORS.search(content):
        return None
    if cell.window is None or not cell.window.edited:
        return None
    before = cell.window.total - len(content.splitlines())
    return (cell.window.path, before) if before >= 0 else None


def _inserted(cell: _Cell, path: str, before: int, at: int, content: str) -> Action | None:
    """``content`` put after line ``at`` of a file of ``before`` lines, if the window shows it there.

    The window is checked because a last line without a newline breaks the count: the helpers
    glue the text onto it (insert) or count it differently, and only the printed lines tell.
    """
    text = content if content.endswith("\n") else content + "\n"
    if not cell.window or not cell.window.shows(at + 1, text):
        return None
    if before == 0:  # no lines or one blank line: the helpers replace the file by the text
        return Action.bash(f"printf '%s' {shlex.quote(text)} > {shlex.quote(path)}")
    return Action.editor("insert", path, insert_line=at, new_str=content)


def _insert(cell: _Cell) -> Action | None:
    line, content, found = cell.args["line_number"], cell.args["content"], _lines_before(cell, cell.args["content"])
    if type(line) is not int or found is None:
        return None
    path, before = found
    return _inserted(cell, path, before, len(range(before)[: line - 1]), content)


def _append(cell: _Cell) -> Action | None:
    found = _lines_before(cell, cell.args["content"])
    return _inserted(cell, found[0], found[1], found[1], cell.args["content"]) if found else None


def _search_dir(cell: _Cell) -> Action | None:
    term, folder = cell.args["search_term"], _absolute(cell.args["dir_path"], cell.cwd)
    if not isinstance(term, str) or OTHER_SEPARATORS.search(term) or "\n" in term or folder is None:
        return None
    return Action.bash(f"grep -rnF --exclude='.*' -- {shlex.quote(term)} {shlex.quote(folder)}")


def _search_file(cell: _Cell) -> Action | None:
    term, path = cell.args["search_term"], cell.args["file_path"]
    if path is None:  # the open file, which the output names
        named = _SEARCH_NAME.fullmatch(cell.after[0]) if cell.after and not cell.window else None
        path = named.group(1) if named else None
    path = _absolute(path, cell.cwd)
    if not isinstance(term, str) or OTHER_SEPARATORS.search(term) or "\n" in term or path is None:
        return None
    return Action.bash(f"grep -nF -- {shlex.quote(term)} {shlex.quote(path)}")


def _find_file(cell: _Cell) -> Action | None:
    name, folder = cell.args["file_name"], _absolute(cell.args["dir_path"], cell.cwd)
    if not isinstance(name, str) or "\n" in name or folder is None:
        return None
    pattern = "*" + re.sub(r"([*?\[\\])", r"\\\1", name) + "*"
    return Action.bash(f"find {shlex.quote(folder)} -name {shlex.quote(pattern)} ! -xtype d")


_EQUIVALENTS: dict[str, Callable[[_Cell], Action | None]] = {
    "open_file": _view, "goto_line": _view, "scroll_down": _view, "scroll_up": _view,
    "create_file": _create, "edit_file_by_replace": _replace, "insert_content_at_line": _insert,
    "append_file": _append, "search_dir": _search_dir, "search_file": _search_file, "find_file": _find_file,
}
