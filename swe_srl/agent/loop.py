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
from typing import Callable

from swe_srl.actions import SUBMIT, Action
from swe_srl.agent.client import ModelClient
from swe_srl.agent.prompt import PromptTooLong, render_prompt
from swe_srl.config.sections import AgentLimits
from swe_srl.errors import ActionParseError
from swe_srl.prompt import CachedCounter
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


def run_agent(
    task: Task,
    client: ModelClient,
    execute: Execute,
    config: AgentConfig = AgentConfig(),
    *,
    diff: Callable[[], str] | None = None,
) -> Trajectory:
    """Run ``client`` on ``task`` through ``execute`` and return the recorded Trajectory.

    The patch is the observation of submit (the sandbox's diff); a run that stops for another
    reason takes its patch from ``diff`` when given, else leaves it empty.
    """
    problem = task.problem_statement + (f"\n\n{config.hint}" if config.hint else "")
    counter = CachedCounter(client.count_tokens)
    steps: list[Step] = []
    retries: list[tuple[str, str]] = []
    totals = {"prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0, "model_seconds": 0.0, "env_seconds": 0.0,
              "model_calls": 0, "malformed": 0, "http_retries": 0}
    patch = ""
    stop = STEP_LIMIT
    started = time.perf_counter()
    while totals["model_calls"] < config.max_steps:
        try:
            messages = render_prompt(problem, steps, config.stepwise, counter, retries)
        except PromptTooLong as err:
            log.info("%s: %s", task.instance_id, err)
            stop = CONTEXT_LIMIT
            break
        reply = client.complete(messages)
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
            retries.append((reply.text[:REPLY_SHOWN_CHARS], MALFORMED_OBSERVATION.format(error=err)))
            log.debug("%s: malformed reply %d: %s", task.instance_id, totals["malformed"], err)
            if len(retries) >= config.max_malformed_in_a_row:
                stop = MALFORMED_LIMIT
                break
            limit = _over_budget(config, totals)
            if limit:
                stop = limit
                break
            continue
        env_start = time.perf_counter()
        observation = execute(action)
        env_seconds = time.perf_counter() - env_start
        totals["env_seconds"] += env_seconds
        steps.append(Step(action, observation, thought, {
            "prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
            "model_seconds": round(reply.seconds, 4), "env_seconds": round(env_seconds, 4),
            "cost": reply.cost, "malformed_before": len(retries), "finish_reason": reply.finish_reason,
        }))
        retries = []
        if action.tool == SUBMIT:
            patch, stop = observation, SUBMITTED
            break
        limit = _over_budget(config, totals)
        if limit:
            stop = limit
            break
    if stop != SUBMITTED and diff is not None:
        patch = diff()
    totals["model_seconds"] = round(totals["model_seconds"], 4)
    totals["env_seconds"] = round(totals["env_seconds"], 4)
    return Trajectory(
        task_id=task.instance_id,
        source_format="agent",
        steps=tuple(steps),
        problem_statement=problem,
        patch=patch,
        metadata={"model": client.name, "stop_reason": stop, "seconds": round(time.perf_counter() - started, 4),
                  **totals},
    )


def _over_budget(config: AgentConfig, totals: dict) -> str | None:
    """The limit a run has used up, if any (checked after each model call has been paid for)."""
    if config.max_tokens is not None and totals["prompt_tokens"] + totals["completion_tokens"] >= config.max_tokens:
        return TOKEN_LIMIT
    if config.max_cost is not None and totals["cost"] >= config.max_cost:
        return COST_LIMIT
    return None
