"""The generation-backend Protocol: how the trainer gets completions, whatever engine makes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from swe_srl.config import TrainConfig
from swe_srl.errors import ConfigError


@dataclass(frozen=True)
class Sampling:
    """Sampling settings for one generate() call."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 1024


@dataclass(frozen=True)
class Completion:
    """One sampled completion: its token ids, as sampled (ending with the stop token when it finished), and text."""

    token_ids: tuple[int, ...]
    text: str  # decoded without special tokens
    finished: bool  # False when cut at max_new_tokens


class GenerationBackend(Protocol):
    """Samples completions from the current policy. Backends are interchangeable for the trainer."""

    def generate(self, prompts: Sequence[Sequence[int]], n: int, sampling: Sampling) -> list[list[Completion]]:
        """``n`` completions for each prompt (given as token ids), in prompt order."""
        ...

    def pause(self) -> None:
        """The step's rollouts are done: free what generation holds until the next ``sync_weights``."""
        ...

    def sync_weights(self, model: Any) -> None:
        """Make the engine sample from ``model``'s current weights (after an optimizer step)."""
        ...

    def close(self) -> None:
        """Remove what the backend wrote for the run (called once, when the run ends, however it ends)."""
        ...


def engine_length(config: TrainConfig) -> int:
    """vLLM's ``max_model_len``: ``rollout.vllm_max_model_len`` where set, else the data's prompt budget
    plus ``max_new_tokens``, so every prompt the data keeps has room for a whole completion."""
    if config.rollout.vllm_max_model_len:
        return config.rollout.vllm_max_model_len
    if not config.data.max_prompt_tokens:
        raise ConfigError("rollout.backend=vllm needs a prompt budget to size the engine: set data.max_prompt_tokens "
                          "(a `swe-srl data build` folder records one) or rollout.vllm_max_model_len")
    return config.data.max_prompt_tokens + config.rollout.max_new_tokens


def prompt_budget(config: TrainConfig) -> int:
    """The longest prompt rollouts take, in tokens (0: any). ``data.max_prompt_tokens``, and under vLLM no
    more than leaves ``max_new_tokens`` in the engine: vLLM refuses a whole generate call when one prompt
    has ``max_model_len`` tokens or more."""
    budget = config.data.max_prompt_tokens
    if config.rollout.backend != "vllm":
        return budget
    room = engine_length(config) - config.rollout.max_new_tokens
    if room < 1:
        raise ConfigError(f"rollout.vllm_max_model_len={config.rollout.vllm_max_model_len} leaves no room for a prompt "
                          f"beside max_new_tokens={config.rollout.max_new_tokens}: raise it, or set 0 to derive it")
    return min(budget, room) if budget else room
