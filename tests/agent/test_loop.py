"""The agent loop: stop conditions, malformed replies, records, and prompts equal to SRL's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from swe_srl.actions import Action
from swe_srl.agent import loop
from swe_srl.agent.client import ModelReply
from swe_srl.agent.loop import AgentConfig, run_agent
from swe_srl.errors import ConfigError
from swe_srl.stepwise import StepwiseConfig, build_examples

from tests.agent.fakes import TASK, FakeTools, ListClient, think

LS = Action.bash("ls")
VIEW = Action.editor("view", "/testbed/pkg/parse.py")
SUBMIT = Action.submit()


def test_runs_until_submit_and_records_every_step() -> None:
    client = ListClient([think(LS, "first"), think(VIEW, "second"), think(SUBMIT, "done")], tokens=7, cost=0.5)
    tools = FakeTools(diff="THE PATCH")
    trajectory = run_agent(TASK, client, tools)
    assert [s.action for s in trajectory.steps] == [LS, VIEW, SUBMIT]
    assert [s.thought for s in trajectory.steps] == ["first", "second", "done"]
    assert trajectory.steps[0].observation == "ran: ls"
    assert trajectory.patch == "THE PATCH"
    assert trajectory.source_format == "agent" and trajectory.resolved is None
    meta = trajectory.metadata
    assert meta["stop_reason"] == loop.SUBMITTED and meta["model"] == "list-client"
    assert meta["prompt_tokens"] == 21 and meta["completion_tokens"] == 21 and meta["cost"] == 1.5
    assert meta["model_calls"] == 3 and meta["malformed"] == 0
    for step in trajectory.steps:
        assert step.metadata["prompt_tokens"] == 7 and step.metadata["env_seconds"] >= 0
        assert step.metadata["model_seconds"] >= 0


@pytest.mark.parametrize("context_steps", [2, "all", 0])
def test_prompts_are_the_stepwise_training_prompts(context_steps) -> None:
    actions = [LS, VIEW, Action.bash("pytest -x"), Action.bash("git diff"), SUBMIT]
    client = ListClient([think(a) for a in actions])
    stepwise = StepwiseConfig(context_steps=context_steps)
    trajectory = run_agent(TASK, client, FakeTools(), AgentConfig(stepwise=stepwise))
    graded = replace(trajectory, resolved=True)
    examples = list(build_examples(graded, replace(stepwise, drop_duplicates=False), lambda t: len(t) // 4))
    assert len(examples) == len(client.prompts) == len(actions)
    for example, prompt in zip(examples, client.prompts):
        assert prompt == example.prompt  # what the student was trained on is what it is asked
    # The model's own reasoning is never shown back to it, as in the step-wise data.
    assert all("let me look" not in m.content for m in client.prompts[-1])


def test_malformed_reply_gets_an_error_observation_and_is_counted() -> None:
    client = ListClient(["I will just run ls", think(LS), think(SUBMIT)])
    trajectory = run_agent(TASK, client, FakeTools())
    assert trajectory.metadata["malformed"] == 1 and trajectory.metadata["stop_reason"] == loop.SUBMITTED
    retry = client.prompts[1]
    assert retry[-2].role == "assistant" and retry[-2].content == "I will just run ls"
    assert retry[-1].role == "user" and "could not be executed" in retry[-1].content and "<think>" in retry[-1].content
    assert trajectory.steps[0].metadata["malformed_before"] == 1
    # Once a valid action is taken, the failed attempt leaves the prompt.
    assert all("I will just run ls" not in m.content for m in client.prompts[2])


def test_stops_after_too_many_malformed_replies_in_a_row() -> None:
    tools = FakeTools(diff="partial")
    trajectory = run_agent(TASK, ListClient(["nonsense"]), tools, AgentConfig(max_malformed_in_a_row=2), diff=tools.diff)
    assert trajectory.metadata["stop_reason"] == loop.MALFORMED_LIMIT
    assert trajectory.metadata["malformed"] == 2 and trajectory.steps == ()
    assert trajectory.patch == "partial"  # taken from the sandbox when the model never submitted


def test_step_limit_counts_model_calls() -> None:
    client = ListClient([think(LS)])
    trajectory = run_agent(TASK, client, FakeTools(), AgentConfig(max_steps=4))
    assert len(trajectory.steps) == 4 and trajectory.metadata["stop_reason"] == loop.STEP_LIMIT
    assert trajectory.patch == ""  # no submit and no diff callable


def test_token_and_cost_limits() -> None:
    by_tokens = run_agent(TASK, ListClient([think(LS)], tokens=50), FakeTools(), AgentConfig(max_tokens=250))
    assert by_tokens.metadata["stop_reason"] == loop.TOKEN_LIMIT and len(by_tokens.steps) == 3
    by_cost = run_agent(TASK, ListClient([think(LS)], cost=0.4), FakeTools(), AgentConfig(max_cost=1.0))
    assert by_cost.metadata["stop_reason"] == loop.COST_LIMIT and len(by_cost.steps) == 3


def test_context_limit_stops_before_asking() -> None:
    config = AgentConfig(stepwise=StepwiseConfig(max_prompt_tokens=50))
    client = ListClient([think(LS)])
    trajectory = run_agent(TASK, client, FakeTools(), config)
    assert trajectory.metadata["stop_reason"] == loop.CONTEXT_LIMIT and client.prompts == []


def test_native_tool_call_action_is_used_and_tool_errors_count_as_malformed() -> None:
    replies = [ModelReply(text="", tool_error="unknown tool 'browse'"),
               ModelReply(text="checking the file", action=VIEW), ModelReply(text="", action=SUBMIT)]
    trajectory = run_agent(TASK, ListClient(replies), FakeTools())
    assert [s.action for s in trajectory.steps] == [VIEW, SUBMIT]
    assert trajectory.steps[0].thought == "checking the file" and trajectory.metadata["malformed"] == 1


def test_hint_follows_the_problem_statement() -> None:
    client = ListClient([think(SUBMIT)])
    trajectory = run_agent(TASK, client, FakeTools(), AgentConfig(hint="Edit /testbed/pkg/parse.py"))
    issue = client.prompts[0][1].content
    assert TASK.problem_statement in issue and issue.rstrip().endswith("</issue>")
    assert "Edit /testbed/pkg/parse.py" in issue and trajectory.problem_statement.endswith("parse.py")


def test_bad_config() -> None:
    with pytest.raises(ConfigError):
        AgentConfig(max_steps=0)
