"""The step-wise prompt: what decides how it looks (PromptRecipe), and the one function that builds it.

A prompt asks for the step after a history: the system prompt, the task's problem statement, then
the last ``context_steps`` earlier steps as the conversation so far, each an assistant turn holding
the action's canonical text (never the expert's reasoning, as in the paper's Appendix A) and a user
turn holding its observation, cut to ``max_observation_chars``. ``"all"`` shows every earlier step
and, over the token budget, elides the oldest observations first while every action stays.
``build_prompt`` is the only place these rules are written: the step-wise dataset (stepwise.py)
and the agent (agent/prompt.py) both call it, so what a student is asked is what it learned.

A prompt's token count is the sum of its messages' contents, counted with the caller's tokenizer,
plus a fixed chat-template overhead per message and for the opened assistant turn, so it may
differ from the rendered template by a token or two where a message boundary merges.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, Literal, Sequence

from swe_srl.dialects import DEFAULT_DIALECT, get_dialect
from swe_srl.errors import ConfigError
from swe_srl.trajectory import Step

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


@dataclass(frozen=True)
class PromptRecipe:
    """Everything that decides how a prompt looks; saved with a dataset, carried to the model trained on it."""

    context_steps: int | Literal["all"] = 2  # earlier (action, observation) pairs shown; 2 = the paper
    max_prompt_tokens: int | None = 16384  # prompt budget; over it the oldest observations are elided
    max_observation_chars: int = 8000  # longer observations keep head and tail around a marker
    tokens_per_message: int = 5  # chat-template tokens around a message (Qwen2: <|im_start|>role\n...<|im_end|>\n)
    generation_prompt_tokens: int = 3  # tokens of the opened assistant turn (<|im_start|>assistant\n)
    system_prompt: str = DEFAULT_SYSTEM_PROMPT  # tools and the <think>...</think> + one <function=...> format
    issue_template: str = DEFAULT_ISSUE_TEMPLATE  # the first user turn; {problem_statement} is filled in
    # How tool results were worded in the data (swe_srl/dialects): eval and collect render in it.
    observation_dialect: str = DEFAULT_DIALECT

    def __post_init__(self) -> None:
        if self.context_steps != "all" and not (
                isinstance(self.context_steps, int) and not isinstance(self.context_steps, bool) and self.context_steps >= 0):
            raise ConfigError(f"context_steps must be a whole number >= 0 or 'all', got {self.context_steps!r}")
        if self.max_prompt_tokens is not None and self.max_prompt_tokens < 1:
            raise ConfigError(f"max_prompt_tokens must be at least 1 or None, got {self.max_prompt_tokens!r}")
        if self.max_observation_chars < 1:
            raise ConfigError(f"max_observation_chars must be at least 1, got {self.max_observation_chars!r}")
        if "{problem_statement}" not in self.issue_template:
            raise ConfigError("issue_template must contain {problem_statement}")
        get_dialect(self.observation_dialect)  # a ConfigError naming the known ones

    def recipe(self) -> "PromptRecipe":
        """Only the recipe's fields (of a config that extends it, such as StepwiseConfig)."""
        return PromptRecipe(**{f.name: getattr(self, f.name) for f in fields(PromptRecipe)})


@dataclass(frozen=True)
class Message:
    """One chat turn."""

    role: str
    content: str


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


class CachedCounter:
    """Token counts of texts, each text counted once (prompts repeat most of their text).

    ``expect`` names texts that may be needed later: the first time one of them is, they are all
    counted in one batch, and if none ever is, none is counted.
    """

    def __init__(self, count_many: CountMany) -> None:
        self._count_many = count_many
        self._cache: dict[str, int] = {}
        self._expected: dict[str, None] = {}

    def expect(self, texts: Sequence[str]) -> None:
        self._expected.update(dict.fromkeys(t for t in texts if t not in self._cache))

    def many(self, texts: Sequence[str]) -> list[int]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            if any(t in self._expected for t in missing):
                missing = list(dict.fromkeys([*missing, *self._expected]))
                self._expected.clear()
            self._cache.update(zip(missing, self._count_many(missing)))
        return [self._cache[t] for t in texts]

    def one(self, text: str) -> int:
        return self.many([text])[0]


@dataclass(frozen=True)
class ShownStep:
    """An earlier step as prompts show it."""

    action: str  # the action's canonical text
    observation: str  # the observation cut to max_observation_chars
    marker: str  # what replaces the observation when the budget elides it


def show_step(step: Step, recipe: PromptRecipe) -> ShownStep:
    return ShownStep(step.action.render(), truncate_observation(step.observation, recipe.max_observation_chars),
                     elided_marker(step.observation))


@dataclass(frozen=True)
class Prompt:
    """The prompt asking for one step."""

    messages: tuple[Message, ...]  # system, issue, then assistant(action) / user(observation) pairs
    tokens: int  # counted as the module docstring says
    elided: int  # context observations replaced by their marker to fit the budget


def context_window(k: int, recipe: PromptRecipe) -> range:
    """The earlier steps the prompt for step ``k`` shows."""
    return range(0 if recipe.context_steps == "all" else max(0, k - recipe.context_steps), k)


def build_prompt(problem_statement: str, history: Sequence[ShownStep], recipe: PromptRecipe,
                 counter: CachedCounter) -> Prompt | None:
    """The prompt asking for the step after ``history``; None when eliding observations cannot fit the budget."""
    window = context_window(len(history), recipe)
    context = history[window.start:window.stop]
    issue = recipe.issue_template.format(problem_statement=problem_statement)
    m = len(context)
    counts = counter.many([recipe.system_prompt, issue, *(s.action for s in context), *(s.observation for s in context)])
    action_tokens, observation_tokens = counts[2:2 + m], counts[2 + m:]
    total = counts[0] + counts[1] + 2 * recipe.tokens_per_message + recipe.generation_prompt_tokens
    total += sum(action_tokens) + sum(observation_tokens) + 2 * recipe.tokens_per_message * m
    elided: set[int] = set()
    budget = recipe.max_prompt_tokens
    if budget is not None and total > budget:
        marker_tokens = counter.many([s.marker for s in context])
        for i in range(m):  # oldest first
            if total <= budget:
                break
            if marker_tokens[i] < observation_tokens[i]:  # a short output stays: its marker is no shorter
                total += marker_tokens[i] - observation_tokens[i]
                elided.add(i)
        if total > budget:
            return None
    messages = [Message("system", recipe.system_prompt), Message("user", issue)]
    for i, step in enumerate(context):
        messages.append(Message("assistant", step.action))
        messages.append(Message("user", step.marker if i in elided else step.observation))
    return Prompt(tuple(messages), total, len(elided))
