"""The step-wise reward: difflib's ratio on canonical actions, -1 for malformed completions."""

from __future__ import annotations

from difflib import SequenceMatcher

import pytest

from swe_srl.actions import Action
from swe_srl.reward import FORMAT_PENALTY, parse_completion, reward, score_completion

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
        ("<think>ok</think><function=bash><parameter=command>  </parameter></function>", "empty"),
        ("", "start"),
    ],
)
def test_malformed_completions_score_minus_one(text, why):
    score = score_completion(text, Action.bash("ls"))
    assert score.reward == FORMAT_PENALTY == -1.0
    assert not score.format_ok
    assert why in score.error


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
