"""RLVR's episodes: G agent runs per task, each in its own sandbox, all live runs' next turns generated together.

An episode is the agent loop (swe_srl.agent.loop.AgentSession) acting on its own: each turn the
session renders its prompt, the prompt becomes token ids once (``Policy.prompt_ids``), every live episode's
ids go to the policy in ONE batched call, each reply is parsed and its action run in the sandbox
(all sandboxes at once, on ``workers`` threads), and the observation feeds the next prompt.

What the update trains on is recorded as it happens, never rebuilt afterwards: each Turn holds the
ids the policy was given and the ids it sampled, exactly. Re-rendering the conversation and
tokenizing it again would drift at turn boundaries and train on tokens nobody sampled.

An episode ends on submit, a limit of the agent loop (turns, tokens, malformed replies), its
wall-clock limit, or when its next prompt would not fit the policy's context (``context_tokens``):
it is then graded as it stands and flagged. Its final patch is graded in a fresh container
(``Environment.grade``). Failures of the infrastructure (a sandbox that does not start or dies
under a command, a grader that gives no verdict) do not score the episode: it is *masked*, its
cause recorded, and the trainer leaves it out of the loss (scoring it 0 would teach the policy that
the machines' faults are its own).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from swe_srl.actions import Action
from swe_srl.agent.client import ModelReply
from swe_srl.agent.loop import CONTEXT_LIMIT, SUBMITTED, TIME_LIMIT, AgentConfig, AgentSession
from swe_srl.errors import SandboxError
from swe_srl.prompt import Message
from swe_srl.tasks.task import Task
from swe_srl.train.rollout import Completion
from swe_srl.trajectory import Trajectory

log = logging.getLogger(__name__)

# Why an episode was masked (left out of the loss): the infrastructure failed, not the policy.
SANDBOX_START = "sandbox_start"  # the sandbox did not start
SANDBOX_LOST = "sandbox_lost"  # a command or the final diff failed for a reason outside the episode
GRADER = "grader"  # grading gave no verdict (the harness failed outside the patch)
# Errors taken for the infrastructure's: ours, and the OS's and Docker SDK's (its errors are OSErrors).
INFRASTRUCTURE_ERRORS = (SandboxError, OSError)


@dataclass(frozen=True)
class Outcome:
    """A graded episode: its reward and why (resolved, tests_fail, empty_patch, patch_not_applied, distrusted)."""

    reward: float
    cause: str


class Workspace(Protocol):
    """Where one episode acts: its sandbox's tools."""

    def __call__(self, action: Action) -> str:
        """Execute ``action``; its observation."""
        ...

    def diff(self) -> str:
        """The episode's patch so far."""
        ...

    def close(self) -> None:
        ...


class Environment(Protocol):
    """Starts episodes' workspaces and grades their patches. Raises SandboxError (or OSError) when the
    infrastructure fails; the episode is then masked."""

    def start(self, task: Task) -> Workspace:
        ...

    def grade(self, task: Task, patch: str, run_id: str) -> Outcome:
        ...


