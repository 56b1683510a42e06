"""Checkpoints that resume a run exactly: trainable weights, optimizer, scheduler, RNGs, data position.

Under FSDP (``world.sharded``) each rank writes its own shards of the weights and optimizer state
with torch.distributed.checkpoint (``sharded/``) and reads them back on resume, so no process ever
holds the whole optimizer state; the weights are also gathered whole onto rank 0 for the
``from_pretrained`` folder. Each rank's RNG state is kept, since ranks sample different prompts.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from swe_srl.errors import ConfigError
from swe_srl.prompt import PromptRecipe
from swe_srl.prompt_recipe import write_recipe
from swe_srl.train.distributed import World

log = logging.getLogger(__name__)

PREFIX = "checkpoint-"


@dataclass(frozen=True)
class TrainingState:
    """What a checkpoint saves and restores, and which processes take part."""

    model: Any  # the policy: all weights, or adapters only under LoRA; sharded under FSDP
    tokenizer: Any  # saved beside the weights, so each model folder loads with from_pretrained
    optimizer: Any  # a torch optimizer over the trainable parameters
    scheduler: Any  # the learning-rate schedule stepping with it
    world: World = World()  # under FSDP every rank writes and reads its shards


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The parameters being trained (all of them, or only LoRA adapters)."""
    return {name: p.detach().cpu().clone() for name, p in model.named_parameters() if p.requires_grad}


def gathered_weights(model: Any, world: World) -> dict[str, torch.Tensor]:
    """The trainable weights, whole; under FSDP a collective whose result only rank 0 holds."""
    if not world.sharded:
        return trainable_state(model)
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def save_checkpoint(output_dir: Path, step: int, state: TrainingState, *, trainer_state: dict[str, Any],
                    keep: int = 2) -> Path:
    """Write ``output_dir/checkpoint-STEP`` atomically and prune older ones beyond ``keep``."""
    model, optimizer, world = state.model, state.optimizer, state.world
    final = output_dir / f"{PREFIX}{step}"
    tmp = output_dir / f".{PREFIX}{step}.tmp"
    if world.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    if world.sharded:
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict

        world.gather(None)  # the folder exists before any rank writes into it
        weights, optim = get_state_dict(model, optimizer)
        dcp.save({"model": weights, "optimizer": optim}, checkpoint_id=tmp / "sharded")
    rngs = world.gather(rng_state())
    weights = gathered_weights(model, world)
    if not world.is_main:
        return final
    # Adapters only under LoRA; loadable with from_pretrained.
    model.save_pretrained(tmp / "model", state_dict=weights if world.sharded else None)
    state.tokenizer.save_pretrained(tmp / "model")
    if not world.sharded:
        torch.save(weights, tmp / "trainable.pt")
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save({"scheduler": state.scheduler.state_dict(), "rng": rngs}, tmp / "state.pt")
    (tmp / "trainer_state.json").write_text(json.dumps({"step": step, **trainer_state}, indent=2))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)  # a run killed while saving leaves only a .tmp folder, never a half checkpoint
    for old in list_checkpoints(output_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoints in ``output_dir``, oldest first."""
    found = []
    for path in Path(output_dir).glob(f"{PREFIX}*"):
        suffix = path.name[len(PREFIX):]
        if suffix.isdigit() and (path / "trainer_state.json").exists():
            found.append((int(suffix), path))
    return [p for _, p in sorted(found)]


def load_checkpoint(path: Path, into: TrainingState) -> dict[str, Any]:
    """Restore everything ``save_checkpoint`` wrote; returns the trainer state (step, data position...)."""
    model, optimizer, world = into.model, into.optimizer, into.world
    state = torch.load(path / "state.pt", map_location="cpu", weights_only=False)
    if isinstance(state["rng"], dict):  # written before runs could be distributed: one process's state
        state["rng"] = [state["rng"]]
    if len(state["rng"]) != world.size:
        raise ConfigError(f"{path}: written by {len(state['rng'])} processes, resumed by {world.size}; "
                          "launch as many as the run that wrote it")
    if world.sharded:
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

        weights, optim = get_state_dict(model, optimizer)  # this rank's shards, to be filled in place
        shards = {"model": weights, "optimizer": optim}
        dcp.load(shards, checkpoint_id=path / "sharded")
        set_state_dict(model, optimizer, model_state_dict=shards["model"], optim_state_dict=shards["optimizer"])
    else:
        _copy_weights(path, model, torch.load(path / "trainable.pt", map_location="cpu"))
        optimizer.load_state_dict(state["optimizer"] if "optimizer" in state else  # the older layout
                                  torch.load(path / "optimizer.pt", map_location="cpu", weights_only=False))
    into.scheduler.load_state_dict(state["scheduler"])
    set_rng_state(state["rng"][world.rank])
    return json.loads((path / "trainer_state.json").read_text())


def _copy_weights(path: Path, model: Any, weights: dict[str, torch.Tensor]) -> None:
    params = dict(model.named_parameters())
    missing = sorted(set(weights) - set(params))
    if missing:
        raise ConfigError(f"{path}: checkpoint has weights this model lacks ({', '.join(missing[:3])}...); "
                          "was it written with another model or LoRA setting?")
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value.to(params[name].device, params[name].dtype))


def save_final(out: Path, state: TrainingState, *, merge: bool = False, recipe: PromptRecipe | None = None) -> Path:
    """The trained model (adapters under LoRA) in ``out/final``, loadable with ``from_pretrained``.

    With ``merge``, LoRA weights are also folded into the base and saved whole in ``out/merged``.
    Under FSDP the weights are gathered and rank 0 writes them. The training data's prompt
    ``recipe`` goes beside the weights, where eval and the agent read it.
    """
    model, tokenizer, world = state.model, state.tokenizer, state.world
    final = Path(out) / "final"
    weights = gathered_weights(model, world) if world.sharded else None
    if not world.is_main:
        return final
    model.save_pretrained(final, state_dict=weights)
    tokenizer.save_pretrained(final)
    if recipe is not None:
        write_recipe(final, recipe)
    if merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(Path(out) / "merged")
        tokenizer.save_pretrained(Path(out) / "merged")
        if recipe is not None:
            write_recipe(Path(out) / "merged", recipe)
    return final


def resume_latest(out: Path, into: TrainingState, stream: Any) -> int:
    """Load the newest checkpoint in ``out`` into the training state; the step it ends (0: none)."""
    checkpoints = list_checkpoints(out)
    # Rank 0 chooses: on a shared filesystem another rank may not see the newest folder yet.
    newest = into.world.gather(checkpoints[-1] if checkpoints else None)[0]
    if newest is None:
        return 0
    state = load_checkpoint(newest, into)
    stream.load_state(state["data"])
    log.info("resumed from %s at step %d", newest, int(state["step"]))
    return int(state["step"])
