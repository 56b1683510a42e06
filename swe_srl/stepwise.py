"""Trajectory -> step-wise SRL examples (pure, streaming).

A trajectory with N actions gives N examples. Example k asks for the expert's action k; its
prompt is the system prompt, the task's problem statement, then the expert's earlier steps as
the conversation so far: each an assistant turn holding the action's canonical text (never the
expert's reasoning, as in the paper's Appendix A) and a user turn holding its observation.
``context_steps=2`` shows the last two (action, observation) pairs, as the paper does; ``"all"``
shows every earlier step and, over the token budget, elides the oldest observations first while
every action stays.

Token budgets are counted with the caller's tokenizer (``count_tokens``); each distinct text of
a trajectory is counted once, in one batch when ``count_many`` is given, and every prompt's
total is then plain arithmetic. A prompt's count is the sum of its messages' contents plus a
fixed chat-template overhead per message, so it may differ from the rendered template by a
token or two where a message boundary merges.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterator, Literal, Sequence

from swe_srl.errors import ConfigError
from swe_srl.trajectory import Trajectory

CountTokens = Callable[[str], int]
CountMany = Callable[[Sequence[str]], Sequence[int]]

DEFAULT_SYSTEM_PROMPT = """\
You are a software engineer fixing an issue in a code repository inside a Linux sandbox.
Work one step at a time. In each turn, first reason inside <think> ... </think>, then give
exactly one action as a function call. After each action you will see its output.

Tools:
- bash: run a shell command.
  <function=bash>
  <parameter=command>pytest -x tests/test_example.py</parameter>
  </function>
- str_replace_editor: view, create and edit files. Parameters: command (view, create,
  str_replace, insert, undo_edit), path (absolute), and as the command needs: file_text (create),
  old_str and new_str (str_replace; old_str must match exactly once), insert_line and new_str
  (insert), view_range (view, e.g. [10, 40]).
  <function=str_replace_editor>
  <parameter=command>str_replace</parameter>
  <parameter=path>/testbed/src/module.py</parameter>
  <parameter=old_str>return None</parameter>
  <parameter=new_str>raise ValueError("empty input")</parameter>
  </function>
- submit: finish when the issue is fixed; your changes to the repository are the answer.
  <function=submit>
  </function>

