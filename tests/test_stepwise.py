"""The SRL construction: N actions give N examples, context windows, truncation and budget rules."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from swe_srl.actions import Action
from swe_srl.errors import ConfigError
from swe_srl.prompt import EMPTY_OBSERVATION, elided_marker, truncate_observation
from swe_srl.stepwise import (
    DROP_DUPLICATE, DROP_PROMPT_OVER_BUDGET, DROP_STEP_CAP, DROP_TARGET_OVER_BUDGET, DROP_UNGRADED,
    DROP_UNRESOLVED, StepwiseConfig, build_examples,
)
from swe_srl.trajectory import Step, Trajectory


def words(text: str) -> int:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def make_trajectory(n: int, *, resolved: bool | None = True, observation_words: int = 3, tid: str = "t1") -> Trajectory:
    steps = tuple(
        Step(
            action=Action.bash(f"echo step{i}") if i < n - 1 else Action.submit(),
            observation=" ".join(f"out{i}w{j}" for j in range(observation_words)),
            thought=f"thinking about {i}",
        )
        for i in range(n)
    )
    return Trajectory(
        task_id="repo__pkg-1", source_format="test", steps=steps, problem_statement="The parser breaks.",
        resolved=resolved, metadata={"trajectory_id": tid},
    )


NO_BUDGET = StepwiseConfig(context_steps="all", max_prompt_tokens=None)


@pytest.mark.parametrize("n", [1, 2, 7, 30])
def test_n_actions_give_n_examples(n: int) -> None:
    examples = list(build_examples(make_trajectory(n), NO_BUDGET, words))
    assert [e.step_index for e in examples] == list(range(n))
    assert [e.target for e in examples] == [s.action.render() for s in make_trajectory(n).steps]
    assert all(e.trajectory_id == "t1" and e.task_id == "repo__pkg-1" for e in examples)
    assert examples[0].target_thought == "thinking about 0"


def test_prompt_shape_and_no_past_thoughts() -> None:
    config = StepwiseConfig(context_steps="all", max_prompt_tokens=None, system_prompt="SYS")
    example = list(build_examples(make_trajectory(4), config, words))[3]
    roles = [m.role for m in example.prompt]
    assert roles == ["system", "user"] + ["assistant", "user"] * 3
    assert example.prompt[0].content == "SYS"
    assert "The parser breaks." in example.prompt[1].content
    assert example.prompt[2].content == Action.bash("echo step0").render()
    assert example.prompt[3].content == "out0w0 out0w1 out0w2"
    assert not any("thinking" in m.content for m in example.prompt)
    assert example.messages()[0] == {"role": "system", "content": "SYS"}


def test_all_context_prompts_are_consistent_prefixes() -> None:
    examples = list(build_examples(make_trajectory(12), NO_BUDGET, words))
    for before, after in zip(examples, examples[1:]):
        assert after.prompt[: len(before.prompt)] == before.prompt
        assert after.prompt[len(before.prompt)].content == before.target
        assert len(after.prompt) == len(before.prompt) + 2
        assert after.prompt_tokens > before.prompt_tokens


def test_two_step_context_shows_exactly_the_last_two_pairs() -> None:
    trajectory = make_trajectory(8)
    config = StepwiseConfig(context_steps=2, max_prompt_tokens=None)
    examples = list(build_examples(trajectory, config, words))
    assert [len(e.prompt) for e in examples] == [2, 4, 6, 6, 6, 6, 6, 6]
    fifth = examples[5]
    assert [m.content for m in fifth.prompt[2:]] == [
        trajectory.steps[3].action.render(), trajectory.steps[3].observation,
        trajectory.steps[4].action.render(), trajectory.steps[4].observation,
    ]
    zero = list(build_examples(trajectory, dataclasses.replace(config, context_steps=0), words))
    assert all(len(e.prompt) == 2 for e in zero)


def test_prompt_tokens_are_the_sum_of_parts() -> None:
    config = StepwiseConfig(context_steps=2, max_prompt_tokens=None, tokens_per_message=5, generation_prompt_tokens=3)
    for e in build_examples(make_trajectory(5), config, words):
        assert e.prompt_tokens == sum(words(m.content) + 5 for m in e.prompt) + 3
        assert e.target_tokens == words(e.target)


def test_long_observation_is_cut_with_a_marker() -> None:
    text = "HEAD" + "x" * 10_000 + "TAIL"
    cut = truncate_observation(text, 1000)
    assert cut.startswith("HEAD") and cut.endswith("TAIL")
    assert "[... 9008 characters elided ...]" in cut
    assert len(cut) < 1100
    assert truncate_observation("short", 1000) == "short"
    assert truncate_observation("", 1000) == EMPTY_OBSERVATION
    steps = (Step(Action.bash("cat big"), observation=text), Step(Action.submit()))
    trajectory = Trajectory("t", "test", steps, resolved=True)
    config = StepwiseConfig(max_observation_chars=1000, max_prompt_tokens=None)
    last = list(build_examples(trajectory, config, len))[-1]
    assert last.prompt[-1].content == cut


def test_budget_elides_oldest_observations_first_and_keeps_every_action() -> None:
    trajectory = make_trajectory(10, observation_words=50)
    free = list(build_examples(trajectory, NO_BUDGET, words))
    budget = free[-1].prompt_tokens - 120  # needs three 50-word observations elided
    config = dataclasses.replace(NO_BUDGET, max_prompt_tokens=budget)
    drops: Counter[str] = Counter()
    examples = list(build_examples(trajectory, config, words, drops=drops))
    assert len(examples) == 10 and not drops
    last = examples[-1]
    assert last.prompt_tokens <= budget
    assert last.elided_observations == 3
    observations = [m.content for m in last.prompt[3::2]]
    assert observations[:3] == [elided_marker(trajectory.steps[i].observation) for i in range(3)]
    assert observations[3:] == [trajectory.steps[i].observation for i in range(3, 9)]
    actions = [m.content for m in last.prompt[2::2]]
    assert actions == [trajectory.steps[i].action.render() for i in range(9)]
    assert all(e.prompt_tokens <= budget for e in examples)
    # The count the builder reports is the count of what it wrote.
    assert last.prompt_tokens == sum(words(m.content) + 5 for m in last.prompt) + 3


def test_short_observations_are_not_replaced_by_longer_markers() -> None:
    long_obs = " ".join(f"w{j}" for j in range(60))
    steps = (Step(Action.bash("true"), observation="ok"), Step(Action.bash("cat f"), observation=long_obs),
             Step(Action.submit()))
    trajectory = Trajectory("t", "x", steps, resolved=True)
    free = list(build_examples(trajectory, NO_BUDGET, words))[-1]
    config = dataclasses.replace(NO_BUDGET, max_prompt_tokens=free.prompt_tokens - 10)
    last = list(build_examples(trajectory, config, words))[-1]
    assert [m.content for m in last.prompt[3::2]] == ["ok", elided_marker(long_obs)]
    assert last.elided_observations == 1 and last.prompt_tokens <= config.max_prompt_tokens


def test_prompt_that_cannot_fit_is_dropped_and_counted() -> None:
    trajectory = make_trajectory(6)
    config = StepwiseConfig(context_steps="all", max_prompt_tokens=5)
    drops: Counter[str] = Counter()
    assert list(build_examples(trajectory, config, words, drops=drops)) == []
    assert drops == {DROP_PROMPT_OVER_BUDGET: 6}


def test_target_budget() -> None:
    steps = (Step(Action.bash("echo " + "a " * 100)), Step(Action.submit()))
    drops: Counter[str] = Counter()
    config = StepwiseConfig(max_target_tokens=20, max_prompt_tokens=None)
    examples = list(build_examples(Trajectory("t", "x", steps, resolved=True), config, words, drops=drops))
    assert [e.step_index for e in examples] == [1]
    assert drops == {DROP_TARGET_OVER_BUDGET: 1}


def test_resolution_filters() -> None:
    drops: Counter[str] = Counter()
    assert list(build_examples(make_trajectory(4, resolved=False), StepwiseConfig(), words, drops=drops)) == []
    assert list(build_examples(make_trajectory(3, resolved=None), StepwiseConfig(), words, drops=drops)) == []
    assert drops == {DROP_UNRESOLVED: 4, DROP_UNGRADED: 3}
    keep = StepwiseConfig(keep_unresolved=True, keep_ungraded=True)
    assert len(list(build_examples(make_trajectory(4, resolved=False), keep, words))) == 4
    assert len(list(build_examples(make_trajectory(3, resolved=None), keep, words))) == 3
    only_ungraded = StepwiseConfig(keep_ungraded=True)
    assert list(build_examples(make_trajectory(4, resolved=False), only_ungraded, words)) == []


def test_duplicate_steps_are_dropped() -> None:
    # The expert runs the same failing command three times: same action, same context.
    repeat = Step(Action.bash("pytest"), observation="1 failed")
    steps = (Step(Action.bash("ls"), observation="a b"), repeat, repeat, repeat, repeat, Step(Action.submit()))
    trajectory = Trajectory("t", "x", steps, resolved=True)
    drops: Counter[str] = Counter()
    examples = list(build_examples(trajectory, StepwiseConfig(max_prompt_tokens=None), words, drops=drops))
    # Step 3 and step 4 both see [pytest/1 failed, pytest/1 failed] and target pytest.
    assert [e.step_index for e in examples] == [0, 1, 2, 3, 5]
    assert drops == {DROP_DUPLICATE: 1}
    keep = StepwiseConfig(max_prompt_tokens=None, drop_duplicates=False)
    assert len(list(build_examples(trajectory, keep, words))) == 6
    # With the whole history as context, no two steps share a context.
    assert len(list(build_examples(trajectory, NO_BUDGET, words))) == 6


def test_step_cap_keeps_evenly_spaced_steps() -> None:
    drops: Counter[str] = Counter()
    config = StepwiseConfig(max_steps_per_trajectory=4, max_prompt_tokens=None)
    examples = list(build_examples(make_trajectory(10), config, words, drops=drops))
    assert [e.step_index for e in examples] == [0, 3, 6, 9]
    assert drops == {DROP_STEP_CAP: 6}
    # Context is still the expert's real previous steps, not the kept ones.
    assert examples[1].prompt[-1].content == make_trajectory(10).steps[2].observation


def test_batch_counter_gives_the_same_examples() -> None:
    calls: list[int] = []

    def many(texts):
        calls.append(len(texts))
        return [words(t) for t in texts]

    trajectory = make_trajectory(9, observation_words=40)
    config = StepwiseConfig(context_steps="all", max_prompt_tokens=300)
    single = list(build_examples(trajectory, config, words))
    batched = list(build_examples(trajectory, config, words, count_many=many))
    assert single == batched and any(e.elided_observations for e in batched)
    assert len(calls) == 2  # one batch for the texts, one for the elision markers the budget needs
    calls.clear()
    roomy = dataclasses.replace(config, max_prompt_tokens=100_000)
    assert list(build_examples(trajectory, roomy, words, count_many=many)) == list(build_examples(trajectory, roomy, words))
    assert len(calls) == 1  # no budget pressure: markers are never counted


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="context_steps"):
        StepwiseConfig(context_steps=-1)
    with pytest.raises(ConfigError, match="context_steps"):
        StepwiseConfig(context_steps="some")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_prompt_tokens"):
        StepwiseConfig(max_prompt_tokens=0)
    with pytest.raises(ConfigError, match="problem_statement"):
        StepwiseConfig(issue_template="no slot")


def test_empty_trajectory_gives_nothing() -> None:
    assert list(build_examples(Trajectory("t", "x", (), resolved=True), StepwiseConfig(), words)) == []


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=80), min_size=1, max_size=15),
    budget=st.integers(min_value=20, max_value=600),
    window=st.sampled_from(["all", 0, 1, 2, 5]),
)
def test_budget_rule_property(sizes: list[int], budget: int, window) -> None:
    steps = tuple(Step(Action.bash(f"cmd {i}"), observation=" ".join(["w"] * size)) for i, size in enumerate(sizes))
    trajectory = Trajectory("t", "x", steps, resolved=True)
    config = StepwiseConfig(context_steps=window, max_prompt_tokens=budget, drop_duplicates=False)
    drops: Counter[str] = Counter()
    examples = list(build_examples(trajectory, config, words, drops=drops))
    assert len(examples) + sum(drops.values()) == len(sizes)
    for e in examples:
        assert e.prompt_tokens <= budget
        assert e.prompt_tokens == sum(words(m.content) + 5 for m in e.prompt) + 3
        first = 0 if window == "all" else max(0, e.step_index - window)
        # Every action of the window is there, in order.
        assert [m.content for m in e.prompt[2::2]] == [steps[i].action.render() for i in range(first, e.step_index)]
        # Elided observations are the oldest ones that were worth eliding.
        shown = [m.content for m in e.prompt[3::2]]
        elided = [j for j, text in enumerate(shown) if text.startswith("[observation elided")]
        assert len(elided) == e.elided_observations
        if elided:
            later = [j for j in range(elided[-1]) if j not in elided]
            assert all(words(shown[j]) <= words(elided_marker(steps[first + j].observation)) for j in later)
