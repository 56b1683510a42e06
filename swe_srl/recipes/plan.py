"""The memory plan of a training config (`swe-srl plan`): the config as `train srl` reads it, planned per GPU.

    swe-srl plan --config qwen2.5-coder-7b --gpu H100
"""

from __future__ import annotations

import os
from typing import Iterable

from swe_srl.config.train import load_config, with_dataset_budget
from swe_srl.train.memory_plan import MemoryPlan, gpu_memory, plan_run

FSDP_GPUS = 8  # what the full fine-tuning preset's launch line (torchrun --nproc_per_node 8) shards over


def run(preset: str, overrides: Iterable[str], *, gpu: str, gpus: int | None = None) -> MemoryPlan:
    """The plan of ``preset`` with ``overrides`` on ``gpu`` (H100, 141GB, ...), the FSDP state sharded over
    ``gpus`` (None: the launcher's WORLD_SIZE, else FSDP_GPUS under run.distributed=fsdp)."""
    config = with_dataset_budget(load_config(preset, overrides))
    if gpus is None:
        gpus = int(os.environ.get("WORLD_SIZE", "0")) or (FSDP_GPUS if config.run.distributed == "fsdp" else 1)
    return plan_run(config, world_size=gpus, gpu=gpu_memory(gpu))