class Policy(Protocol):
    """The policy as episodes see it: token ids in and out, with its tokenizer's view of text."""

    def prompt_ids(self, messages: Sequence[Message]) -> tuple[int, ...]:
        """The ids the policy reads for a prompt (chat template, generation prompt, response prefix)."""
        ...

    def generate(self, prompts: Sequence[tuple[int, ...]]) -> list[Completion]:
        """One sampled completion per prompt, in order: the whole batch in one call."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        ...


@dataclass(frozen=True)
class Turn:
    """One model call of an episode, token-exact."""

    prompt_ids: tuple[int, ...]  # the ids the policy was given
    completion_ids: tuple[int, ...]  # the ids it sampled (ending with its stop token when it stopped)


@dataclass(frozen=True)
class Episode:
    """One graded (or masked) episode."""

    task_id: str
    index: int  # within its task's group
    turns: tuple[Turn, ...]
    trajectory: Trajectory | None  # None when its sandbox never started
    reward: float  # 0.0 when masked
    outcome: str  # the Outcome's cause, or the masking cause
    masked: bool = False  # the infrastructure failed: left out of the loss, counted by ``outcome``
    context_overflow: bool = False  # ended because its next prompt would not fit the context

    @property
    def submitted(self) -> bool:
        return self.trajectory is not None and self.trajectory.metadata.get("stop_reason") == SUBMITTED


@dataclass(frozen=True)
class EpisodeSettings:
    """How episodes run."""

    agent: AgentConfig  # turns, tokens, malformed replies, and the prompt recipe the policy learned
    episode_seconds: float  # wall clock per episode
    context_tokens: int  # a prompt over this many ids ends its episode (0: no limit)
    response_prefix: str  # opened for the model after the generation prompt; part of every reply's text
    workers: int  # sandboxes starting, acting and grading at once
    model: str = "policy"  # recorded in each trajectory


@dataclass
class Timings:
    """Wall-clock seconds episodes spent in each phase (phases do not overlap; each runs on ``workers`` threads)."""

    generation: float = 0.0  # the batched model calls
    sandboxes: float = 0.0  # starting them, running actions, reading the final diffs and closing
    grading: float = 0.0  # grading the final patches


@dataclass
class _Live:
    task: Task
    index: int
    session: AgentSession
    deadline: float
    workspace: Workspace | None = None
    turns: list[Turn] = field(default_factory=list)
    masked: str | None = None
    overflow: bool = False


def run_episodes(tasks: Sequence[Task], group_size: int, policy: Policy, env: Environment,
                 settings: EpisodeSettings, run_id: str, timings: Timings | None = None) -> list[list[Episode]]:
    """``group_size`` episodes of each task (grading run ids ``f"{run_id}-{task}-{k}"``); groups in task order."""
    timings = timings if timings is not None else Timings()
    started = time.perf_counter()
    live = [_Live(task, k, AgentSession(task, settings.model, policy.count_tokens, settings.agent),
                  started + settings.episode_seconds) for task in tasks for k in range(group_size)]
    with ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="swe-srl-episode") as pool:
        try:
            clock = time.perf_counter()
            list(pool.map(lambda ep: _start(ep, env), live))
            timings.sandboxes += time.perf_counter() - clock
            while True:
                asking = _next_prompts(live, policy, settings.context_tokens)
                if not asking:
                    break
                clock = time.perf_counter()
                completions = policy.generate([ids for _, ids in asking])
                seconds = time.perf_counter() - clock
                timings.generation += seconds
                acting = []
                for (ep, ids), completion in zip(asking, completions):
                    ep.turns.append(Turn(ids, tuple(completion.token_ids)))
                    action = ep.session.take(ModelReply(
                        text=settings.response_prefix + completion.text, prompt_tokens=len(ids),
                        completion_tokens=len(completion.token_ids), seconds=seconds / len(asking),
                        finish_reason="stop" if completion.finished else "length"))
                    if action is not None:
                        acting.append((ep, action))
                clock = time.perf_counter()
                list(pool.map(lambda pair: _act(*pair), acting))
                timings.sandboxes += time.perf_counter() - clock
            clock = time.perf_counter()
            trajectories = list(pool.map(_collect, live))
            timings.sandboxes += time.perf_counter() - clock
            clock = time.perf_counter()
            run_ids = [f"{run_id}-{ep.task.instance_id}-{ep.index}" for ep in live]
            episodes = list(pool.map(lambda *args: _grade(*args, env), live, trajectories, run_ids))
            timings.grading += time.perf_counter() - clock
        finally:
            for ep in live:  # after an error above: no sandbox outlives the call
                if ep.workspace is not None:
                    _close(ep)
    return [episodes[i:i + group_size] for i in range(0, len(episodes), group_size)]


def _start(ep: _Live, env: Environment) -> None:
    try:
        ep.workspace = env.start(ep.task)
    except INFRASTRUCTURE_ERRORS as err:
        log.warning("%s episode %d: the sandbox did not start: %s", ep.task.instance_id, ep.index, err)
        ep.masked = SANDBOX_START
        ep.session.stop(SANDBOX_START)


def _next_prompts(live: Sequence[_Live], policy: Policy, context_tokens: int) -> list[tuple[_Live, tuple[int, ...]]]:
    """The live episodes that ask for a turn now, with their prompts' ids; ends those out of time or context."""
    asking = []
    now = time.perf_counter()
    for ep in live:
        if ep.session.done:
            continue
        if now >= ep.deadline:
            ep.session.stop(TIME_LIMIT)
            continue
        messages = ep.session.prompt()
        if messages is None:
            ep.overflow = ep.session.stop_reason == CONTEXT_LIMIT
            continue
        ids = policy.prompt_ids(messages)
        if context_tokens and len(ids) > context_tokens:
            ep.session.stop(CONTEXT_LIMIT)
            ep.overflow = True
            continue
        asking.append((ep, ids))
    return asking


def _act(ep: _Live, action: Action) -> None:
    clock = time.perf_counter()
    try:
        observation = ep.workspace(action)
    except INFRASTRUCTURE_ERRORS as err:
        log.warning("%s episode %d: the sandbox failed under a command: %s", ep.task.instance_id, ep.index, err)
        ep.masked = SANDBOX_LOST
        ep.session.stop(SANDBOX_LOST)
        return
    ep.session.observe(action, observation, time.perf_counter() - clock)


def _collect(ep: _Live) -> Trajectory | None:
    """The episode's record with its final patch; its sandbox closed. None when it never started."""
    if ep.workspace is None:
        return None
    try:
        return ep.session.trajectory(ep.workspace.diff if ep.masked is None else None)
    except INFRASTRUCTURE_ERRORS as err:
        log.warning("%s episode %d: its diff could not be read: %s", ep.task.instance_id, ep.index, err)
        ep.masked = SANDBOX_LOST
        return ep.session.trajectory()
    finally:
        _close(ep)


def _grade(ep: _Live, trajectory: Trajectory | None, run_id: str, env: Environment) -> Episode:
    """The Episode record: graded, or masked when the infrastructure failed it (before or in grading)."""
    turns = tuple(ep.turns)
    if ep.masked is not None:
        return Episode(ep.task.instance_id, ep.index, turns, trajectory, 0.0, ep.masked, masked=True)
    try:
        outcome = env.grade(ep.task, trajectory.patch, run_id)
    except INFRASTRUCTURE_ERRORS as err:
        log.warning("%s episode %d: grading failed outside the patch: %s", ep.task.instance_id, ep.index, err)
        return Episode(ep.task.instance_id, ep.index, turns, trajectory, 0.0, GRADER, masked=True,
                       context_overflow=ep.overflow)
    return Episode(ep.task.instance_id, ep.index, turns, trajectory, outcome.reward, outcome.cause,
                   context_overflow=ep.overflow)


def _close(ep: _Live) -> None:
    workspace, ep.workspace = ep.workspace, None
    try:
        workspace.close()
    except INFRASTRUCTURE_ERRORS as err:  # the episode is over; a sandbox that will not close is reaped later
        log.warning("%s episode %d: closing its sandbox failed: %s", ep.task.instance_id, ep.index, err)
