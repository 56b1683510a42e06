"""Trajectory and Step: what a teacher did, in command-level actions, whatever wrote it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from swe_srl.actions import Action
from swe_srl.errors import DataError


@dataclass(frozen=True)
class Step:
    """One move: the teacher's thought, one action, and the observation it produced."""

    action: Action
    observation: str = ""
    thought: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)  # timings, token counts, source index


@dataclass(frozen=True)
class Trajectory:
    """A teacher's run on one task, as a sequence of steps."""

    task_id: str
    source_format: str  # the importer that read it, e.g. "openhands", or "agent" for our own runs
    steps: tuple[Step, ...]
    problem_statement: str = ""  # the task text the teacher saw
    patch: str = ""  # the final diff the run produced
    resolved: bool | None = None  # None when the run was never graded
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def trajectory_id(self) -> str:
        return str(self.metadata.get("trajectory_id", self.task_id))

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "source_format": self.source_format,
            "problem_statement": self.problem_statement,
            "patch": self.patch,
            "resolved": self.resolved,
            "metadata": dict(self.metadata),
            "steps": [
                {
                    "thought": s.thought,
                    "action": {"tool": s.action.tool, "args": dict(s.action.args)},
                    "observation": s.observation,
                    "metadata": dict(s.metadata),
                }
                for s in self.steps
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: str | None = None, line: int | None = None) -> "Trajectory":
        """Read the record ``to_json`` wrote (our own JSONL store of imported trajectories).

        A missing or mistyped field is a DataError naming it; a bad action an ActionParseError.
        """

        def typed(record: Mapping[str, Any], key: str, kind: type, field: str, default: Any = None) -> Any:
            value = record[key] if default is None else record.get(key, default)  # no default: required
            if not isinstance(value, kind):
                raise DataError(f"expected {_KIND_NAMES[kind]}, got {type(value).__name__}", source=source, line=line, field=field)
            return value

        try:
            steps = tuple(
                Step(
                    action=Action.make(s["action"]["tool"], s["action"]["args"]),
                    observation=typed(s, "observation", str, f"steps[{i}].observation", ""),
                    thought=typed(s, "thought", str, f"steps[{i}].thought", ""),
                    metadata=typed(s, "metadata", dict, f"steps[{i}].metadata", {}),
                )
                for i, s in enumerate(typed(data, "steps", list, "steps"))
            )
            resolved = data.get("resolved")
            if resolved is not None and not isinstance(resolved, bool):
                raise DataError(f"expected true, false or null, got {type(resolved).__name__}", source=source, line=line, field="resolved")
            return cls(
                task_id=typed(data, "task_id", str, "task_id"),
                source_format=typed(data, "source_format", str, "source_format"),
                steps=steps,
                problem_statement=typed(data, "problem_statement", str, "problem_statement", ""),
                patch=typed(data, "patch", str, "patch", ""),
                resolved=resolved,
                metadata=typed(data, "metadata", dict, "metadata", {}),
            )
        except KeyError as err:
            raise DataError("missing", source=source, line=line, field=str(err.args[0])) from None


_KIND_NAMES = {str: "text", dict: "an object", list: "a list"}


def dumps(trajectory: Trajectory) -> str:
    """One JSONL line."""
    return json.dumps(trajectory.to_json(), ensure_ascii=False)
