"""SFT sequences from the step-wise dataset: conversations, and token labels masked to the trained turns.

Two modes (``sft.mode``):

- ``action``: one sequence per step-wise example, its prompt exactly as SRL sees it, then one
  assistant turn holding the expert's step; loss on that turn only.
- ``trajectory``: one sequence per expert run, rebuilt from the dataset itself (no second data
  source): the run's *last* example, which must come from a dataset built with
  ``--context-steps all``, already holds every earlier action and observation; each earlier
  assistant turn gets its step's expert thought back from that step's own row. Loss on every
  assistant turn. A step with no row of its own (dropped as a duplicate or by a step cap) keeps
  its bare action in the context and is not trained on. Note the agent's live prompt shows earlier
  actions without thoughts (swe_srl.agent.prompt); whole-trajectory SFT trains with them, as the
  classic baselines (SWE-Gym) do.

With ``include_thought`` an assistant turn is ``<think>\\n{thought}\\n</think>\\n{action}``, the
format the reward parses, so the student also learns the output format.

Labels are exact: a token is trained iff it starts inside an assistant turn's span, from just after
the generation header (``<|im_start|>assistant\\n``) to the turn's end token (``<|im_end|>``)
inclusive; the newline the template puts after it is not. Spans are found by rendering prefixes of
the conversation with the chat template, which must render prefix-wise (Qwen2.5's does).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch

from swe_srl.config import DataConfig, SftConfig
from swe_srl.errors import ConfigError, DataError

IGNORE = -100  # label of a token that carries no loss (torch's cross-entropy ignore_index)
MODES = ("action", "trajectory")


@dataclass(frozen=True)
class Conversation:
    """Chat messages and, per message, whether it is trained on (only assistant turns can be)."""

    messages: tuple[Mapping[str, str], ...]
    trained: tuple[bool, ...]


@dataclass(frozen=True)
class Encoded:
    """One tokenised sequence: ids, and labels equal to the ids on trained tokens, IGNORE elsewhere."""

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]

    @property
    def trained_tokens(self) -> int:
        return sum(label != IGNORE for label in self.labels)


def assistant_text(action: str, thought: str, include_thought: bool) -> str:
    """What the student should write for one step."""
    if not include_thought:
        return action
    return f"<think>\n{thought.strip()}\n</think>\n{action}"


def action_conversation(row: Mapping[str, Any], data: DataConfig, include_thought: bool) -> Conversation:
    """The example's prompt plus the expert's step as the one trained assistant turn."""
    prompt = [dict(m) for m in row[data.prompt_column]]
    reply = assistant_text(row[data.target_column], row.get("target_thought") or "", include_thought)
    return Conversation(tuple(prompt) + ({"role": "assistant", "content": reply},),
                        (False,) * len(prompt) + (True,))


def trajectory_conversation(last: Mapping[str, Any], thoughts: Mapping[int, str], data: DataConfig,
                            include_thought: bool) -> Conversation:
    """A whole run from its last example; ``thoughts`` maps step index -> thought for steps with a row."""
    prompt = [dict(m) for m in last[data.prompt_column]]
    turns = [i for i, m in enumerate(prompt) if m["role"] == "assistant"]
    step = int(last["step_index"])
    if len(turns) != step:
        raise DataError(f"the example of step {step} shows {len(turns)} earlier actions; trajectory mode needs a "
                        "dataset built with `--context-steps all`", source=str(last.get("trajectory_id", "")),
                        field=data.prompt_column)
    trained = [False] * len(prompt)
    for k, i in enumerate(turns):
        if k in thoughts:
            prompt[i] = {"role": "assistant", "content": assistant_text(prompt[i]["content"], thoughts[k], include_thought)}
            trained[i] = True
    reply = assistant_text(last[data.target_column], last.get("target_thought") or "", include_thought)
    return Conversation(tuple(prompt) + ({"role": "assistant", "content": reply},), tuple(trained) + (True,))


class SftItems:
    """The training units over a step-wise dataset: one per example (action) or per run (trajectory)."""

    def __init__(self, dataset: Any, data: DataConfig, sft: SftConfig) -> None:
        if sft.mode not in MODES:
            raise ConfigError(f"sft.mode '{sft.mode}' is not one of {', '.join(MODES)}")
        self.dataset, self.data, self.sft = dataset, data, sft
        columns = set(dataset.column_names)
        if sft.include_thought and "target_thought" not in columns:
            raise ConfigError("sft.include_thought=true needs a 'target_thought' column (a `swe-srl data build` "
                              "output has one); set include_thought=false otherwise")
        self._rows: list[int] = list(range(len(dataset)))
        self._steps: dict[int, dict[int, int]] = {}  # unit -> step index -> row
        self._thoughts: Any = None  # the thought column alone (cheap rows), trajectory mode
        if sft.mode == "trajectory":
            missing = {"trajectory_id", "step_index"} - columns
            if missing:
                raise ConfigError(f"sft.mode=trajectory needs the columns {', '.join(sorted(missing))}")
            by_run: dict[str, dict[int, int]] = defaultdict(dict)
            for row, (run, step) in enumerate(zip(dataset["trajectory_id"], dataset["step_index"])):
                by_run[run][int(step)] = row
            self._rows = [steps[max(steps)] for steps in by_run.values()]
            self._steps = {unit: steps for unit, steps in enumerate(by_run.values())}
            self._thoughts = dataset.select_columns(["target_thought"]) if sft.include_thought else None

    def __len__(self) -> int:
        return len(self._rows)

    def conversation(self, unit: int) -> Conversation:
        row = self.dataset[self._rows[unit]]
        if self.sft.mode == "action":
            return action_conversation(row, self.data, self.sft.include_thought)
        steps = self._steps[unit]
        last = int(row["step_index"])
        if self._thoughts is None:
            thoughts = {k: "" for k in steps if k != last}
        else:
            thoughts = {k: self._thoughts[r]["target_thought"] or "" for k, r in steps.items() if k != last}
        return trajectory_conversation(row, thoughts, self.data, self.sft.include_thought)


def _render(tokenizer: Any, messages: Sequence[Mapping[str, str]], generation: bool = False) -> str:
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=generation)


def trained_spans(tokenizer: Any, conversation: Conversation) -> tuple[str, list[tuple[int, int]]]:
    """The rendered text and the character spans [start, end) of its trained assistant turns."""
    messages = conversation.messages
    text = _render(tokenizer, messages)
    spans = []
    for i, (message, trained) in enumerate(zip(messages, conversation.trained)):
        if not trained:
            continue
        if message["role"] != "assistant":
            raise ConfigError(f"message {i} is trained but its role is '{message['role']}', not assistant")
        head = _render(tokenizer, messages[:i], generation=True)
        turn = _render(tokenizer, messages[: i + 1]).rstrip()  # the turn's end token, not the newline after it
        if not (text.startswith(head) and text.startswith(turn) and len(turn) > len(head)):
            raise ConfigError("the chat template does not render conversations prefix-wise, so assistant turns "
                              "cannot be located for loss masking")
        spans.append((len(head), len(turn)))
    return text, spans


def encode_conversation(tokenizer: Any, conversation: Conversation) -> Encoded:
    """Token ids of the rendered conversation, labelled only on trained assistant turns."""
    text, spans = trained_spans(tokenizer, conversation)
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoding["input_ids"])
    labels = [IGNORE] * len(ids)
    spans_left = iter(spans)
    span = next(spans_left, None)
    for t, (start, _end) in enumerate(encoding["offset_mapping"]):
        while span is not None and start >= span[1]:
            span = next(spans_left, None)
        if span is not None and span[0] <= start < span[1]:
            labels[t] = ids[t]
    return Encoded(tuple(ids), tuple(labels))


def collate(rows: Sequence[Encoded], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Input ids, attention mask and labels [B, T], right-padded (labels IGNORE on padding)."""
    width = max(len(r.input_ids) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros_like(ids)
    labels = torch.full_like(ids, IGNORE)
    for i, row in enumerate(rows):
        n = len(row.input_ids)
        ids[i, :n] = torch.tensor(row.input_ids)
        attention[i, :n] = 1
        labels[i, :n] = torch.tensor(row.labels)
    return ids, attention, labels
