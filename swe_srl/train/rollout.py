"""The generation-backend Protocol: how the trainer gets completions, whatever engine makes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence


@dataclass(frozen=True)
class Sampling:
    """Sampling settings for one generate() call."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 1024


@dataclass(frozen=True)
class Completion:
    """One sampled completion: its token ids (ending with eos when it finished) and text."""

    token_ids: tuple[int, ...]
    text: str  # decoded without special tokens
    finished: bool  # False when cut at max_new_tokens


class GenerationBackend(Protocol):
    """Samples completions from the current policy. Backends are interchangeable for the trainer."""

    def generate(self, prompts: Sequence[Sequence[int]], n: int, sampling: Sampling) -> list[list[Completion]]:
        """``n`` completions for each prompt (given as token ids), in prompt order."""
        ...

    def sync_weights(self, model: Any) -> None:
        """Make the engine sample from ``model``'s current weights (after an optimizer step)."""
        ...
