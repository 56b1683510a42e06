"""Build a model client from command-line style settings: an endpoint, or a local model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from swe_srl.agent.client import ModelClient
from swe_srl.errors import ConfigError


def client_factory(
    model: str,
    *,
    base_url: str | None = None,
    temperature: float = 0.0,
    max_new_tokens: int = 1024,
    timeout: float = 300.0,
    max_retries: int = 5,
    native_tools: bool | str = "auto",
    price_prompt: float = 0.0,
    price_completion: float = 0.0,
) -> Callable[[], ModelClient]:
    """A function giving one client per job: OpenAI-compatible with ``base_url``, else a local model.

    A local model is loaded once and shared by every job (generation holds no per-run state).
    """
    if base_url:
        from swe_srl.agent.openai_client import OpenAIClient, OpenAIConfig

        config = OpenAIConfig(base_url=base_url, model=model, timeout=timeout, max_retries=max_retries,
                              temperature=temperature, max_tokens=max_new_tokens,
                              native_tools="auto" if native_tools == "auto" else bool(native_tools),
                              price_prompt=price_prompt, price_completion=price_completion)
        return lambda: OpenAIClient(config)
    if not Path(model).is_dir():
        raise ConfigError(f"--model {model!r}: give --base-url for a served model, or a local model folder")
    from swe_srl.agent.local_client import TransformersClient

    client = TransformersClient.from_pretrained(model, temperature=temperature, max_new_tokens=max_new_tokens)
    return lambda: client
