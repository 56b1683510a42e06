"""Turn a unified diff into the editor actions an agent would take to make the same change.

The demo applies each bundled task's gold patch this way, through the agent's own tools, so a
green demo shows that the tools can express a real fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from swe_srl.actions import Action
from swe_srl.errors import DataError

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@")
_NO_NEWLINE = "\\ No newline at end of file"


@dataclass
class _FilePatch:
    old_path: str | None
    new_path: str | None
    hunks: list[tuple[list[str], list[str]]] = field(default_factory=list)


def patch_to_actions(patch: str, root: str = "/testbed") -> list[Action]:
    """Editor actions (create / str_replace) and bash `rm` that reproduce ``patch`` under ``root``."""
    actions: list[Action] = []
    for fp in _parse(patch):
        if fp.new_path is None:
            actions.append(Action.bash(f"rm {root}/{fp.old_path}"))
        elif fp.old_path is None:
            new_text = "".join(line for _, new in fp.hunks for line in new)
            actions.append(Action.editor("create", f"{root}/{fp.new_path}", file_text=new_text))
        else:
            if fp.old_path != fp.new_path:
                actions.append(Action.bash(f"git -C {root} mv {fp.old_path} {fp.new_path}"))
            for old, new in fp.hunks:
                actions.append(
                    Action.editor(
                        "str_replace", f"{root}/{fp.new_path}", old_str="".join(old), new_str="".join(new)
                    )
                )
    return actions


def _parse(patch: str) -> list[_FilePatch]:
    files: list[_FilePatch] = []
    current: _FilePatch | None = None
    lines = patch.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- "):
            if i + 1 >= len(lines) or not lines[i + 1].startswith("+++ "):
                raise DataError("'---' header not followed by '+++'", source="patch", line=i + 1)
            current = _FilePatch(_path(line[4:]), _path(lines[i + 1][4:]))
            files.append(current)
            i += 2
            continue
        if _HUNK.match(line):
            if current is None:
                raise DataError("hunk before any file header", source="patch", line=i + 1)
            old: list[str] = []
            new: list[str] = []
            i += 1
            while i < len(lines) and lines[i][:1] in (" ", "-", "+", "\\") and not lines[i].startswith("--- "):
                body = lines[i]
                if body.startswith(_NO_NEWLINE):
                    # The previous line has no newline at end of file on the side it belongs to.
                    target = new if lines[i - 1].startswith("+") else old
                    if lines[i - 1].startswith(" "):
                        old[-1] = old[-1].rstrip("\n")
                        new[-1] = new[-1].rstrip("\n")
                    else:
                        target[-1] = target[-1].rstrip("\n")
                elif body.startswith(" "):
                    old.append(body[1:])
                    new.append(body[1:])
                elif body.startswith("-"):
                    old.append(body[1:])
                else:
                    new.append(body[1:])
                i += 1
            current.hunks.append((old, new))
            continue
        i += 1
    return files


def _path(header: str) -> str | None:
    name = header.rstrip("\n").split("\t")[0].strip()
    if name == "/dev/null":
        return None
    return name[2:] if name[:2] in ("a/", "b/") else name
