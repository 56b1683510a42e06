"""The oracle-file-edit setting: the agent is told which files the gold patch changes."""

from __future__ import annotations

from swe_srl.errors import ConfigError
from swe_srl.tasks.eval_script import patch_files
from swe_srl.tasks.task import Task

END_TO_END = "end_to_end"
ORACLE = "oracle_file_edit"
SETTINGS = (END_TO_END, ORACLE)


def oracle_files(task: Task) -> list[str]:
    """The paths the gold patch writes, in patch order."""
    return list(patch_files(task.patch))


def setting_hint(task: Task, setting: str, root: str = "/testbed") -> str:
    """Text added after the problem statement for ``setting`` (empty for end-to-end)."""
    if setting == END_TO_END:
        return ""
    if setting != ORACLE:
        raise ConfigError(f"unknown setting {setting!r} (known: {', '.join(SETTINGS)})")
    files = "\n".join(f"- {root}/{path}" for path in oracle_files(task))
    return f"The fix belongs in these files:\n{files}"
