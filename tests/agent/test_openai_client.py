"""The OpenAI-compatible client over real HTTP, against a loopback server of the tiny model."""

from __future__ import annotations

import json
import time

import pytest

from swe_srl.actions import Action
from swe_srl.agent import loop
from swe_srl.agent.loop import AgentConfig, run_agent
from swe_srl.agent.openai_client import ModelRequestError, OpenAIClient, OpenAIConfig
from swe_srl.agent.openai_tools import to_openai_messages
from swe_srl.errors import ConfigError
from swe_srl.stepwise import Message

from tests.agent.fakes import TASK, FakeTools
from tests.loopback import JsonServer

PROMPT = [Message("system", "You fix bugs."), Message("user", "<issue>\nparse() crashes\n</issue>")]


def make_client(server, sleeps=None, **overrides) -> OpenAIClient:
    settings = {"timeout": 5.0, "max_retries": 3, "backoff": 0.5, "native_tools": False, **overrides}
    config = OpenAIConfig(base_url=server.base_url, model="tiny", **settings)
    return OpenAIClient(config, sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_completion_over_http_carries_the_models_text_and_usage(tiny_server, tiny_client) -> None:
    reply = make_client(tiny_server).complete(PROMPT)
    local = tiny_client.complete(PROMPT)  # greedy: the server's model says the same
    assert reply.text == local.text
    assert reply.prompt_tokens == local.prompt_tokens > 0 and reply.completion_tokens == local.completion_tokens > 0
    assert reply.retries == 0 and reply.seconds > 0
    sent = tiny_server.requests[0]
    assert sent["model"] == "tiny" and sent["messages"][1]["content"] == PROMPT[1].content and "tools" not in sent


def test_a_lone_surrogate_in_tool_output_is_sent_escaped(tiny_server) -> None:
    tiny_server.faults = [("reply", {"role": "assistant", "content": "ok"})]
    observation = Message("user", "bytes: \udcff")  # what surrogateescape makes of a byte that is not UTF-8
    assert make_client(tiny_server).complete([*PROMPT, observation]).text == "ok"
    assert tiny_server.requests[0]["messages"][-1]["content"] == "bytes: \\udcff"


def test_retries_5xx_with_growing_backoff(tiny_server) -> None:
    tiny_server.faults = [("status", 500), ("status", 503), ("status", 502)]
    sleeps: list[float] = []
    reply = make_client(tiny_server, sleeps).complete(PROMPT)
    assert reply.retries == 3 and len(tiny_server.requests) == 4
    assert len(sleeps) == 3 and sleeps[0] < sleeps[2]
    assert 0.25 <= sleeps[0] <= 0.5 and 1.0 <= sleeps[2] <= 2.0  # backoff 0.5 * 2^k, jittered down to half


def test_retries_after_a_timeout(tiny_server) -> None:
    # The retry gets a canned reply: generating one could itself outlast the timeout on a busy machine.
    tiny_server.faults = [("stall", 3.0), ("reply", {"role": "assistant", "content": "second try"})]
    client = make_client(tiny_server, timeout=1.0)
    start = time.perf_counter()
    reply = client.complete(PROMPT)
    assert reply.retries == 1 and len(tiny_server.requests) == 2 and reply.text == "second try"
    assert time.perf_counter() - start < 10


def test_gives_up_after_max_retries_and_does_not_retry_4xx(tiny_server) -> None:
    tiny_server.faults = [("status", 503)] * 3
    with pytest.raises(ModelRequestError, match="gave up after 3 attempts"):
        make_client(tiny_server, max_retries=2).complete(PROMPT)
    tiny_server.requests.clear()
    tiny_server.faults = [("status", 401)]
    with pytest.raises(ModelRequestError, match="HTTP 401"):
        make_client(tiny_server).complete(PROMPT)
    assert len(tiny_server.requests) == 1


def test_native_tool_call_maps_onto_the_same_action(tiny_server) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "str_replace_editor", "arguments": json.dumps(
        {"command": "view", "path": "/testbed/pkg/parse.py", "view_range": [1, 20]})}}
    tiny_server.faults = [("reply", {"role": "assistant", "content": "Let me read it.", "tool_calls": [call]})]
    reply = make_client(tiny_server, native_tools=True).complete(PROMPT)
    assert reply.action == Action.editor("view", "/testbed/pkg/parse.py", view_range=[1, 20])
    assert reply.text == "Let me read it." and reply.finish_reason == "tool_calls"
    assert [t["function"]["name"] for t in tiny_server.requests[0]["tools"]] == ["bash", "str_replace_editor", "submit"]


def test_unmappable_tool_calls_are_reported_not_raised(tiny_server) -> None:
    bad = {"id": "c1", "type": "function", "function": {"name": "browse", "arguments": "{}"}}
    tiny_server.faults = [("reply", {"role": "assistant", "content": None, "tool_calls": [bad]})]
    reply = make_client(tiny_server, native_tools=True).complete(PROMPT)
    assert reply.action is None and "browse" in reply.tool_error


