"""SWE-agent's commands -> our Actions.

SWE-agent gives the model its own commands (``open``, ``goto``, ``scroll_down``, ``create``,
``edit N:M`` ... ``end_of_edit``, ``search_dir``, ``find_file``, ``submit``, ...) besides plain
shell. They ran as shell-level commands inside SWE-agent's container, so each one is kept as the
bash command text it was, except where our tools do the same thing:

- ``submit`` -> submit;
- ``create PATH`` -> editor ``create`` with empty text (SWE-agent's create makes an empty file;
  a relative path is resolved against the working directory SWE-agent recorded);
- a ``str_replace_editor`` call (SWE-agent's tool bundle of that name) -> the same editor call.

Not mapped, on purpose: ``edit N:M`` replaces lines of the *open* file and ``edit SEARCH REPLACE``
(the function-calling replace variant) searches the open file; turning them into ``str_replace``
would need the file's text at that moment, which a trajectory does not hold. ``open``/``goto``
move a viewing window and also change SWE-agent's state, which ``view`` does not.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from typing import Any

from swe_srl.actions import EDITOR, PARAMETERS, Action
from swe_srl.formats.toolcalls import ToolCallError, convert_call, decode_arguments


def command_action(text: str, cwd: str | None) -> Action:
    """The Action for one SWE-agent command text; raises ToolCallError if it is empty."""
    command = text.strip()
    if not command:
        raise ToolCallError("empty command", "action")
    head = command.split(None, 1)[0]
    if command == "submit" or head == "submit" and "\n" not in command:
        return Action.submit()
    if head == "create" and "\n" not in command:
        try:
            words = shlex.split(command)
        except ValueError:
            words = []
        if len(words) == 2:
            return Action.editor("create", resolve(words[1], cwd), file_text="")
    if head == "str_replace_editor":
        editor = _editor_text(command, cwd)
        if editor is not None:
            return editor
    return Action.bash(command)


def call_action(name: str, arguments: Any, text: str, cwd: str | None) -> Action:
    """The Action for one SWE-agent tool call; ``text`` is the command SWE-agent rendered from it."""
    args = decode_arguments(arguments)
    if name == "bash":
        converted = convert_call("bash", args)
    elif name == "str_replace_editor":
        converted = convert_call("str_replace_editor", args)
    elif name == "submit":
        return Action.submit()
    elif name == "create" and isinstance(args.get("filename"), str):
        return Action.editor("create", resolve(args["filename"], cwd), file_text="")
    else:
        return command_action(text, cwd)
    assert isinstance(converted, Action)
    return converted


def resolve(path: str, cwd: str | None) -> str:
    if posixpath.isabs(path) or not cwd:
        return path
    return posixpath.normpath(posixpath.join(cwd, path))


def _editor_text(command: str, cwd: str | None) -> Action | None:
    """``str_replace_editor view /p --view_range 1 10`` style text, or None if it does not parse."""
    try:
        words = shlex.split(command, posix=True)
    except ValueError:
        return None
    if len(words) < 3:
        return None
    args: dict[str, Any] = {"command": words[1], "path": resolve(words[2], cwd)}
    key: str | None = None
    values: list[str] = []
    for word in words[3:] + ["--"]:
        if word.startswith("--"):
            if key is not None:
                args[key] = values[0] if len(values) == 1 else values
            key, values = word[2:] or None, []
        elif key is None:
            return None
        else:
            values.append(word)
    if set(args) - set(PARAMETERS[EDITOR]):
        return None
    if isinstance(args.get("view_range"), str):
        args["view_range"] = json.loads(args["view_range"]) if args["view_range"].startswith("[") else args["view_range"]
    try:
        converted = convert_call("str_replace_editor", args)
    except (ToolCallError, ValueError):
        return None
    return converted if isinstance(converted, Action) else None