Explore the code, reproduce the issue, edit the source, run the tests, then submit."""

DEFAULT_ISSUE_TEMPLATE = "<issue>\n{problem_statement}\n</issue>"
EMPTY_OBSERVATION = "[no output]"

# Reasons an example is not produced; the summary counts each.
DROP_UNRESOLVED = "unresolved"
DROP_UNGRADED = "ungraded"
DROP_STEP_CAP = "step_cap"
DROP_DUPLICATE = "duplicate"
DROP_PROMPT_OVER_BUDGET = "prompt_over_budget"
DROP_TARGET_OVER_BUDGET = "target_over_budget"


@dataclass(frozen=True)
class StepwiseConfig:
    """How trajectories become step-wise examples."""

    context_steps: int | Literal["all"] = 2  # earlier (action, observation) pairs shown; 2 = the paper
    max_prompt_tokens: int | None = 16384  # prompt budget; over it the oldest observations are elided
    max_target_tokens: int | None = None  # drop examples whose target action is longer (None: keep all)
    max_observation_chars: int = 8000  # longer observations keep head and tail around a marker
    keep_unresolved: bool = False  # use trajectories graded as failing too
    keep_ungraded: bool = False  # use trajectories never graded (resolved is None)
    max_steps_per_trajectory: int | None = None  # cap, keeping evenly spaced steps across the run
    drop_duplicates: bool = True  # drop a step whose prompt and target repeat an earlier one of its run
    tokens_per_message: int = 5  # chat-template tokens around a message (Qwen2: <|im_start|>role\n...<|im_end|>\n)
    generation_prompt_tokens: int = 3  # tokens of the opened assistant turn (<|im_start|>assistant\n)
    system_prompt: str = DEFAULT_SYSTEM_PROMPT  # tools and the <think>...</think> + one <function=...> format
    issue_template: str = DEFAULT_ISSUE_TEMPLATE  # the first user turn; {problem_statement} is filled in

    def __post_init__(self) -> None:
        if self.context_steps != "all" and not (isinstance(self.context_steps, int) and self.context_steps >= 0):
            raise ConfigError(f"context_steps must be a whole number >= 0 or 'all', got {self.context_steps!r}")
        for name in ("max_prompt_tokens", "max_target_tokens", "max_steps_per_trajectory"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1 or None, got {value!r}")
        if self.max_observation_chars < 1:
            raise ConfigError(f"max_observation_chars must be at least 1, got {self.max_observation_chars!r}")
        if "{problem_statement}" not in self.issue_template:
            raise ConfigError("issue_template must contain {problem_statement}")


@dataclass(frozen=True)
class Message:
    """One chat turn."""

    role: str
    content: str


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


def truncate_observation(text: str, max_chars: int) -> str:
    """``text`` cut to about ``max_chars``: its head and tail around a visible marker."""
    if not text:
        return EMPTY_OBSERVATION
    if len(text) <= max_chars:
        return text
    # Keep the tail too: test summaries and tracebacks end there.
    head = max_chars * 3 // 5
    tail = max_chars - head
    elided = len(text) - head - tail
    return f"{text[:head]}\n[... {elided} characters elided ...]\n{text[len(text) - tail:]}"


def elided_marker(observation: str) -> str:
    """What replaces an observation dropped to fit the prompt budget."""
    return f"[observation elided to fit the context: {len(observation)} characters]"


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

    window = None if config.context_steps == "all" else config.context_steps
    needed: set[int] = set()  # steps whose action or observation some prompt shows
    for k in targets:
        needed.update(range(0 if window is None else max(0, k - window), k))
    actions = {i: trajectory.steps[i].action.render() for i in needed.union(targets)}
    observations = {i: truncate_observation(trajectory.steps[i].observation, config.max_observation_chars) for i in needed}
    issue = config.issue_template.format(problem_statement=trajectory.problem_statement)

    # Count every distinct text once (a test run repeated or a file viewed twice included), in
    # one batch where possible; each prompt's count is then a sum.
    texts = list(dict.fromkeys([config.system_prompt, issue, *actions.values(), *observations.values()]))
    counted = list(count_many(texts)) if count_many is not None else [count_tokens(t) for t in texts]
    tokens = dict(zip(texts, counted))
    system_tokens, issue_tokens = tokens[config.system_prompt], tokens[issue]
    action_tokens = {i: tokens[text] for i, text in actions.items()}
    observation_tokens = {i: tokens[text] for i, text in observations.items()}
    head = (Message("system", config.system_prompt), Message("user", issue))
    head_tokens = system_tokens + issue_tokens + 2 * config.tokens_per_message + config.generation_prompt_tokens
    pair_tokens = {i: action_tokens[i] + observation_tokens[i] + 2 * config.tokens_per_message for i in needed}
    totals = {k: head_tokens + sum(pair_tokens[i] for i in range(0 if window is None else max(0, k - window), k))
              for k in targets}
    marker_tokens: dict[int, int] = {}
    if config.max_prompt_tokens is not None and max(totals.values()) > config.max_prompt_tokens:
        markers = {i: elided_marker(trajectory.steps[i].observation) for i in sorted(needed)}
        counted = list(count_many(list(markers.values()))) if count_many is not None else [count_tokens(m) for m in markers.values()]
        marker_tokens = dict(zip(markers, counted))

    seen: set[int] = set()
    for k in targets:
        target_tokens = action_tokens[k]
        if config.max_target_tokens is not None and target_tokens > config.max_target_tokens:
            drops[DROP_TARGET_OVER_BUDGET] += 1
            continue
        context = range(0 if window is None else max(0, k - window), k)
        total = totals[k]
        elided: set[int] = set()
        if config.max_prompt_tokens is not None:
            for i in context:  # oldest first
                if total <= config.max_prompt_tokens:
                    break
                if marker_tokens[i] < observation_tokens[i]:  # a short output stays: its marker is no shorter
                    total += marker_tokens[i] - observation_tokens[i]
                    elided.add(i)
            if total > config.max_prompt_tokens:
                drops[DROP_PROMPT_OVER_BUDGET] += 1
                continue
        prompt = list(head)
        for i in context:
            prompt.append(Message("assistant", actions[i]))
            observation = elided_marker(trajectory.steps[i].observation) if i in elided else observations[i]
            prompt.append(Message("user", observation))
        if config.drop_duplicates:
            key = hash((actions[k], tuple(m.content for m in prompt[2:])))
            if key in seen:
                drops[DROP_DUPLICATE] += 1
                continue
            seen.add(key)
        yield StepExample(
            trajectory_id=trajectory.trajectory_id,
            task_id=trajectory.task_id,
            step_index=k,
            prompt=tuple(prompt),
            target=actions[k],
            prompt_tokens=total,
            target_tokens=target_tokens,
            target_thought=trajectory.steps[k].thought,
            elided_observations=len(elided),
        )
