"""Whether a task row carries what the swebench 5 harness needs to grade it, checked before any work.

A row that cannot be graded would otherwise run a whole agent episode and then be thrown away
(or count as unresolved): the check runs first, on every row, and names file, row, instance and
field, and the command that fills the missing fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from swebench.harness.constants import EvalType
from swebench.harness.log_parsers import PARSER_REGISTRY

from swe_srl.errors import DataError
from swe_srl.tasks.task import GRADING_FIELDS, Task

CONVERT_HINT = "fill the grading fields with `swe-srl tasks convert FILE --out CONVERTED.jsonl` and run on CONVERTED.jsonl"


@dataclass(frozen=True)
class Ungradable:
    """One row the harness could not grade."""

    row: int  # 1-based position in its file or dataset
    instance_id: str
    field: str  # the first field at fault
    reason: str  # what is wrong with it

    def line(self, source: str) -> str:
        return f"{source}: row {self.row} ({self.instance_id}): field '{self.field}' {self.reason}"


@dataclass(frozen=True)
class RowCheck:
    """The rows that can be graded, and the ones skipped (only with skip_ungradable)."""

    tasks: tuple[Task, ...]  # gradable, in input order
    skipped: tuple[Ungradable, ...]  # counted in the report, never graded


def ungradable_field(task: Task) -> tuple[str, str] | None:
    """(field, reason) of the first thing the harness would trip on, or None when ``task`` can be graded."""
    for name in GRADING_FIELDS:
        if not getattr(task, name):
            return name, "missing; the swebench harness needs it to grade"
    if task.log_parser not in PARSER_REGISTRY:
        return "log_parser", f"{task.log_parser!r} is not in swebench's PARSER_REGISTRY"
    if task.eval_type not in {e.value for e in EvalType}:
        return "eval_type", f"{task.eval_type!r} is not one of {', '.join(e.value for e in EvalType)}"
    if not task.fail_to_pass and task.eval_type == EvalType.PASS_AND_FAIL.value:
        return "FAIL_TO_PASS", "empty: every patch would count as resolved"
    return None


def check_gradable(task: Task) -> None:
    """Raise DataError naming the instance and the field when the harness could not grade ``task``."""
    fault = ungradable_field(task)
    if fault is not None:
        raise DataError(f"{fault[1]}; {CONVERT_HINT}", source=f"task {task.instance_id}", field=fault[0])


def check_rows(tasks: Sequence[Task], source: str, *, skip_ungradable: bool = False) -> RowCheck:
    """Every row checked; the first ungradable one raises DataError unless ``skip_ungradable``."""
    kept: list[Task] = []
    skipped: list[Ungradable] = []
    for row, task in enumerate(tasks, start=1):
        fault = ungradable_field(task)
        if fault is None:
            kept.append(task)
            continue
        bad = Ungradable(row, task.instance_id, *fault)
        if not skip_ungradable:
            raise DataError(f"row {row} ({task.instance_id}) cannot be graded: {fault[1]}; {CONVERT_HINT}, "
                            "or pass --skip-ungradable to skip such rows (counted in the report)",
                            source=source, field=fault[0])
        skipped.append(bad)
    return RowCheck(tuple(kept), tuple(skipped))
