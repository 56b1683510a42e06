"""Where a run picks its generation engine (``rollout.backend``); each is imported only when chosen."""

from __future__ import annotations

from typing import Any

from swe_srl.config import TrainConfig
from swe_srl.errors import ConfigError
from swe_srl.train.distributed import World
from swe_srl.train.rollout import GenerationBackend


def make_backend(config: TrainConfig, model: Any, tokenizer: Any, world: World = World()) -> GenerationBackend:
    """The engine ``rollout.backend`` names, sampling from ``model``."""
    if config.rollout.backend == "transformers":
        from swe_srl.train.generate_hf import TransformersBackend

        return TransformersBackend(model, tokenizer, batch_size=config.rollout.generation_batch_size,
                                   synced=world.sharded)
    if config.rollout.backend == "vllm":
        from swe_srl.train.generate_vllm import VllmBackend

        return VllmBackend(config, tokenizer, world)
    raise ConfigError(f"rollout.backend '{config.rollout.backend}' is not one of transformers, vllm")
