"""SRL's step-wise reward: how closely the student's action matches the expert's (pure).

A completion must be ``<think> ... </think>`` followed by exactly one canonical action block
(see ``swe_srl.actions``) and nothing else but whitespace. Anything else scores ``FORMAT_PENALTY``.

The score of a well-formed completion is difflib's ``SequenceMatcher.ratio()`` (2M/T, in [0, 1];
paper, section 4.2) between the *canonical renderings* of the predicted and the expert action.
Comparing canonical text, not the raw strings, keeps whitespace, quoting and argument-order noise
out of the score while leaving the formula untouched.

``autojunk=False`` is deliberate: with difflib's default, characters that occur in more than 1% of
a string over 200 characters are treated as junk, so two near-identical code edits of a few hundred
characters score close to 0 (see tests/test_reward.py for a pinned example).
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Mapping, Sequence

from swe_srl.actions import Action, parse_action
from swe_srl.errors import ActionParseError

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
FORMAT_PENALTY = -1.0


@dataclass(frozen=True)
class ParsedCompletion:
    """A well-formed completion: the free-text reasoning and the one action."""

    thought: str
    action: Action


@dataclass(frozen=True)
class Score:
    """The reward of one completion, and why it failed the format check if it did."""

    reward: float
    format_ok: bool
    error: str | None = None


def parse_completion(text: str) -> ParsedCompletion:
    """Split ``text`` into its think block and its one action; raises ActionParseError."""
    body = text.strip()
    if not body.startswith(THINK_OPEN):
        raise ActionParseError(f"completion does not start with {THINK_OPEN}")
    close = body.find(THINK_CLOSE)
    if close < 0:
        raise ActionParseError(f"{THINK_OPEN} block is not closed with {THINK_CLOSE}")
    thought = body[len(THINK_OPEN) : close]
    if THINK_OPEN in thought:
        raise ActionParseError(f"{THINK_OPEN} opened twice before {THINK_CLOSE}")
    rest = body[close + len(THINK_CLOSE) :].strip()
    if THINK_OPEN in rest or THINK_CLOSE in rest:
        raise ActionParseError("more than one think block")
    if not rest:
        raise ActionParseError(f"no action after {THINK_CLOSE}")
    action = parse_action(rest)
    if not rest.startswith("<function=") or not rest.endswith("</function>"):
        # Prose around the action would be ignored by the runtime; the format asks for none.
        raise ActionParseError("text outside the action block after the think block")
    return ParsedCompletion(thought=thought.strip(), action=action)


def action_similarity(predicted: str, expert: str) -> float:
    """difflib's ratio of two action texts, with autojunk off (see the module docstring)."""
    if predicted == expert:
        return 1.0  # ratio() is exactly 1.0 for equal strings, empty ones included
    return SequenceMatcher(None, predicted, expert, autojunk=False).ratio()


def canonical_text(action: Action | str) -> str:
    """The canonical rendering of an Action, or of the one action in a text."""
    if isinstance(action, Action):
        return action.render()
    return parse_action(action).render()


def score_completion(completion: str, expert: Action | str) -> Score:
    """Reward ``completion`` against the expert action (an Action or its text)."""
    target = canonical_text(expert)
    try:
        parsed = parse_completion(completion)
        predicted = parsed.action.render()
    except ActionParseError as exc:
        return Score(reward=FORMAT_PENALTY, format_ok=False, error=str(exc))
    return Score(reward=action_similarity(predicted, target), format_ok=True)


def reward(completion: str, expert: Action | str) -> float:
    """The SRL reward of one completion: similarity in [0, 1], or -1 when malformed."""
    return score_completion(completion, expert).reward


def srl_reward(completions: Sequence[str | Sequence[Mapping[str, Any]]], target: Sequence[str],
               **_: Any) -> list[float]:
    """The SRL reward in TRL's ``reward_funcs`` form, for ``GRPOTrainer(reward_funcs=srl_reward, ...)``.

    TRL passes each dataset column by name: a swe-srl step-wise dataset's ``target`` is the
    expert action. A conversational completion (a list of messages) is scored by its last message.
    """
    texts = [c if isinstance(c, str) else str(c[-1].get("content") or "") for c in completions]
    return [reward(text, expert) for text, expert in zip(texts, target)]


def score_group(completions: Sequence[str], expert: Action | str) -> list[Score]:
    """``score_completion`` for every rollout of one prompt, sharing the expert's analysis.

    SequenceMatcher indexes its second sequence once (``set_seq2``) and reuses it for each new
    first sequence, so a group of G rollouts against one expert action pays for that index once.
    The expert is the second sequence in ``action_similarity`` too, so the values are the same.
    """
    target = canonical_text(expert)
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(target)
    scores = []
    for completion in completions:
        try:
            predicted = parse_completion(completion).action.render()
        except ActionParseError as exc:
            scores.append(Score(reward=FORMAT_PENALTY, format_ok=False, error=str(exc)))
            continue
        if predicted == target:
            scores.append(Score(reward=1.0, format_ok=True))
            continue
        matcher.set_seq1(predicted)
        scores.append(Score(reward=matcher.ratio(), format_ok=True))
    return scores
