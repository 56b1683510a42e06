"""The ModelClient Protocol every model backend implements (OpenAI-compatible, local, replay).

A client gets the conversation as chat messages (``swe_srl.stepwise.Message``, the records the
SRL prompts are made of) and answers with one ModelReply: the text the model wrote and, where the
endpoint called a tool natively, the Action that call maps onto. The agent loop parses text
replies itself, so every client is held to the same ``<think>...</think>`` + one action format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from swe_srl.actions import Action
from swe_srl.stepwise import Message


@dataclass(frozen=True)
class ModelReply:
    """One answer of a model to one prompt."""

    text: str  # what the model wrote (for a native tool call: its content, usually the reasoning)
    action: Action | None = None  # set when the endpoint returned a native tool call we could map
    tool_error: str | None = None  # why a native tool call could not become an Action
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0  # in the currency of the configured prices (USD by convention)
    seconds: float = 0.0  # wall time of the request, retries included
    retries: int = 0  # failed attempts before this answer
    finish_reason: str = ""  # "stop", "length", "tool_calls", ... as the backend reports it


class ModelClient(Protocol):
    """A model the agent loop can ask for its next move."""

    name: str  # recorded in every trajectory's metadata

    def complete(self, messages: Sequence[Message]) -> ModelReply:
        """The model's reply to ``messages`` (system, user, assistant, user, ...)."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts of ``texts`` (exact for local models, an estimate for remote ones)."""
        ...


def estimate_tokens(texts: Sequence[str]) -> list[int]:
    """About four characters per token: the usual estimate where the tokenizer is not at hand."""
    return [max(1, (len(text) + 3) // 4) if text else 0 for text in texts]
