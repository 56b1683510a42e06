"""Trajectory -> step-wise SRL examples (pure, streaming).

A trajectory with N actions gives N examples. Example k asks for the expert's action k; its
prompt is ``swe_srl.prompt.build_prompt`` over the expert's earlier steps (the system prompt, the
issue, the last ``context_steps`` (action, observation) pairs; see that module for the rules).
This module decides which examples there are: graded runs only unless told otherwise, an
optional cap on steps per run, targets within their budget, no repeated (prompt, target) pairs.

Token budgets are counted with the caller's tokenizer (``count_tokens``); each distinct text of
a trajectory is counted once, in one batch when ``count_many`` is given, and every prompt's
total is then plain arithmetic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from swe_srl.errors import ConfigError
from swe_srl.prompt import CachedCounter, Message, PromptRecipe, build_prompt, context_window, show_step
from swe_srl.trajectory import Trajectory

CountTokens = Callable[[str], int]
CountMany = Callable[[Sequence[str]], Sequence[int]]

# Reasons an example is not produced; the summary counts each.
DROP_UNRESOLVED = "unresolved"
DROP_UNGRADED = "ungraded"
DROP_STEP_CAP = "step_cap"
DROP_DUPLICATE = "duplicate"
DROP_PROMPT_OVER_BUDGET = "prompt_over_budget"
DROP_TARGET_OVER_BUDGET = "target_over_budget"


@dataclass(frozen=True)
class StepwiseConfig(PromptRecipe):
    """How trajectories become step-wise examples: the prompt recipe, and which examples are kept."""

    max_target_tokens: int | None = None  # drop examples whose target action is longer (None: keep all)
    keep_unresolved: bool = False  # use trajectories graded as failing too
    keep_ungraded: bool = False  # use trajectories never graded (resolved is None)
    max_steps_per_trajectory: int | None = None  # cap, keeping evenly spaced steps across the run
    drop_duplicates: bool = True  # drop a step whose prompt and target repeat an earlier one of its run

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("max_target_tokens", "max_steps_per_trajectory"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1 or None, got {value!r}")


@dataclass(frozen=True)
class StepExample:
    """One SRL example: the conversation so far and the expert's next action."""

    trajectory_id: str
    task_id: str
    step_index: int  # index of the target action in its trajectory, from 0
    prompt: tuple[Message, ...]  # system, issue, then assistant(action) / user(observation) pairs
    target: str  # the expert's action, canonical text
    prompt_tokens: int
    target_tokens: int
    target_thought: str = ""  # the expert's reasoning at this step; never in a prompt (SFT baselines)
    elided_observations: int = 0  # context observations replaced by a marker to fit the budget

    def messages(self) -> list[dict[str, str]]:
        """The prompt as chat-template messages."""
        return [{"role": m.role, "content": m.content} for m in self.prompt]


def _step_selection(n: int, cap: int | None) -> list[int]:
    """Step indices kept under ``cap``: evenly spaced, so a cap does not keep only the exploration."""
    if cap is None or n <= cap:
        return list(range(n))
    if cap == 1:
        return [0]
    return sorted({round(i * (n - 1) / (cap - 1)) for i in range(cap)})


def build_examples(
    trajectory: Trajectory,
    config: StepwiseConfig,
    count_tokens: CountTokens,
    *,
    count_many: CountMany | None = None,
    drops: Counter[str] | None = None,
) -> Iterator[StepExample]:
    """The step-wise examples of one trajectory, in step order; each drop is tallied in ``drops``."""
    drops = drops if drops is not None else Counter()
    n = len(trajectory.steps)
    if n == 0:
        return
    if trajectory.resolved is None and not config.keep_ungraded:
        drops[DROP_UNGRADED] += n
        return
    if trajectory.resolved is False and not config.keep_unresolved:
        drops[DROP_UNRESOLVED] += n
        return
    targets = _step_selection(n, config.max_steps_per_trajectory)
    if len(targets) < n:
        drops[DROP_STEP_CAP] += n - len(targets)

    counter = CachedCounter(count_many or (lambda texts: [count_tokens(t) for t in texts]))
    shown = [show_step(step, config) for step in trajectory.steps[:targets[-1] + 1]]
    context = sorted({i for k in targets for i in context_window(k, config)})
    issue = config.issue_template.format(problem_statement=trajectory.problem_statement)
    # Count every distinct text some prompt or target shows once (a test run repeated or a file
    # viewed twice included), in one batch; the elision markers in a second batch, and only if
    # some prompt needs them.
    counter.many([config.system_prompt, issue, *(shown[k].action for k in targets),
                  *(shown[i].action for i in context), *(shown[i].observation for i in context)])
    counter.expect([shown[i].marker for i in context])

    seen: set[int] = set()
    for k in targets:
        target_tokens = counter.one(shown[k].action)
        if config.max_target_tokens is not None and target_tokens > config.max_target_tokens:
            drops[DROP_TARGET_OVER_BUDGET] += 1
            continue
        prompt = build_prompt(trajectory.problem_statement, shown[:k], config, counter)
        if prompt is None:
            drops[DROP_PROMPT_OVER_BUDGET] += 1
            continue
        if config.drop_duplicates:
            key = hash((shown[k].action, tuple(m.content for m in prompt.messages[2:])))
            if key in seen:
                drops[DROP_DUPLICATE] += 1
                continue
            seen.add(key)
        yield StepExample(
            trajectory_id=trajectory.trajectory_id,
            task_id=trajectory.task_id,
            step_index=k,
            prompt=prompt.messages,
            target=shown[k].action,
            prompt_tokens=prompt.tokens,
            target_tokens=target_tokens,
            target_thought=trajectory.steps[k].thought,
            elided_observations=prompt.elided,
        )
