"""Build a model client from its config section: an endpoint, or a local model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from swe_srl.agent.client import ModelClient
from swe_srl.config.sections import ClientConfig
from swe_srl.errors import ConfigError


def client_factory(config: ClientConfig) -> Callable[[], ModelClient]:
    """A function giving one client per job: OpenAI-compatible with ``base_url``, else a local model.

    A local model is loaded once and shared by every job (generation holds no per-run state).
    """
    if config.base_url:
        from swe_srl.agent.openai_client import OpenAIClient, OpenAIConfig

        served = OpenAIConfig(base_url=config.base_url, model=config.model, timeout=config.timeout,
                              max_retries=config.max_retries, temperature=config.temperature,
                              max_tokens=config.max_new_tokens,
                              native_tools={"auto": "auto", "on": True, "off": False}[config.native_tools],
                              price_prompt=config.price_prompt, price_completion=config.price_completion)
        return lambda: OpenAIClient(served)
    if not Path(config.model).is_dir():
        raise ConfigError(f"--model {config.model!r}: give --base-url for a served model, or a local model folder")
    from swe_srl.agent.local_client import TransformersClient

    client = TransformersClient.from_pretrained(config.model, temperature=config.temperature,
                                                max_new_tokens=config.max_new_tokens)
    return lambda: client
