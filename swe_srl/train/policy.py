"""Loading the policy (any causal LM, optionally with LoRA) and its frozen reference."""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from typing import Any, Callable, ContextManager

import torch

from swe_srl.config import TrainConfig
from swe_srl.errors import ConfigError
from swe_srl.host.hub import hub_snapshot
from swe_srl.train.distributed import World, shard

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def check_model_path(path: str) -> None:
    """A ``model.path`` that reads as a folder here (it starts with ``.``, ``/`` or ``~``, has more than one
    ``/``, or its parent folder exists) must exist: else the hub would be asked for it as a repo id."""
    local = Path(path).expanduser()
    reads_as_folder = (path.startswith((".", "/", "~")) or path.count("/") > 1
                       or ("/" in path and local.parent.is_dir()))
    if reads_as_folder and not local.is_dir():
        raise ConfigError(f"model.path '{path}': no such folder; check the path (a training run's model is its "
                          "output_dir/final), or give a hub id as 'org/name'")


def load_policy(config: TrainConfig, device: torch.device, world: World = World()) -> tuple[Any, Any]:
    """(tokenizer, model) ready to train: dtype, device, gradient checkpointing, LoRA.

    Under FSDP (``world.sharded``) the model stays on the CPU until it is sharded onto ``device``.
    """
    if config.model.dtype not in DTYPES:
        raise ConfigError(f"model.dtype '{config.model.dtype}' is not one of {', '.join(DTYPES)}")
    if config.model.path == "tiny":
        from swe_srl.train.tiny import tiny_model, tiny_tokenizer

        tokenizer = tiny_tokenizer()
        model = tiny_model(tokenizer, hidden_size=config.model.tiny_hidden_size,
                           num_layers=config.model.tiny_layers, seed=config.run.seed)
        model = model.to(DTYPES[config.model.dtype])
    else:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = config.model.path
        if not Path(path).expanduser().is_dir():  # a hub id: downloaded first, under its own progress bars
            path = hub_snapshot(path, show_progress=world.is_main)
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=DTYPES[config.model.dtype])
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not world.sharded:
        model.to(device)
    if config.model.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
    if config.lora.enabled:
        from peft import LoraConfig, get_peft_model

        if config.model.gradient_checkpointing:
            model.enable_input_require_grads()  # checkpointed blocks need a grad-requiring input
        model = get_peft_model(model, LoraConfig(
            r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
            target_modules=list(config.lora.target_modules), task_type="CAUSAL_LM",
        ))
    return tokenizer, shard(model, device) if world.sharded else model


def reference_policy(config: TrainConfig, model: Any, needed: bool) -> Callable[[], ContextManager[Any]]:
    """A context manager factory yielding the frozen reference model.

    Under LoRA it is the same module with its adapters disabled (no second copy in memory);
    under full fine-tuning it is a frozen copy made before the first update, only when needed.
    """
    if config.lora.enabled:
        @contextlib.contextmanager
        def adapters_off():
            with model.disable_adapter():
                yield model
        return adapters_off
    if not needed:
        return lambda: contextlib.nullcontext(None)
    frozen = copy.deepcopy(model).eval()
    frozen.requires_grad_(False)
    return lambda: contextlib.nullcontext(frozen)
