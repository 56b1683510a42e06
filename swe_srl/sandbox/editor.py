"""str_replace_editor on top of any Sandbox: view, create, str_replace, insert, undo_edit.

The text work lives in dialects/edit_text.py (pure, worded in the observation dialect's
EditorStyle); this file only reads, writes and probes paths through the Sandbox Protocol, whose
reads act as the agent and stop at the sandbox's read cap (agent_io.py). Undo history is kept here,
on the host, one Editor per sandbox, so it survives whatever the agent does inside the sandbox.
"""

from __future__ import annotations

import logging
import shlex

from swe_srl.dialects import EditorStyle, edit_text
from swe_srl.dialects.edit_text import EditorError
from swe_srl.errors import SandboxError
from swe_srl.sandbox.agent_io import FileAccessError
from swe_srl.sandbox.base import Sandbox

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 30.0  # seconds for the small shell commands the editor runs itself


class Editor:
    """The editor's state for one sandbox: per-file history for undo_edit."""

    def __init__(self, sandbox: Sandbox, history: dict[str, list[str | None]] | None = None,
                 style: EditorStyle = edit_text.OURS) -> None:
        self.sandbox = sandbox
        self.style = style  # the observation dialect's wording
        # path -> earlier texts, newest last; None marks a file that `create` made.
        self._history: dict[str, list[str | None]] = {} if history is None else history

    def clear_history(self) -> None:
        """Forget every edit (call it after the sandbox is reset to its base commit)."""
        self._history.clear()

    def run(
        self,
        command: str,
        path: str,
        *,
        file_text: str | None = None,
        old_str: str | None = None,
        new_str: str | None = None,
        insert_line: str | int | None = None,
        view_range: str | None = None,
    ) -> str:
        """Carry out one editor call; the result or the error is returned as observation text."""
        try:
            return edit_text.finish(self._dispatch(command, path, file_text, old_str, new_str, insert_line, view_range),
                                    self.style)
        except (EditorError, FileAccessError) as error:
            return edit_text.error_text(str(error), self.style)
        except SandboxError as error:
            log.warning("editor %s on %s failed in the sandbox: %s", command, path, error)
            return f"The editor could not complete `{command}` on {path}: {error}"

    def _dispatch(
        self,
        command: str,
        path: str,
        file_text: str | None,
        old_str: str | None,
        new_str: str | None,
        insert_line: str | int | None,
        view_range: str | None,
    ) -> str:
        if command not in ("view", "create", "str_replace", "insert", "undo_edit"):
            raise EditorError(
                f"Unrecognized command {command!r}. The allowed commands are: view, create, "
                "str_replace, insert, undo_edit."
            )
        if not path.startswith("/"):
            suggestion = path[2:] if path.startswith("./") else path
            raise edit_text.path_error(path, f"The path {path} is not an absolute path, it should start with `/`. "
                                       f"Maybe you meant /testbed/{suggestion}?", self.style)
        kind = self._kind(path)
        if command == "create":
            if kind != "none":
                raise edit_text.path_error(
                    path, f"File already exists at: {path}. Cannot overwrite files using command `create`.", self.style)
            if file_text is None:
                raise EditorError("Parameter `file_text` is required for command: create.")
            self.sandbox.write_file(path, file_text)
            self._history.setdefault(path, []).append(None)
            return edit_text.created(path)
        if kind == "none":
            raise edit_text.path_error(path, f"The path {path} does not exist. Please provide a valid path.",
                                       self.style)
        if kind == "dir":
            if command != "view":
                raise edit_text.path_error(
                    path, f"The path {path} is a directory and only the `view` command can be used on directories.",
                    self.style)
            edit_text.check_directory_view(view_range)
            return edit_text.view_directory(path, self._listing(path), self.style)
        if kind != "file":
            raise EditorError(f"The path {path} is not a regular file or directory.")
        if command == "view":
            return edit_text.view_file(path, self._read(path), edit_text.parse_view_range(view_range), self.style)
        if command == "undo_edit":
            return self._undo(path)
        text = self._read(path)
        if command == "str_replace":
            edit = edit_text.str_replace(path, text, old_str, new_str, self.style)
        else:
            edit = edit_text.insert(path, text, insert_line, new_str, self.style)
        self.sandbox.write_file(path, edit.text)
        self._history.setdefault(path, []).append(text)
        return edit.message

    def _undo(self, path: str) -> str:
        history = self._history.get(path)
        if not history:
            raise EditorError(f"No edit history found for {path}.")
        previous = history.pop()
        if previous is None:
            self._shell(f"rm -f -- {shlex.quote(path)}")
            return f"Last edit to {path} undone successfully: the file made by `create` was removed."
        self.sandbox.write_file(path, previous)
        return edit_text.undone(path, previous, self.style)

    def _read(self, path: str) -> str:
        try:
            return self.sandbox.read_file(path)
        except UnicodeDecodeError:
            raise EditorError(f"The file {path} is not UTF-8 text; inspect it with bash instead.") from None

    def _kind(self, path: str) -> str:
        """'dir', 'file', 'other' or 'none', asked of the sandbox in one command."""
        q = shlex.quote(path)
        output = self._shell(
            f"if [ -d {q} ]; then echo dir; elif [ -f {q} ]; then echo file; "
            f"elif [ -e {q} ]; then echo other; else echo none; fi"
        )
        lines = output.strip().splitlines()
        answer = lines[-1].strip() if lines else ""
        if answer not in ("dir", "file", "other", "none"):
            raise SandboxError(f"could not tell what {path} is; the shell answered {output[-200:]!r}")
        return answer

    def _listing(self, path: str) -> str:
        """Non-hidden files and folders up to two levels below ``path``, sorted."""
        q = shlex.quote(path.rstrip("/") or "/")
        return self._shell(
            f"{{ echo {q}; find {q} -mindepth 1 -maxdepth 2 -name '.*' -prune -o -print | LC_ALL=C sort; }}"
        )

    def _shell(self, command: str) -> str:
        observation = self.sandbox.run(command, timeout=PROBE_TIMEOUT)
        if observation.timed_out:
            raise SandboxError(f"`{command[:80]}` timed out after {PROBE_TIMEOUT:.0f}s")
        return observation.output
