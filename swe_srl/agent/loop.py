"""The one agent loop, for teachers and students alike.

Render the conversation as the SRL step-wise prompt (agent/prompt.py), ask the model, parse its
``<think>...</think>`` and its one action (or take the action of a native tool call), execute it,
record the step, and go on, until the model submits or a limit is hit. A reply that does not
parse gets an error observation and the model tries again; such replies are counted, and they
use up the step budget like any other model call so a model that never gets the format right
still stops.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from swe_srl.actions import SUBMIT, Action
from swe_srl.agent.client import ModelClient, ModelReply
from swe_srl.agent.prompt import PromptTooLong, render_prompt
from swe_srl.config.sections import AgentLimits
from swe_srl.errors import ActionParseError
from swe_srl.prompt import CachedCounter, Message
from swe_srl.reward import parse_completion
from swe_srl.stepwise import StepwiseConfig
from swe_srl.tasks.task import Task
from swe_srl.trajectory import Step, Trajectory

log = logging.getLogger(__name__)

Execute = Callable[[Action], str]  # a sandbox's ToolRunner: action -> observation text

# Why a run ended (Trajectory.metadata["stop_reason"]).
SUBMITTED = "submitted"
STEP_LIMIT = "step_limit"
TOKEN_LIMIT = "token_limit"
COST_LIMIT = "cost_limit"
CONTEXT_LIMIT = "context_limit"
MALFORMED_LIMIT = "malformed_limit"
TIME_LIMIT = "time_limit"  # the caller's wall-clock limit (RLVR episodes)

MALFORMED_OBSERVATION = (
    "Your reply could not be executed: {error}.\n"
    "Reply with your reasoning inside <think> ... </think>, then exactly one action, e.g.\n"
    "<function=bash>\n<parameter=command>ls</parameter>\n</function>"
)
REPLY_SHOWN_CHARS = 2000  # of a malformed reply, kept in the retry turn


@dataclass(frozen=True)
class AgentConfig(AgentLimits):
    """Limits and prompt format of one agent run."""

    stepwise: StepwiseConfig = field(default_factory=StepwiseConfig)  # the SRL prompt the student learned
    hint: str = ""  # appended to the problem statement (the oracle-file setting names the files here)


def parse_reply(text: str) -> tuple[str, Action]:
    """The thought and the action of a text reply; raises ActionParseError (the reward's format)."""
    parsed = parse_completion(text)
    return parsed.thought, parsed.action


class AgentSession:
    """One agent run, a move at a time: ``prompt`` the model, ``take`` its reply, ``observe`` the action's result.

    ``run_agent`` drives one session against one client; the RLVR episode runner
    (swe_srl.jobs.episodes) drives many at once, batching their model calls. Either way the rules
    are these: malformed replies become retry turns, every model call counts towards the step
    budget, and the run stops on submit or the first limit it reaches.
    """

    def __init__(self, task: Task, model: str, count_tokens: Callable[[Sequence[str]], list[int]],
                 config: AgentConfig = AgentConfig()) -> None:
        self.task, self.model, self.config = task, model, config
        self.problem = task.problem_statement + (f"\n\n{config.hint}" if config.hint else "")
        self.counter = CachedCounter(count_tokens)
        self.steps: list[Step] = []
        self.retries: list[tuple[str, str]] = []
        self.totals = {"prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0, "model_seconds": 0.0,
                       "env_seconds": 0.0, "model_calls": 0, "malformed": 0, "http_retries": 0}
        self.patch = ""
        self.stop_reason: str | None = None  # set once the run is over
        self.started = time.perf_counter()
        self._reply: ModelReply | None = None  # the reply whose action is being executed
        self._thought = ""  # and its reasoning

    @property
    def done(self) -> bool:
        return self.stop_reason is not None

    def stop(self, reason: str) -> None:
        """End the run for ``reason`` (a limit the caller enforces, such as wall-clock time)."""
        if self.stop_reason is None:
            self.stop_reason = reason

    def prompt(self) -> tuple[Message, ...] | None:
        """The messages for the next model call; None once the run is over."""
        if self.done:
            return None
        if self.totals["model_calls"] >= self.config.max_steps:
            self.stop(STEP_LIMIT)
            return None
        try:
            return render_prompt(self.problem, self.steps, self.config.stepwise, self.counter, self.retries)
        except PromptTooLong as err:
            log.info("%s: %s", self.task.instance_id, err)
            self.stop(CONTEXT_LIMIT)
            return None

    def take(self, reply: ModelReply) -> Action | None:
        """Record the model's ``reply``; the action to execute, or None (a malformed reply, or a limit reached)."""
        totals = self.totals
        totals["model_calls"] += 1
        totals["prompt_tokens"] += reply.prompt_tokens
        totals["completion_tokens"] += reply.completion_tokens
        totals["cost"] += reply.cost
        totals["model_seconds"] += reply.seconds
        totals["http_retries"] += reply.retries
        try:
            if reply.action is not None:
                thought, action = reply.text.strip(), reply.action
            elif reply.tool_error is not None:
                raise ActionParseError(reply.tool_error)
            else:
                thought, action = parse_reply(reply.text)
        except ActionParseError as err:
            totals["malformed"] += 1
            self.retries.append((reply.text[:REPLY_SHOWN_CHARS], MALFORMED_OBSERVATION.format(error=err)))
            log.debug("%s: malformed reply %d: %s", self.task.instance_id, totals["malformed"], err)
            if len(self.retries) >= self.config.max_malformed_in_a_row:
                self.stop(MALFORMED_LIMIT)
            else:
                self._check_budget()
            return None
        self._reply, self._thought = reply, thought
        return action

    def observe(self, action: Action, observation: str, env_seconds: float) -> None:
        """Record what executing the action ``take`` returned gave."""
        reply = self._reply
        assert reply is not None, "observe() follows a take() that returned an action"
        self.totals["env_seconds"] += env_seconds
        self.steps.append(Step(action, observation, self._thought, {
            "prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
            "model_seconds": round(reply.seconds, 4), "env_seconds": round(env_seconds, 4),
            "cost": reply.cost, "malformed_before": len(self.retries), "finish_reason": reply.finish_reason,
        }))
        self.retries, self._reply = [], None
        if action.tool == SUBMIT:
            self.patch = observation
            self.stop(SUBMITTED)
        else:
            self._check_budget()

    def _check_budget(self) -> None:
        limit = _over_budget(self.config, self.totals)
        if limit:
            self.stop(limit)

    def trajectory(self, diff: Callable[[], str] | None = None) -> Trajectory:
        """The recorded run. Its patch is the observation of submit (the sandbox's diff); a run that stopped
        for another reason takes its patch from ``diff`` when given, else leaves it empty."""
        patch = self.patch
        if self.stop_reason != SUBMITTED and diff is not None:
            patch = diff()
        totals = dict(self.totals, model_seconds=round(self.totals["model_seconds"], 4),
                      env_seconds=round(self.totals["env_seconds"], 4))
        return Trajectory(
            task_id=self.task.instance_id,
            source_format="agent",
            steps=tuple(self.steps),
            problem_statement=self.problem,
            patch=patch,
            metadata={"model": self.model, "stop_reason": self.stop_reason or STEP_LIMIT,
                      "seconds": round(time.perf_counter() - self.started, 4), **totals},
        )


def run_agent(
    task: Task,
    client: ModelClient,
    execute: Execute,
    config: AgentConfig = AgentConfig(),
    *,
    diff: Callable[[], str] | None = None,
) -> Trajectory:
    """Run ``client`` on ``task`` through ``execute`` and return the recorded Trajectory (see AgentSession)."""
    session = AgentSession(task, client.name, client.count_tokens, config)
    while (messages := session.prompt()) is not None:
        action = session.take(client.complete(messages))
        if action is not None:
            started = time.perf_counter()
            observation = execute(action)
            session.observe(action, observation, time.perf_counter() - started)
    return session.trajectory(diff)


def _over_budget(config: AgentConfig, totals: dict) -> str | None:
    """The limit a run has used up, if any (checked after each model call has been paid for)."""
    if config.max_tokens is not None and totals["prompt_tokens"] + totals["completion_tokens"] >= config.max_tokens:
        return TOKEN_LIMIT
    if config.max_cost is not None and totals["cost"] >= config.max_cost:
        return COST_LIMIT
    return None
