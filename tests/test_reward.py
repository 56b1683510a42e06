"""The step-wise reward: difflib's ratio on canonical actions, -1 for malformed completions."""

from __future__ import annotations

from difflib import SequenceMatcher

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swe_srl.actions import Action
from swe_srl.errors import ActionParseError
from swe_srl.reward import FORMAT_PENALTY, parse_completion, reward, score_completion, score_group

OLD = (
    "    def parse(self, value, default=None):\n"
    "        if value is None:\n"
    "            return default\n"
    "        items = [item.strip() for item in value.split(',')]\n"
    "        return [int(item) for item in items if item]\n"
)
EDIT_A = Action.editor(
    "str_replace", "/testbed/src/fields.py", old_str=OLD,
    new_str=OLD.replace("if item]", "if item and not item.startswith('#')]"),
)
EDIT_B = Action.editor(
    "str_replace", "/testbed/src/fields.py", old_str=OLD,
    new_str=OLD.replace("if item]", "if item != ''] or default"),
)


def completion(action: Action | str, thought: str = "look at the file") -> str:
    text = action.render() if isinstance(action, Action) else action
    return f"<think>\n{thought}\n</think>\n{text}"


def ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def test_exact_match_scores_one():
    action = Action.bash("pytest -x tests/test_fields.py")
    assert reward(completion(action), action) == 1.0


@pytest.mark.parametrize(
    "predicted, expert",
    [
        (Action.bash("cat setup.py"), Action.bash("cat setup.cfg")),
        (Action.bash("grep -rn 'def parse' src/"), Action.bash("pytest -x")),
        (Action.editor("view", "/testbed/src/a.py"), Action.editor("view", "/testbed/src/a.py", view_range=[1, 40])),
        (Action.bash("ls"), Action.submit()),
        (EDIT_A, EDIT_B),
    ],
)
def test_equals_difflib_ratio_on_canonical_text(predicted, expert):
    expected = ratio(predicted.render(), expert.render())
    assert reward(completion(predicted), expert) == expected
    assert reward(completion(predicted), expert.render()) == expected  # expert given as text
    assert 0.0 <= expected <= 1.0


# Two edits of one block whose only rare characters sit where they differ (the path and the first
# line); every other character is "popular" under difflib's autojunk heuristic for strings this long.
JUNK_BLOCK = (
    "    not text\n    value result\n        value else\n    not return parts not\n        join items\n"
    "        print append item return\n        import none join item raise\n    error in raise for strip\n\n"
)
JUNK_A = Action.editor("str_replace", "/testbed/core.py", old_str=JUNK_BLOCK,
                       new_str=JUNK_BLOCK.replace("not text", "not text self", 1))
JUNK_B = Action.editor("str_replace", "/testbed/lib/core.py", old_str=JUNK_BLOCK,
                       new_str=JUNK_BLOCK.replace("not text", "not text result", 1))


def test_autojunk_is_off_for_long_edits():
    a, b = JUNK_A.render(), JUNK_B.render()
    assert len(a) > 200 and len(b) > 200
    default = SequenceMatcher(None, a, b).ratio()  # difflib's autojunk=True
    ours = reward(completion(JUNK_A), JUNK_B)
    assert ours == ratio(a, b)
    assert ours > 0.95
    assert default < 0.7  # autojunk drops most of the shared text from the match


def test_formatting_noise_costs_nothing():
    expert = Action.editor("view", "/testbed/src/a.py", view_range=[1, 40])
    noisy = (
        "<function=str_replace_editor>\n<parameter=view_range>[1,40]</parameter>\n"
        "<parameter=path>  /testbed/src/a.py </parameter>\n<parameter=command>view</parameter>\n</function>"
    )
    assert reward(completion(noisy), expert) == 1.0
    assert reward("  " + completion(Action.bash("  ls -la  ")) + "\n", Action.bash("ls -la")) == 1.0


@pytest.mark.parametrize(
    "text, why",
    [
        (Action.bash("ls").render(), "start"),
        ("<think>never closed " + Action.bash("ls").render(), "not closed"),
        ("<think>ok</think>", "no action"),
        ("<think>ok</think>\n<function=bash>\n<parameter=command>ls</parameter>", "not closed"),
        ("<think>ok</think>" + Action.bash("ls").render() * 2, "2"),
        ("<think>ok</think>\nI will list files.\n" + Action.bash("ls").render(), "outside"),
        ("<think>ok</think>" + Action.bash("ls").render() + "\nthen more", "outside"),
        ("<think>a</think><think>b</think>" + Action.bash("ls").render(), "think"),
        ("<think>ok</think><function=rm_rf><parameter=x>1</parameter></function>", "unknown tool"),
        ("<think>ok</think><function=bash><parameter=cmd>ls</parameter></function>", "parameter"),
        ("<think>ok</think><function=bash><parameter=command>y</parameter><parameter=is_input>yes</parameter></function>",
         "is_input"),
        ("", "start"),
    ],
)
def test_malformed_completions_score_minus_one(text, why):
    score = score_completion(text, Action.bash("ls"))
    assert score.reward == FORMAT_PENALTY == -1.0
    assert not score.format_ok
    assert why in score.error


