"""One GRPO update of the tiny model on a fixed batch, in one process or as one rank of a torchrun launch.

    python fsdp_update_worker.py OUT UPDATES SHARED               # the whole batch, one process
    torchrun --nproc_per_node 2 fsdp_update_worker.py OUT ...     # FSDP: each rank its share of the groups

Writes the updated weights (whole) to OUT as a torch file, from rank 0.
"""

from __future__ import annotations

import contextlib
import os
import sys

import torch

from swe_srl.config import GrpoConfig
from swe_srl.train.update import train_on_batch
from swe_srl.train.batch import Learner
from swe_srl.train.checkpoint import gathered_weights
from swe_srl.train.distributed import World, join, leave, shard
from swe_srl.train.logprobs import CompletionLogprobs
from swe_srl.train.tiny import tiny_model, tiny_tokenizer

GROUPS, G = 4, 4


def batch() -> tuple[list[list[tuple[tuple[int, ...], tuple[int, ...]]]], list[torch.Tensor]]:
    """Per group: G (prompt, completion) pairs of varied lengths, and their advantages."""
    generator = torch.Generator().manual_seed(0)
    groups, advantages = [], []
    for g in range(GROUPS):
        prompt = tuple(torch.randint(5, 200, (6 + 5 * g,), generator=generator).tolist())
        groups.append([(prompt, tuple(torch.randint(5, 200, (2 + (g + i) % 5,), generator=generator).tolist()))
                       for i in range(G)])
        advantages.append(torch.randn(G, generator=generator))
    return groups, advantages


def main(out: str, updates: int, shared: bool) -> None:
    world, device = join("cpu") if "RANK" in os.environ else (World(), torch.device("cpu"))
    torch.manual_seed(0)
    model = tiny_model(tiny_tokenizer(), seed=0)
    if world.sharded:
        model = shard(model, device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)  # weights move by the gradient itself
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    groups, advantages = batch()
    mine = world.share(list(range(GROUPS)))
    pairs = [pair for g in mine for pair in groups[g]]
    # pack_tokens small enough that the ranks' packed micro-batch counts differ.
    grpo = GrpoConfig(updates_per_step=updates, pack_tokens=40, micro_batch_size=3)
    learner = Learner(model, lambda: contextlib.nullcontext(None), optimizer, scheduler,
                      CompletionLogprobs(device, pad_id=0, shared=shared), world)
    train_on_batch(learner, pairs, torch.cat([advantages[g] for g in mine]), grpo, max_grad_norm=1.0)
    weights = gathered_weights(model, world)
    if world.is_main:
        torch.save(weights, out)
    leave()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "shared")
