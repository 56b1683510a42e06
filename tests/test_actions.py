"""The canonical action text: render/parse round trips (property-based) and parse errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swe_srl.actions import Action, find_actions, parse_action, parse_function_calls, render_action
from swe_srl.errors import ActionParseError
from tests.linear_time import assert_linear

# Any text except the two closing tags, which a value cannot hold (render refuses them).
values = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60).filter(
    lambda v: "</parameter>" not in v and "</function>" not in v
)
# Code-like values: newlines, indentation and tag-looking text are where round trips break.
code = st.lists(
    st.sampled_from(["\n", "    ", "\t", "x = 1", "<parameter=a>", "<function=b>", "\r\n", " ", "'\"", "é"]), max_size=12
).map("".join)
text_values = st.one_of(values, code)
non_blank = text_values.filter(lambda v: v.strip() != "")
paths = st.from_regex(r"/[a-z0-9_./ -]{0,30}", fullmatch=True)


@st.composite
def actions(draw: st.DrawFn) -> Action:
    kind = draw(st.sampled_from(["bash", "python", "view", "create", "str_replace", "insert", "undo_edit", "submit"]))
    if kind == "bash":
        return Action.make("bash", {"command": draw(text_values), "is_input": draw(st.booleans())})
    if kind == "submit":
        return Action.submit()
    if kind == "python":
        return Action.python(draw(non_blank))
    path = draw(paths)
    if kind == "view":
        view_range = draw(st.none() | st.tuples(st.integers(-1, 10**6), st.integers(-1, 10**6)).map(list))
        return Action.editor("view", path, view_range=view_range)
    if kind == "create":
        return Action.editor("create", path, file_text=draw(text_values))
    if kind == "str_replace":
        return Action.editor("str_replace", path, old_str=draw(text_values), new_str=draw(st.none() | text_values))
    if kind == "insert":
        return Action.editor("insert", path, insert_line=draw(st.integers(0, 10**6)), new_str=draw(text_values))
    return Action.editor("undo_edit", path)


@settings(max_examples=400, deadline=None)
@given(actions())
def test_parse_of_render_gives_back_the_action(action: Action) -> None:
    assert parse_action(render_action(action)) == action


@settings(max_examples=200, deadline=None)
@given(actions())
def test_render_of_parse_gives_back_canonical_text(action: Action) -> None:
    text = render_action(action)
    assert render_action(parse_action(text)) == text


@settings(max_examples=100, deadline=None)
@given(st.lists(actions(), min_size=1, max_size=4), st.text(alphabet="abc \n", max_size=20))
def test_actions_are_found_in_order_between_prose(batch: list[Action], prose: str) -> None:
    text = prose.join(render_action(a) for a in batch)
    assert find_actions(text) == batch
    assert [Action.make(name, params) for name, params in parse_function_calls(text)] == batch


@pytest.mark.parametrize(
    "text",
    [
        "<function=bash>\n<parameter=command>ls -la</parameter>\n</function>",
        "<function=str_replace_editor>\n<parameter=command>view</parameter>\n<parameter=path>/a.py</parameter>\n"
        "<parameter=view_range>[1, 20]</parameter>\n</function>",
        "<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/a.py</parameter>\n"
        "<parameter=old_str>\n\n    x = 1\n\n</parameter>\n<parameter=new_str>    x = 2</parameter>\n</function>",
        "<function=submit>\n</function>",
    ],
)
def test_hand_written_canonical_texts_round_trip(text: str) -> None:
    assert render_action(parse_action(text)) == text


def test_a_value_holding_a_closing_tag_cannot_be_rendered() -> None:
    for value in ("a</function>b", "a</parameter>b"):
        with pytest.raises(ActionParseError):
            render_action(Action.bash(f"echo '{value}'"))


def test_unclosed_block_is_reported() -> None:
    with pytest.raises(ActionParseError, match="not closed"):
        parse_function_calls("<function=bash>\n<parameter=command>ls</parameter>\n")
    with pytest.raises(ActionParseError, match="not closed"):
        parse_action("<function=bash>\n<parameter=command>ls</parameter>\n")


def test_parse_function_calls_keeps_unknown_tools_for_importers() -> None:
    assert parse_function_calls("<function=think>\n<parameter=thought>hm</parameter>\n</function>") == [
        ("think", {"thought": "hm"})
    ]



def repeated(unit: str, prefix: str = "", suffix: str = ""):
    return lambda size: prefix + unit * (size // len(unit)) + suffix


@pytest.mark.parametrize(
    "make",
    [
        repeated("<function=bash>"),  # unclosed blocks: the regex this replaced took 41-87 s on 300 KB
        repeated("<function=bash>", suffix="</function>"),
        repeated("<function=bash>\n<parameter=command>ls</parameter>\n"),
        repeated("<function=x"),
        repeated("<parameter=a>", prefix="<function=bash>\n", suffix="</function>"),
        repeated("<parameter=a>x</parameter>\n", prefix="<function=str_replace_editor>\n", suffix="</function>"),
    ],
)
@pytest.mark.parametrize("parse", [parse_action, parse_function_calls, find_actions])
def test_parsing_takes_linear_time(parse, make) -> None:
    assert_linear(parse, make)


def test_running_process_actions_have_one_text_each() -> None:
    read_more = "<function=bash>\n<parameter=command></parameter>\n</function>"
    assert Action.bash("  ").render() == read_more
    assert Action.make("bash", {"command": "", "is_input": "true"}).render() == read_more  # empty input is a read
    typed = Action.make("bash", {"command": " y ", "is_input": True})
    assert typed.render() == "<function=bash>\n<parameter=command>y</parameter>\n<parameter=is_input>true</parameter>\n</function>"
    assert Action.make("bash", {"command": "ls", "is_input": "False"}) == Action.bash("ls")  # plain commands unchanged
    with pytest.raises(ActionParseError, match="is_input must be true or false"):
        parse_action("<function=bash>\n<parameter=command>y</parameter>\n<parameter=is_input>yes</parameter>\n</function>")
