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
        """Read the record ``to_json`` wrote (our own JSONL store of imported trajectories)."""
        try:
            steps = tuple(
                Step(
                    action=Action.make(s["action"]["tool"], s["action"]["args"]),
                    observation=s.get("observation", ""),
                    thought=s.get("thought", ""),
                    metadata=s.get("metadata", {}),
                )
                for s in data["steps"]
            )
            return cls(
                task_id=data["task_id"],
                source_format=data["source_format"],
                steps=steps,
                problem_statement=data.get("problem_statement", ""),
                patch=data.get("patch", ""),
                resolved=data.get("resolved"),
                metadata=data.get("metadata", {}),
            )
        except KeyError as err:
            raise DataError("missing", source=source, line=line, field=str(err.args[0])) from None


def dumps(trajectory: Trajectory) -> str:
    """One JSONL line."""
    return json.dumps(trajectory.to_json(), ensure_ascii=False)
