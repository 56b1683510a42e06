"""Build a model client from its config section: an endpoint, or a local model folder."""

from __future__ import annotations

import threading
from typing import Callable

from swe_srl.agent.client import ModelClient
from swe_srl.config.sections import ClientConfig


def client_factory(config: ClientConfig) -> Callable[[], ModelClient]:
    """A function giving one client per job: OpenAI-compatible with ``base_url``, else a local model.

    A local model is loaded at the first call (so a recipe's checks run before the weights load)
    and shared by every job (generation holds no per-run state; concurrent jobs' prompts are generated
    in batches of up to ``max_batch``); it is named by the folder as given.
    Check the folder first with ``agent.identity.model_identity``.
    """
    if config.base_url:
        from swe_srl.agent.openai_client import OpenAIClient, OpenAIConfig

        served = OpenAIConfig(base_url=config.base_url, model=config.model, timeout=config.timeout,
                              max_retries=config.max_retries, temperature=config.temperature,
                              max_tokens=config.max_new_tokens,
                              native_tools={"auto": "auto", "on": True, "off": False}[config.native_tools],
                              price_prompt=config.price_prompt, price_completion=config.price_completion)
        return lambda: OpenAIClient(served)
    from swe_srl.agent.local_client import TransformersClient

    lock = threading.Lock()
    loaded: list[ModelClient] = []

    def local() -> ModelClient:
        with lock:
            if not loaded:
                loaded.append(TransformersClient.from_pretrained(
                    config.model, name=config.model, temperature=config.temperature,
                    max_new_tokens=config.max_new_tokens, max_batch=config.max_batch))
            return loaded[0]

    return local
