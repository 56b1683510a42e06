"""A small task world for RLVR tests: read a key from one file, write it to another.

Task ``key-N`` holds ``key.txt`` with one word, and ``notes.txt`` that says nothing of it; it is resolved
when ``answer.txt`` holds that word.
The solution takes two actions at least (``cat key.txt``, then ``echo WORD > answer.txt``), and the
second depends on what the first showed: multi-turn by construction. Workspaces live in memory and
implement the episode runner's Environment Protocol, so learning dynamics can be tested in seconds;
the bundled tasks test the real sandboxes and harness (tests/recipes/test_train_rlvr.py).
"""

from __future__ import annotations

import re
import shlex

from swe_srl.actions import Action
from swe_srl.errors import SandboxError
from swe_srl.jobs.episodes import Outcome
from swe_srl.tasks.task import Task

WORDS = ("quokka", "zephyr", "obsidian", "marzipan", "tundra", "saffron", "walrus", "kelp")
STATEMENT = "Write the word in key.txt into answer.txt, then submit."
NOTES = "notes: nothing here"
ECHO = re.compile(r"echo\s+(\S+)\s*>\s*(\S+)$")


def key_task(number: int) -> Task:
    word = WORDS[number % len(WORDS)]
    return Task(instance_id=f"key-{number}", repo="keys/world", base_commit="0" * 40,
                problem_statement=STATEMENT, patch=f"answer.txt: {word}")


def key_of(task: Task) -> str:
    return task.patch.split(": ", 1)[1]


class KeyWorkspace:
    def __init__(self, task: Task) -> None:
        self.files = {"key.txt": key_of(task), "notes.txt": NOTES}

    def __call__(self, action: Action) -> str:
        if action.tool == "submit":
            return self.diff()
        command = (action.get("command") or "").strip() if action.tool == "bash" else ""
        if command.startswith("cat "):
            name = command[4:].strip()
            return self.files.get(name, f"cat: {name}: No such file or directory")
        echo = ECHO.match(command)
        if echo:
            self.files[echo.group(2)] = shlex.split(echo.group(1))[0] if echo.group(1) else ""
            return ""
        return f"bash: {command.split(' ')[0] or 'empty'}: command not found"

    def diff(self) -> str:
        answer = self.files.get("answer.txt")
        return "" if answer is None else f"answer.txt: {answer}"

    def close(self) -> None:
        self.closed = True


class KeyWorld:
    """The Environment: counts starts and gradings; ``fail_starts`` / ``fail_grades`` / ``fail_commands`` name
    (instance_id, start number) pairs whose start, grading or first command raises SandboxError."""

    def __init__(self, fail_starts=(), fail_grades=(), fail_commands=()) -> None:
        self.fail_starts, self.fail_grades, self.fail_commands = set(fail_starts), set(fail_grades), set(fail_commands)
        self.started: list[KeyWorkspace] = []
        self.starts: dict[str, int] = {}
        self.graded: list[tuple[str, str, str]] = []

    def start(self, task: Task) -> KeyWorkspace:
        number = self.starts.get(task.instance_id, 0)
        self.starts[task.instance_id] = number + 1
        if (task.instance_id, number) in self.fail_starts:
            raise SandboxError(f"{task.instance_id}: injected start failure")
        workspace = KeyWorkspace(task)
        self.started.append(workspace)
        return _Broken(workspace) if (task.instance_id, number) in self.fail_commands else workspace

    def grade(self, task: Task, patch: str, run_id: str) -> Outcome:
        self.graded.append((task.instance_id, patch, run_id))
        if (task.instance_id, sum(i == task.instance_id for i, _, _ in self.graded) - 1) in self.fail_grades:
            raise SandboxError(f"{task.instance_id}: injected grader failure")
        if not patch:
            return Outcome(0.0, "empty_patch")
        return Outcome(1.0, "resolved") if patch == f"answer.txt: {key_of(task)}" else Outcome(0.0, "tests_fail")


class _Broken:
    """A workspace whose commands fail as a dead container's would."""

    def __init__(self, inner: KeyWorkspace) -> None:
        self.inner = inner

    def __call__(self, action: Action) -> str:
        raise SandboxError("injected: the container died under the command")

    def diff(self) -> str:
        return self.inner.diff()

    def close(self) -> None:
        self.inner.close()
