"""The replay client: a recorded trajectory's actions, played back through the agent loop.

Replaying in a fresh sandbox is also how an imported trajectory is validated (`collect --teacher
replay` runs it through jobs/, which grades the patch): the actions are re-executed, and `compare`
sets the new observations and patch against the recorded ones. A trajectory whose actions no
longer resolve its task (a changed repository, an importer that lost part of an edit) shows up here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from swe_srl.actions import Action
from swe_srl.agent.client import ModelReply, estimate_tokens
from swe_srl.agent.loop import AgentConfig, run_agent
from swe_srl.stepwise import Message
from swe_srl.tasks.task import Task
from swe_srl.trajectory import Trajectory


class ReplayClient:
    """Answers each call with the next recorded step's thought and action, then submit."""

    def __init__(self, trajectory: Trajectory) -> None:
        self.trajectory = trajectory
        self.name = f"replay:{trajectory.metadata.get('model', trajectory.source_format)}"
        self._next = 0

    def complete(self, messages: Sequence[Message]) -> ModelReply:
        steps = self.trajectory.steps
        if self._next < len(steps):
            step = steps[self._next]
            self._next += 1
            # The action is handed over as a parsed call, like a native tool call: recorded
            # thoughts may hold text (a quoted <function=...>) that a text reply could not carry.
            return ModelReply(text=step.thought, action=step.action, finish_reason="replay")
        return ModelReply(text="The recorded trajectory has ended.", action=Action.submit(), finish_reason="replay_end")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return estimate_tokens(texts)


@dataclass(frozen=True)
class ReplayResult:
    """How a trajectory's re-run compares with the recording."""

    trajectory_id: str
    replayed: Trajectory  # the re-run, with fresh observations
    steps: int
    same_observations: int  # steps whose new observation equals the recorded one
    same_patch: bool  # the re-run's patch equals the recorded patch
    resolved: bool | None  # the harness's verdict on the re-run's patch; None when not graded

    @property
    def valid(self) -> bool:
        """The recording re-runs to a resolving patch."""
        return bool(self.resolved)

    def to_json(self) -> dict[str, Any]:
        return {"trajectory_id": self.trajectory_id, "steps": self.steps, "same_observations": self.same_observations,
                "same_patch": self.same_patch, "resolved": self.resolved}


def replay_config(trajectory: Trajectory) -> AgentConfig:
    """Limits that let every recorded step (and a final submit) through; no prompt budget."""
    config = AgentConfig(max_steps=len(trajectory.steps) + 1)
    return replace(config, stepwise=replace(config.stepwise, max_prompt_tokens=None))


def replay(trajectory: Trajectory, task: Task, execute: Callable[[Action], str],
           diff: Callable[[], str] | None = None) -> Trajectory:
    """Re-execute ``trajectory``'s actions through ``execute`` with the agent loop."""
    return run_agent(task, ReplayClient(trajectory), execute, replay_config(trajectory), diff=diff)


def compare(recorded: Trajectory, replayed: Trajectory, resolved: bool | None) -> ReplayResult:
    """A ReplayResult for a re-run of ``recorded``."""
    same = sum(a.observation == b.observation for a, b in zip(recorded.steps, replayed.steps))
    return ReplayResult(
        trajectory_id=recorded.trajectory_id,
        replayed=replayed,
        steps=len(recorded.steps),
        same_observations=same,
        same_patch=recorded.patch.strip() == replayed.patch.strip(),
        resolved=resolved,
    )
