"""The importers' text-action parsers: what they find, and that they take linear time on any text."""

from __future__ import annotations

import pytest

from swe_srl.actions import Action
from swe_srl.formats.text_actions import any_text_actions, close_stopped_call, codeact_blocks, function_blocks
from swe_srl.formats.mini_swe_agent import fenced_block
from swe_srl.formats.openhands_events import file_editor_literal
from swe_srl.formats.toolcalls import ToolCallError, Unsupported
from tests.linear_time import assert_linear


def test_codeact_tags_and_both_finish_forms() -> None:
    thought, converted = codeact_blocks("look\n<execute_bash>ls</execute_bash><execute_ipython>1</execute_ipython>")
    assert thought == "look" and converted == [Action.bash("ls"), Action.python("1")]
    for finish in ("<finish>done</finish>", "<finish />", "<finish/>"):
        assert codeact_blocks(f"ok {finish}") == ("ok", [Action.submit()])
    # An unclosed tag is no block, but a later closed one still is.
    assert codeact_blocks("<execute_bash>a <finish>x <execute_ipython>b</execute_ipython>") == (
        "<execute_bash>a <finish>x", [Action.python("b")]
    )
    assert codeact_blocks("<execute_browse>open x</execute_browse>") == ("", [Unsupported("execute_browse")])


def test_mini_swe_agent_fence() -> None:
    assert fenced_block("run it\n```bash\nls -a\n```") == ("run it", [Action.bash("ls -a")])
    assert fenced_block("```mswea_bash_command \t\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n```")[1] == [Action.submit()]


@pytest.mark.parametrize(
    "code, literal",
    [
        ("print(file_editor(**{'command': 'view', 'path': '/a'}))", "{'command': 'view', 'path': '/a'}"),
        ("file_editor(**{'path': '/a'})", "{'path': '/a'}"),
        ("x = {}; file_editor(**{'a': {}}) or file_editor(**{})", "{'a': {}}) or file_editor(**{}"),
        ("file_editor(**{})) + 1", None),
        ("file_editor(**{)", None),
        ("print(1)", None),
    ],
)
def test_openhandsfile_editor_literal(code: str, literal: str | None) -> None:
    assert file_editor_literal(code) == literal


def repeated(unit: str):
    return lambda size: unit * (size // len(unit))


@pytest.mark.parametrize(
    "parse, make",
    [
        (any_text_actions, repeated("<function=bash>")),
        (any_text_actions, repeated("<execute_bash>")),
        (any_text_actions, repeated("<finish>")),
        (codeact_blocks, repeated("<execute_bash>x</execute_ipython>")),
        (fenced_block, repeated("```bash\nx")),
        (file_editor_literal, lambda size: "file_editor(**{" * (size // 15) + "})"),
        (file_editor_literal, repeated("file_editor(**{")),
    ],
)
def test_text_parsers_take_linear_time(parse, make) -> None:
    assert_linear(parse, make)


@pytest.mark.parametrize(
    ("text", "closed"),
    [
        ("a\n<function=bash>\n<parameter=command>ls</parameter>\n", "a\n<function=bash>\n<parameter=command>ls</parameter>\n\n</function>"),
        ("<function=bash>\n<parameter=command>ls</parameter>\n</", "<function=bash>\n<parameter=command>ls</parameter>\n</function>"),
        ("<function=bash>\n<parameter=command>ls</parameter>\n</functio", "<function=bash>\n<parameter=command>ls</parameter>\n</function>"),
        ("<function=submit>\n</function>", "<function=submit>\n</function>"),  # closed: unchanged
        ("<function=bash></function>\n<function=bash>", "<function=bash></function>\n<function=bash>"),  # two blocks: OpenHands leaves it
        ("no call", "no call"),
    ],
)
def test_a_stopped_call_is_closed_only_where_openhands_closes_it(text: str, closed: str) -> None:
    assert close_stopped_call(text) == closed


def test_swe_agents_rule_keeps_needing_the_closing_tag() -> None:
    with pytest.raises(ToolCallError, match="not closed"):
        function_blocks("<function=bash>\n<parameter=command>ls</parameter>\n")
    assert any_text_actions("<function=bash>\n<parameter=command>ls</parameter>\n") == ("", [Action.bash("ls")])
