"""The agent's prompt: exactly the step-wise SRL prompt a student was trained on.

The prompt for the next move is ``swe_srl.prompt.build_prompt`` over the steps so far, the very
function that built the student's training prompts (system prompt, issue, the last
``context_steps`` (action, observation) pairs, the same truncation and elision), so training and
inference prompts cannot drift apart.

Replies that could not be parsed are not steps; while the model retries, its bad replies and
the error observations follow the step-wise prompt as extra turns, and vanish once a valid
action is taken.
"""

from __future__ import annotations

from typing import Sequence

from swe_srl.prompt import CachedCounter, Message, PromptRecipe, build_prompt, show_step
from swe_srl.trajectory import Step


class PromptTooLong(Exception):
    """The step-wise prompt does not fit the configured token budget."""


def render_prompt(
    problem_statement: str,
    steps: Sequence[Step],
    recipe: PromptRecipe,
    counter: CachedCounter,
    retries: Sequence[tuple[str, str]] = (),
) -> tuple[Message, ...]:
    """The messages for the next move after ``steps``; ``retries``: (bad reply, error) turns to append.

    Raises PromptTooLong when even eliding observations cannot fit ``recipe.max_prompt_tokens``.
    """
    prompt = build_prompt(problem_statement, [show_step(s, recipe) for s in steps], recipe, counter)
    if prompt is None:
        raise PromptTooLong(f"the prompt for step {len(steps)} is over {recipe.max_prompt_tokens} tokens "
                            "even with every observation elided")
    messages = list(prompt.messages)
    for reply, error in retries:
        messages.append(Message("assistant", reply))
        messages.append(Message("user", error))
    return tuple(messages)
