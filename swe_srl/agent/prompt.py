"""The agent's prompt: exactly the step-wise SRL prompt a student was trained on.

A prompt for the next move is built by ``swe_srl.stepwise.build_examples`` itself: the steps so
far plus a placeholder target become a one-off Trajectory whose last example's prompt is the one
a trained student saw for that position (system prompt, issue, the last ``context_steps``
(action, observation) pairs, the same truncation and elision). Doing it through the very same
function, rather than a copy of its rules, is what keeps training and inference prompts equal.

Replies that could not be parsed are not steps; while the model retries, its bad replies and
the error observations follow the step-wise prompt as extra turns, and vanish once a valid
action is taken.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Callable, Sequence

from swe_srl.actions import Action
from swe_srl.stepwise import Message, StepwiseConfig, build_examples
from swe_srl.trajectory import Step, Trajectory

CountMany = Callable[[Sequence[str]], Sequence[int]]


class PromptTooLong(Exception):
    """The step-wise prompt does not fit the configured token budget."""


class CachedCounter:
    """Token counts of texts, each text counted once per run (prompts repeat most of their text)."""

    def __init__(self, count_many: CountMany) -> None:
        self._count_many = count_many
        self._cache: dict[str, int] = {}

    def many(self, texts: Sequence[str]) -> list[int]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self._count_many(missing)))
        return [self._cache[t] for t in texts]

    def one(self, text: str) -> int:
        return self.many([text])[0]


def render_prompt(
    problem_statement: str,
    steps: Sequence[Step],
    config: StepwiseConfig,
    counter: CachedCounter,
    retries: Sequence[tuple[str, str]] = (),
) -> tuple[Message, ...]:
    """The messages for the next move after ``steps``; ``retries``: (bad reply, error) turns to append.

    Raises PromptTooLong when even eliding observations cannot fit ``config.max_prompt_tokens``.
    """
    # The placeholder target is never shown; only its prompt is used. Budget rules that drop
    # examples for the target's sake or as duplicates do not apply to a live conversation.
    placeholder = Step(Action.submit())
    trajectory = Trajectory(
        task_id="agent", source_format="agent", steps=(*steps, placeholder),
        problem_statement=problem_statement, resolved=True,
    )
    live = replace(config, max_target_tokens=None, drop_duplicates=False, max_steps_per_trajectory=None)
    drops: Counter[str] = Counter()
    last = None
    for example in build_examples(trajectory, live, counter.one, count_many=counter.many, drops=drops):
        last = example
    if last is None or last.step_index != len(steps):
        raise PromptTooLong(f"the prompt for step {len(steps)} is over {config.max_prompt_tokens} tokens ({dict(drops)})")
    messages = list(last.prompt)
    for reply, error in retries:
        messages.append(Message("assistant", reply))
        messages.append(Message("user", error))
    return tuple(messages)