def test_auto_falls_back_to_text_when_tools_are_refused(tiny_server) -> None:
    tiny_server.reject_tools = True
    client = make_client(tiny_server, native_tools="auto")
    client.complete(PROMPT)
    client.complete(PROMPT)
    assert ["tools" in r for r in tiny_server.requests] == [True, False, False]


def test_tool_history_is_sent_as_tool_messages() -> None:
    action = Action.editor("insert", "/testbed/a.py", insert_line=3, new_str="x = 1\n")
    messages = [*PROMPT, Message("assistant", action.render()), Message("user", "edited"), Message("assistant", "??"),
                Message("user", "error")]
    native = to_openai_messages(messages, native_tools=True)
    call = native[2]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"command": "insert", "path": "/testbed/a.py",
                                                         "new_str": "x = 1\n", "insert_line": 3}
    assert native[3] == {"role": "tool", "tool_call_id": call["id"], "content": "edited"}
    assert native[4:] == [{"role": "assistant", "content": "??"}, {"role": "user", "content": "error"}]
    assert to_openai_messages(messages, native_tools=False)[2] == {"role": "assistant", "content": action.render()}


def test_agent_loop_over_http_runs_and_stops(tiny_server) -> None:
    client = make_client(tiny_server, max_tokens=16)
    trajectory = run_agent(TASK, client, FakeTools(), AgentConfig(max_steps=3, max_malformed_in_a_row=5))
    assert trajectory.metadata["model_calls"] == 3 and len(tiny_server.requests) == 3
    assert trajectory.metadata["stop_reason"] in (loop.STEP_LIMIT, loop.SUBMITTED)
    assert trajectory.metadata["prompt_tokens"] > 0


def test_config_is_checked() -> None:
    with pytest.raises(ConfigError):
        OpenAIConfig(base_url="localhost:8000", model="m")


@pytest.fixture
def answered():
    """Makes a client whose loopback endpoint answers every request with ``body`` (bytes as they are, else JSON)."""
    servers: list[JsonServer] = []

    def make(body: object) -> OpenAIClient:
        servers.append(JsonServer(lambda path, request: (200, body)))
        config = OpenAIConfig(base_url=servers[-1].base_url, model="m", max_retries=1)
        return OpenAIClient(config, sleep=lambda s: None)

    yield make
    for server in servers:
        server.close()


def message(**fields: object) -> dict:
    return {"choices": [{"message": fields, "finish_reason": "stop"}]}


CALL = {"function": {"name": "bash", "arguments": '{"command": "ls"}'}}


@pytest.mark.parametrize(
    ("body", "text", "tool_error"),
    [
        ({**message(content="hi"), "usage": ["x"]}, "hi", None),  # AttributeError before
        ({**message(content="hi"), "usage": {"prompt_tokens": "many", "cost": "free"}}, "hi", None),  # ValueError
        ({**message(content="hi"), "usage": {"completion_tokens": 1e300, "cost": 10**400}}, "hi", None),  # OverflowError
        (message(content=[{"type": "text", "text": "a"}, "b"], reasoning_content="r"), "<think>\nr\n</think>\nab", None),
        (message(content="x\ud800"), "x\\ud800", None),  # a lone surrogate no file or tokenizer takes
        (message(content="c", tool_calls={"id": CALL}), "c", "expected exactly one tool call, got a dict"),  # KeyError
        (message(content="c", tool_calls=["call"]), "c", "the tool call has no function object"),  # AttributeError
        (message(content="c", tool_calls=[{"function": "bash"}]), "c", "the tool call has no function object"),
        (message(tool_calls=[{"function": {"name": "bash", "arguments": "[" * 100_000}}]), "", "tool call 'bash'"),
    ],
)
def test_odd_answers_give_a_reply(answered, body: dict, text: str, tool_error: str | None) -> None:
    reply = answered(body).complete(PROMPT)
    assert reply.text == text and reply.prompt_tokens >= 0 and reply.cost >= 0
    assert reply.tool_error is None if tool_error is None else tool_error in reply.tool_error


@pytest.mark.parametrize(
    "body",
    [
        {"choices": [{"message": "hi"}]},  # AttributeError before
        [1, 2],
        b'{"choices": [' + b"9" * 5000 + b"]}",  # ValueError (int digit limit) before
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError before
        b"\xff\xfe",  # UnicodeDecodeError before
    ],
)
def test_unusable_answers_raise_model_request_errors(answered, body: object) -> None:
    with pytest.raises(ModelRequestError) as caught:
        answered(body).complete(PROMPT)
    assert len(str(caught.value)) < 1000


def test_a_native_call_in_an_odd_answer_still_maps(answered) -> None:
    reply = answered({**message(content=None, tool_calls=[CALL]), "usage": None}).complete(PROMPT)
    assert reply.action == Action.bash("ls") and reply.tool_error is None