def test_an_empty_command_is_a_read_of_more_output_not_a_format_error():
    # OpenHands teachers read more output of a running process with an empty command (issue 15).
    score = score_completion("<think>ok</think><function=bash><parameter=command>  </parameter></function>", Action.bash(""))
    assert score.format_ok and score.reward == 1.0


def test_parse_completion_keeps_thought_and_action():
    parsed = parse_completion(completion(Action.bash("ls"), thought="list the files first"))
    assert parsed.thought == "list the files first"
    assert parsed.action == Action.bash("ls")


def test_group_scoring_equals_scoring_each_completion():
    from swe_srl.reward import score_group

    completions = [
        completion(EDIT_A),
        completion(EDIT_B),
        completion(JUNK_A),
        completion(Action.bash("grep -rn parse /testbed/src")),
        "no think block " + EDIT_A.render(),
        completion(EDIT_B, thought="same edit, other words"),
    ]
    for expert in (EDIT_B, JUNK_B, Action.bash("grep -rn 'def parse' /testbed")):
        grouped = score_group(completions, expert)
        assert grouped == [score_completion(c, expert) for c in completions]
        assert [s.reward for s in grouped][4] == FORMAT_PENALTY


# --- Scoring is total: any reply scores in [-1, 1], never an exception. ---

any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)  # surrogates and NULs too
NASTY = ["[1, 1e999]", "[1, NaN]", "9" * 5000, "[" * 3000, "\ud800", "/a\x00b", "[1, 20]", "-3", "1.5", "[1]", "view", "/a.py"]


TEMPLATES = [
    "<function=bash>\n<parameter=command>{}</parameter>\n</function>",
    "<function=str_replace_editor>\n<parameter=command>view</parameter>\n<parameter=path>{}</parameter>\n</function>",
    "<function=str_replace_editor>\n<parameter=command>view</parameter>\n<parameter=path>/a.py</parameter>\n"
    "<parameter=view_range>{}</parameter>\n</function>",
    "<function=str_replace_editor>\n<parameter=command>insert</parameter>\n<parameter=path>/a.py</parameter>\n"
    "<parameter=insert_line>{}</parameter>\n<parameter=new_str>x</parameter>\n</function>",
    "<function={}>\n</function>",
]


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    """A reply that nearly parses: a real action with an odd value, maybe cut, thinned or doubled."""
    block = draw(st.sampled_from(TEMPLATES)).format(draw(st.sampled_from(NASTY) | any_text))
    start, end = sorted(draw(st.tuples(st.integers(0, len(block)), st.integers(0, len(block)))))
    damage = draw(st.sampled_from(["none", "none", "cut", "drop", "twice"]))
    block = {"none": block, "cut": block[:end], "drop": block[:start] + block[end:], "twice": block + block}[damage]
    return draw(st.sampled_from(["<think>x</think>\n", "<think>", ""])) + block


EXPERT = Action.editor("view", "/a.py", view_range=[1, 20])


@settings(max_examples=300, deadline=None)
@given(st.one_of(any_text, near_misses()))
def test_any_reply_scores_in_range_without_raising(text: str) -> None:
    score = score_completion(text, EXPERT)
    assert -1.0 <= score.reward <= 1.0 and (score.format_ok or score.reward == FORMAT_PENALTY)
    assert score_group([text], EXPERT) == [score]


def view(view_range: str) -> str:
    return completion(
        f"<function=str_replace_editor>\n<parameter=command>view</parameter>\n<parameter=path>/a.py</parameter>\n"
        f"<parameter=view_range>{view_range}</parameter>\n</function>"
    )


@pytest.mark.parametrize(
    "reply",
    [
        view("[1, 1e999]"),  # OverflowError before
        view("[1, " + "9" * 5000 + "]"),  # ValueError (int digit limit) before
        view("[" * 100_000 + "]" * 100_000),  # RecursionError before
        completion(Action.bash("ls").render().replace("ls", "echo \ud800")),  # scored, then crashed the sandbox
        completion(Action.editor("view", "/a.py").render().replace("/a.py", "/a\x00.py")),  # a path no file has
        completion(Action.editor("insert", "/a.py", insert_line=1, new_str="x").render().replace(">1<", ">" + "9" * 5000 + "<")),
    ],
    ids=["view_range-1e999", "5000-digits", "deep-nesting", "lone-surrogate", "nul-in-path", "insert_line-5000-digits"],
)
def test_nearly_parsing_replies_get_the_format_penalty(reply: str) -> None:
    score = score_completion(reply, EXPERT)
    assert (score.reward, score.format_ok) == (FORMAT_PENALTY, False) and len(score.error) < 300
    with pytest.raises(ActionParseError):
        parse_completion(reply)
