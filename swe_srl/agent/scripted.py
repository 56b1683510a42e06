"""A scripted teacher: for a task whose fix is known, the route a careful engineer would take.

Look around the repository, search for the code the fix touches (and, for synthesized tasks, the
function the failing test names), read it, reproduce the issue (the issue's own snippet when it
has one; the failing tests when they already exist in the repo, as in synthesized tasks with an
empty test patch; else the test suite), make the fix with
`str_replace_editor`, check it, and submit. The seed varies the route (search commands, views,
extra checks), so one task yields several distinct trajectories. Observations come from really
running each action in a sandbox (`record`), never from the script.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import Callable

from swe_srl.actions import Action
from swe_srl.tasks.patch_actions import patch_to_actions
from swe_srl.tasks.task import Task
from swe_srl.trajectory import Step, Trajectory

TESTBED = "/testbed"
REPRO_PATH = "/tmp/reproduce_issue.py"  # outside the repo, so it never lands in the patch

_FENCED_PYTHON = re.compile(r"```(?:python|py)\n(.*?)```", re.DOTALL)
_CHANGED_FILE = re.compile(r"^\+\+\+ b/(.+)$", re.MULTILINE)
_HUNK_CONTEXT = re.compile(r"^@@ [^@]+ @@ (?:async )?(def|class) (\w+)", re.MULTILINE)
_DEF_LINE = re.compile(r"^[ +-]\s*(?:async )?(def|class) (\w+)", re.MULTILINE)


@dataclass(frozen=True)
class PlannedStep:
    thought: str
    action: Action


def plan(task: Task, seed: int) -> list[PlannedStep]:
    """The actions (with the thought before each) of one route through ``task``."""
    rng = random.Random(f"{task.instance_id}:{seed}")
    files = _CHANGED_FILE.findall(task.patch)
    names = list(dict.fromkeys(_HUNK_CONTEXT.findall(task.patch) + _DEF_LINE.findall(task.patch)))
    repro = _FENCED_PYTHON.search(task.problem_statement)
    # Synthesized tasks: the failing tests exist at base (no hidden test patch), so run them.
    failing = list(task.fail_to_pass[:3]) if not task.test_patch.strip() and task.fail_to_pass else []
    if failing:
        repro = None
        tested = [n for n in (_tested_name(t) for t in failing) if n]
        names = list(dict.fromkeys([("def", n) for n in tested[:1]] + names))
    test_files = sorted({t.split("::", 1)[0] for t in (*task.fail_to_pass, *task.pass_to_pass)})
    steps: list[PlannedStep] = []

    def add(thought: str, action: Action) -> None:
        steps.append(PlannedStep(thought, action))

    explore = rng.choice(
        [
            Action.bash(f"cd {TESTBED} && ls"),
            Action.bash(f"cd {TESTBED} && git ls-files"),
            Action.bash(f"find {TESTBED} -name '*.py' -not -path '*/.git/*' | sort"),
            Action.editor("view", TESTBED),
        ]
    )
    add("Let me look at how the repository is laid out before touching anything.", explore)
    if rng.random() < 0.5:
        add("The README should say what the package is for and how it is used.", Action.bash(f"cat {TESTBED}/README.md"))
    for kind, name in names[: rng.choice([1, 2])]:
        search = rng.choice(
            [
                f"grep -rn '{kind} {name}' {TESTBED} --include='*.py'",
                f"cd {TESTBED} && grep -rn '{name}' --include='*.py' . | head -40",
                f"cd {TESTBED} && git grep -n '{name}'",
            ]
        )
        add(f"The issue points at `{name}`; let me find where it is defined and used.", Action.bash(search))
    for path in files:
        add(f"Now let me read {path} in full to understand the logic.", Action.editor("view", f"{TESTBED}/{path}"))
    if repro:
        add(
            "I'll save the reproducer from the issue outside the repository and run it.",
            Action.editor("create", REPRO_PATH, file_text=repro.group(1)),
        )
        add("Running it should show the behaviour the issue describes.", Action.bash(f"cd {TESTBED} && PYTHONPATH={TESTBED} python3 {REPRO_PATH}"))
    elif failing:
        add("Let me run the failing test to reproduce the problem.",
            Action.bash(f"cd {TESTBED} && python3 -m pytest -q -p no:cacheprovider {' '.join(failing)}"))
    else:
        add("Let me run the test suite to see the current state.", Action.bash(f"cd {TESTBED} && python3 -m pytest -q -p no:cacheprovider"))
    edits = patch_to_actions(task.patch, root=TESTBED)
    for i, edit in enumerate(edits):
        where = edit.get("path") or "the repository"
        thought = "I see the problem. " if i == 0 else "The fix needs one more change. "
        add(thought + f"Let me fix it in {where}.", edit)
    if repro:
        add("Let me run the reproducer again to confirm the fix.", Action.bash(f"cd {TESTBED} && PYTHONPATH={TESTBED} python3 {REPRO_PATH}"))
    elif failing:
        add("The failing test should pass now.",
            Action.bash(f"cd {TESTBED} && python3 -m pytest -q -p no:cacheprovider {' '.join(failing)}"))
    if failing:
        test = rng.choice([f"python3 -m pytest -q -p no:cacheprovider {' '.join(test_files)}",
                           "python3 -m pytest -q -p no:cacheprovider", "python3 -m pytest -q -p no:cacheprovider -rf"])
    else:
        test = rng.choice(
            ["python3 -m pytest -q -p no:cacheprovider", "python3 -m pytest -x -q -p no:cacheprovider tests", "python3 -m pytest -q -p no:cacheprovider -rf"]
        )
    add("Now the whole test suite, to make sure nothing else broke.", Action.bash(f"cd {TESTBED} && {test}"))
    if rng.random() < 0.5:
        add("A last look at the full change before I submit.", Action.bash(f"cd {TESTBED} && git diff"))
    add("The fix is in place and the tests pass. Submitting.", Action.submit())
    return steps


def _tested_name(node_id: str) -> str | None:
    """`pkg/tests/test_x.py::TestY::test_sliding_window[2]` -> `sliding_window` (what the test names)."""
    name = re.sub(r"\[.*\]$", "", node_id.split("::")[-1])
    name = re.sub(r"^test_?", "", name)
    return name if re.fullmatch(r"[A-Za-z_]\w*", name or "") else None


def record(task: Task, seed: int, execute: Callable[[Action], str]) -> Trajectory:
    """Run one planned route through ``execute`` (a sandbox's ToolRunner) and record it.

    The final patch is the observation of submit (the sandbox's diff); grading sets `resolved`.
    """
    steps: list[Step] = []
    patch = ""
    for planned in plan(task, seed):
        start = time.perf_counter()
        observation = execute(planned.action)
        seconds = round(time.perf_counter() - start, 4)
        if planned.action.tool == "submit":
            patch = observation
        steps.append(Step(planned.action, observation, planned.thought, {"seconds": seconds}))
    return Trajectory(
        task_id=task.instance_id,
        source_format="agent",
        steps=tuple(steps),
        problem_statement=task.problem_statement,
        patch=patch,
        metadata={"trajectory_id": f"{task.instance_id}_{seed}", "model": "scripted-teacher", "teacher": "scripted", "seed": seed},
    )
