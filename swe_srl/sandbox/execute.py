"""Run an agent's Action in a sandbox and give back the observation text the agent reads.

bash output carries notes on a non-zero exit code, a timeout and a cut, so the agent sees what
happened, worded in the runner's observation dialect (swe_srl/dialects: this project's own, or a
teacher's, which may show the exit code and directory after every command); editor mistakes
come back as text and the episode goes on. A bash read of more output
(empty command) or input for a running process (``is_input``) finds no running command, since
none outlives its call here, and says so as OpenHands does. A python cell runs as a python3 script
through the same shell, so its output carries the same notes. A SandboxError from bash
or submit is not turned into text: a broken sandbox is the runner's problem, not the agent's; a
diff past the sandbox's diff cap is the agent's doing, and its note is submit's observation.
"""

from __future__ import annotations

import weakref

from swe_srl.actions import BASH, EDITOR, PYTHON, SUBMIT, Action
from swe_srl.dialects import DEFAULT_DIALECT, DIALECTS, Dialect
from swe_srl.dialects.bash import BashResult, render_bash
from swe_srl.errors import ActionParseError
from swe_srl.sandbox.agent_io import DiffTooLargeError
from swe_srl.sandbox.base import Observation, Sandbox
from swe_srl.sandbox.editor import Editor

# A command here never outlives its call (a timeout kills it with every process it started), so a
# read of more output or text for a running process finds none; these are OpenHands' words for it.
NO_RUNNING_OUTPUT = "ERROR: No previous running command to retrieve logs from."
NO_RUNNING_INPUT = "ERROR: No previous running command to interact with."
CONTEXT_TIMEOUT = 30.0  # seconds for the directory (and Python) probe run after a command for a dialect showing them


def bash_observation(observation: Observation, timeout: float | None = None, output_cap: int | None = None,
                     *, dialect: Dialect = DIALECTS[DEFAULT_DIALECT], command: str = "",
                     cwd: str | None = None, python: str | None = None) -> str:
    """The text an agent sees for one bash command's Observation, framed in ``dialect``.

    The shell session already writes notes for a timeout and a cut into the output; a dialect's
    own are added only where a backend did not, so the agent reads each fact once.
    """
    result = BashResult(observation.output, observation.exit_code, observation.timed_out, observation.truncated,
                        command=command, cwd=cwd, python=python, timeout=timeout, output_cap=output_cap)
    return render_bash(dialect.bash, result)


def python_command(code: str) -> str:
    """A shell command that runs ``code`` with python3 from the shell's directory, fed on stdin.

    Each cell is a fresh script: unlike an IPython kernel it keeps no variables between cells and
    shows no value of a last expression. The here-document's end word is one no line of the code is.
    """
    end = "PYTHON_CELL"
    lines = set(code.splitlines())
    while end in lines:
        end += "_"
    return f"python3 - <<'{end}'\n{code}\n{end}"


class ToolRunner:
    """Executes Actions in one sandbox, holding the editor's undo history for it."""

    def __init__(self, sandbox: Sandbox, history: dict[str, list[str | None]] | None = None,
                 dialect: Dialect = DIALECTS[DEFAULT_DIALECT]) -> None:
        self.sandbox = sandbox
        self.dialect = dialect
        self.editor = Editor(sandbox, history, dialect.editor)

    def __call__(self, action: Action) -> str:
        return self.execute(action)

    def execute(self, action: Action) -> str:
        """The observation string for ``action``."""
        if action.tool == BASH:
            if not action.get("command"):
                return NO_RUNNING_OUTPUT
            if action.get("is_input") == "true":
                return NO_RUNNING_INPUT
            return self._shell(action.get("command") or "")
        if action.tool == PYTHON:
            return self._shell(python_command(action.get("code") or ""))
        if action.tool == EDITOR:
            return self.editor.run(
                action.get("command") or "",
                action.get("path") or "",
                file_text=action.get("file_text"),
                old_str=action.get("old_str"),
                new_str=action.get("new_str"),
                insert_line=action.get("insert_line"),
                view_range=action.get("view_range"),
            )
        if action.tool == SUBMIT:
            try:
                return self.sandbox.diff()  # verbatim, empty when nothing changed: callers use it as the patch
            except DiffTooLargeError as error:  # a note no patch tool applies, so it grades as unresolved
                return str(error)
        raise ActionParseError(f"no tool named '{action.tool}' can be executed")

    def _shell(self, command: str) -> str:
        limits = getattr(self.sandbox, "limits", None)
        observation = self.sandbox.run(command)
        return bash_observation(observation, getattr(limits, "timeout", None), getattr(limits, "output_cap", None),
                                dialect=self.dialect, command=command, **self._context())

    def _context(self) -> dict[str, str | None]:
        """The shell's directory and Python, asked only for a dialect that shows them; None where unknown.

        The interpreter is asked only where the envelope names it (SWE-Gym's terminal prompt did every
        time); OpenHands' optional interpreter line stays out, as in its multi_swe_bench runs.
        """
        style = self.dialect.bash
        want_python = "{python}" in style.envelope
        if not want_python and "{cwd}" not in "\n".join((*style.after, style.envelope)):
            return {}
        probe = self.sandbox.run("pwd; command -v python || command -v python3", timeout=CONTEXT_TIMEOUT)
        lines = [line for line in probe.output.splitlines() if line.startswith("/")] if not probe.timed_out else []
        python = lines[1] if want_python and len(lines) > 1 else None
        return {"cwd": lines[0] if lines else None, "python": python}

    def reset(self) -> None:
        """Reset the sandbox to its base commit and forget the editor's history with it."""
        self.sandbox.reset()
        self.editor.clear_history()


# Undo history per live sandbox, so execute() keeps it without the caller holding state. Only
# the history is stored (a runner would hold the sandbox and keep its weak key alive forever).
_HISTORIES: "weakref.WeakKeyDictionary[Sandbox, dict[str, list[str | None]]]" = weakref.WeakKeyDictionary()


def runner_for(sandbox: Sandbox, dialect: Dialect = DIALECTS[DEFAULT_DIALECT]) -> ToolRunner:
    """A ToolRunner for ``sandbox`` in ``dialect``, sharing the editor history of every earlier call."""
    try:
        history = _HISTORIES.setdefault(sandbox, {})
    except TypeError:  # not hashable or not weak-referenceable: no shared history
        history = {}
    return ToolRunner(sandbox, history, dialect)


def execute(sandbox: Sandbox, action: Action, dialect: Dialect = DIALECTS[DEFAULT_DIALECT]) -> str:
    """The observation string for ``action`` run in ``sandbox``, rendered in ``dialect``."""
    return runner_for(sandbox, dialect).execute(action)
