"""The demo recipe: the pipeline on the bundled default, stage by stage.

1. environments: build each bundled task's image, start its sandbox, apply the gold fix through
   the agent's own tools (editor calls made from the gold patch), and grade the resulting diff
   with the official swebench harness.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from swe_srl.evaluate.grade import grade
from swe_srl.sandbox.docker import DockerSandbox
from swe_srl.sandbox.execute import ToolRunner
from swe_srl.sandbox.images import ensure_task_image
from swe_srl.tasks.bundled import bundled_tasks
from swe_srl.tasks.patch_actions import patch_to_actions


@dataclass(frozen=True)
class TaskOutcome:
    instance_id: str
    actions: int
    edit_errors: int  # editor observations that report a failed edit
    resolved: bool
    seconds: float


@dataclass
class DemoResult:
    tasks: list[TaskOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.tasks) and all(t.resolved and not t.edit_errors for t in self.tasks)


def _solve_with_tools(task, workdir: Path) -> TaskOutcome:
    start = time.perf_counter()
    ensure_task_image(task)
    actions = patch_to_actions(task.patch)
    errors = 0
    with DockerSandbox.start(task) as sandbox:
        tools = ToolRunner(sandbox)
        for action in actions:
            observation = tools(action)
            if action.tool == "str_replace_editor" and "has been edited" not in observation and "created" not in observation:
                errors += 1
        patch = sandbox.diff()
    report = grade(task, patch, run_id="demo", log_dir=workdir / "grading")
    return TaskOutcome(task.instance_id, len(actions), errors, report.resolved, time.perf_counter() - start)


def run_demo(workdir: Path, console: Console | None = None) -> DemoResult:
    """Run every stage; ``console`` only shows progress."""
    workdir.mkdir(parents=True, exist_ok=True)
    result = DemoResult()
    tasks = bundled_tasks()
    for i, task in enumerate(tasks, 1):
        if console is not None:
            console.print(f"[{i}/{len(tasks)}] {task.instance_id}: gold fix through the agent's tools, then graded")
        result.tasks.append(_solve_with_tools(task, workdir))
    return result


def print_demo(result: DemoResult, console: Console) -> None:
    table = Table(title="Bundled tasks: gold fix applied with str_replace_editor, graded by swebench")
    for column in ("task", "actions", "edit errors", "resolved", "seconds"):
        table.add_column(column)
    for t in result.tasks:
        table.add_row(t.instance_id, str(t.actions), str(t.edit_errors), "yes" if t.resolved else "[red]no[/]", f"{t.seconds:.1f}")
    console.print(table)
    resolved = sum(t.resolved for t in result.tasks)
    console.print(f"resolved {resolved}/{len(result.tasks)}")
