"""Native tool calls -> Actions is total: any name and arguments give a result or a ToolCallError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swe_srl.actions import Action
from swe_srl.formats.base import Where
from swe_srl.formats.chat import read_messages
from swe_srl.formats.text_actions import any_text_actions
from swe_srl.formats.toolcalls import THINK_TOOLS, ToolCallError, convert_call

NAMES = ["execute_bash", "bash", "str_replace_editor", "finish", "submit", *THINK_TOOLS, "browser", ""]
KEYS = ["command", "path", "view_range", "insert_line", "file_text", "old_str", "new_str", "is_input", "thought", "x"]
NUMBERS = st.integers() | st.floats() | st.sampled_from([float("inf"), float("nan"), 10**4000])
json_values = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.text(alphabet=st.characters(exclude_categories=()), max_size=20)
    | st.sampled_from(["view", "insert", "/a.py", "true", "None"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=12,
)
editor_calls = st.fixed_dictionaries(
    {"command": st.sampled_from(["view", "create", "str_replace", "insert"]), "path": st.just("/a.py") | json_values},
    optional={**{key: json_values for key in ("file_text", "old_str", "new_str")}, "insert_line": NUMBERS | json_values,
              "view_range": st.lists(NUMBERS | json_values, min_size=2, max_size=2) | json_values},
)
arguments = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5) | editor_calls


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(NAMES) | st.none() | st.integers(), arguments | json_values)
def test_any_call_converts_or_raises_tool_call_error(name: object, args: object) -> None:
    try:
        convert_call(name, args)
    except ToolCallError as err:
        assert len(str(err)) < 1000


def deep(depth: int) -> object:
    value: object = "ls"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("name", "arguments", "field"),
    [
        ("str_replace_editor", '{"command": "view", "path": "/a", "view_range": [1, 1e999]}', "arguments"),  # OverflowError
        ("str_replace_editor", '{"command": "view", "path": "/a", "view_range": [1, ' + "9" * 5000 + "]}", "arguments"),  # ValueError
        ("execute_bash", "[" * 100_000 + "]" * 100_000, "arguments"),  # RecursionError
        ("str_replace_editor", {"command": "create", "path": "/a", "file_text": deep(980)}, "arguments"),  # RecursionError in str()
        ("think", {"thought": deep(980)}, "arguments.thought"),  # RecursionError in str()
        ("execute_bash", json.dumps({"command": "echo \ud800"}), "arguments"),  # crashed the sandbox's shell
        ("str_replace_editor", {"command": "view", "path": "/a\x00b"}, "arguments"),  # no file name holds a NUL
        ("str_replace_editor", {"command": "view", "path": "/a", "x" * 10**6: 1}, "arguments." + "x" * 80),  # 1 MB message
    ],
    ids=["1e999", "5000-digits", "deep-json", "deep-file_text", "deep-thought", "lone-surrogate",
         "nul-in-path", "huge-key"],
)
def test_malformed_native_calls_raise_tool_call_errors(name: str, arguments: object, field: str) -> None:
    with pytest.raises(ToolCallError) as caught:
        convert_call(name, arguments)
    assert len(str(caught.value)) < 1000 and caught.value.field.startswith(field)


def test_only_true_marks_input_to_a_running_process() -> None:
    for odd in (deep(980), 1, "false", None):  # str() of the nested list overflowed the stack
        assert convert_call("execute_bash", {"command": "ls", "is_input": odd}) == Action.bash("ls")


@pytest.mark.parametrize("tool_calls, says", [
    ('{"id": "c1"}', "must hold a list of calls, got dict"),  # a JSON string of one call, not a list
    ({"id": "c1"}, "must be a list of calls, got dict"),
    ('[{"id": "c1", "function": ', "not valid JSON"),
])
def test_tool_calls_that_hold_no_list_are_an_invalid_call_naming_the_field(tool_calls: object, says: str) -> None:
    messages = [{"role": "user", "content": "task"}, {"role": "assistant", "content": "", "tool_calls": tool_calls},
                {"role": "tool", "content": "out"}]
    read = read_messages(messages, Where("rows.jsonl", line=7), text_parser=None)
    assert read.steps == []
    _, bad, answer = read.skipped
    assert (bad.reason, bad.index, bad.error.field, bad.error.line) == ("invalid tool call", 1, "messages[1].tool_calls", 7)
    assert says in bad.error.message and answer.reason == "invalid tool call result"


def test_tool_calls_as_a_json_string_read_as_the_list_it_holds() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "execute_bash", "arguments": json.dumps({"command": "ls"})}}
    messages = [{"role": "user", "content": "task"},
                {"role": "assistant", "content": "List.", "reasoning_content": "Where am I?", "tool_calls": json.dumps([call])},
                {"role": "tool", "content": "a.py"},
                {"role": "assistant", "content": "<function=submit>\n</function>", "tool_calls": ""}]  # "": no calls
    read = read_messages(messages, Where("rows.jsonl", line=1), text_parser=any_text_actions)
    assert [(s.action, s.thought, s.observation) for s in read.steps] == [
        (Action.bash("ls"), "Where am I?\n\nList.", "a.py"), (Action.submit(), "", "")]
