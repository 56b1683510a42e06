"""Several processes, one model sharded across them with FSDP2 (torch's ``fully_shard``).

    torchrun --nproc_per_node 8 -m swe_srl.cli train srl --config qwen2.5-coder-7b-full
    accelerate launch --num_processes 8 -m swe_srl.cli train srl --config qwen2.5-coder-7b-full

Either launcher sets RANK, WORLD_SIZE and LOCAL_RANK; ``run.distributed=fsdp`` then joins the
process group (NCCL on GPUs, Gloo on CPU), shards every decoder block and the root module, and
keeps float32 master weights while computing in ``model.dtype``. This is the FSDP2 that
accelerate's ``fsdp_version: 2`` plugin applies; it is called directly because accelerate only
turns FSDP on for GPUs, and the same code path then runs in the tests on CPU with Gloo.

Every collective must be entered by all ranks in the same order: the recipe keeps the number of
prefills, decoding steps, forward and backward passes equal across ranks (``World.align``).
"""

from __future__ import annotations

import atexit
import gc
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterator, TypeVar

import torch
import torch.distributed as dist

from swe_srl.config import TrainConfig
from swe_srl.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (rank 0 of 1 when not distributed)."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def sharded(self) -> bool:
        return self.size > 1

    def gather(self, value: T) -> list[T]:
        """Every rank's ``value`` (picklable), in rank order, on every rank."""
        if not self.sharded:
            return [value]
        out: list[Any] = [None] * self.size
        dist.all_gather_object(out, value)
        return out

    def total(self, value: float) -> float:
        """The sum of ``value`` over ranks."""
        return float(sum(self.gather(value)))

    def totals(self, *values: int) -> tuple[int, ...]:
        """Each of ``values`` summed over ranks, in one exchange."""
        return tuple(sum(column) for column in zip(*self.gather(values)))

    def align(self, count: int) -> int:
        """The largest ``count`` over ranks: how many collective passes every rank must make."""
        return max(self.gather(count))

    def share(self, items: list[T]) -> list[T]:
        """This rank's interleaved share of ``items`` (the same list on every rank)."""
        return items[self.rank :: self.size]


def pick_device(name: str) -> torch.device:
    """``run.device``: cuda when there is one under ``auto``, else the named device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def check_distributed(config: TrainConfig) -> None:
    """ConfigError for a ``run.distributed`` this run cannot take: checked before any other work."""
    if config.run.distributed == "none":
        return
    if config.run.distributed != "fsdp":
        raise ConfigError(f"run.distributed '{config.run.distributed}' is not one of none, fsdp")
    if config.lora.enabled:
        raise ConfigError("run.distributed=fsdp shards full fine-tuning; LoRA at 7B fits one GPU "
                          "(presets qwen2.5-coder-7b, sft-qwen2.5-coder-7b): set lora.enabled=false or "
                          "run.distributed=none")
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise ConfigError("run.distributed=fsdp needs a launcher: torchrun --nproc_per_node N -m swe_srl.cli train ... "
                          "(or accelerate launch); RANK and WORLD_SIZE are not set")


def start_world(config: TrainConfig) -> tuple[World, torch.device]:
    """This process's rank and device; joins the process group under ``run.distributed=fsdp``
    (``check_distributed`` has passed)."""
    if config.run.distributed == "none":
        return World(), pick_device(config.run.device)
    return join(config.run.device)


def join(device: str) -> tuple[World, torch.device]:
    """Join the process group the launcher described; the world and this rank's device."""
    cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        # Sharded parameters keep the process group alive through reference cycles; freed at interpreter
        # shutdown, Gloo's worker threads abort the process. Collect them while Python still runs.
        atexit.register(gc.collect)
        # Rank 0 alone gathers and writes whole weights at checkpoints while the others wait in the
        # next collective: allow it longer than the default 10 minutes on slow storage.
        dist.init_process_group("nccl" if cuda else "gloo", timeout=timedelta(minutes=60))
    return World(rank=dist.get_rank(), size=dist.get_world_size()), torch.device("cuda", local_rank) if cuda else torch.device("cpu")


def leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def shard(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``fully_shard`` each transformer block, then the whole model; float32 masters, compute in the load dtype."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    compute = next(model.parameters()).dtype
    blocks = set(getattr(model, "_no_split_modules", None) or [])
    if not blocks:
        raise ConfigError(f"{type(model).__name__} names no transformer block class (_no_split_modules) to shard by")
    model.float()
    mesh = init_device_mesh(device.type, (dist.get_world_size(),))
    policy = MixedPrecisionPolicy(param_dtype=compute, reduce_dtype=torch.float32)
    for module in model.modules():
        if type(module).__name__ in blocks:
            fully_shard(module, mesh=mesh, mp_policy=policy)
    fully_shard(model, mesh=mesh, mp_policy=policy)
    return model


def clip_gradients(params: list[torch.nn.Parameter], max_norm: float) -> float:
    """Clip the gradients' total norm to ``max_norm``; the norm before clipping (whole, under FSDP)."""
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)


def full_tensors(named: Iterator[tuple[str, torch.Tensor]]) -> Iterator[tuple[str, torch.Tensor]]:
    """``(name, tensor)`` with sharded tensors gathered whole (a collective: every rank must iterate)."""
    from torch.distributed.tensor import DTensor

    for name, tensor in named:
        yield name, tensor.full_tensor() if isinstance(tensor, DTensor) else tensor
