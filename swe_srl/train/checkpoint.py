"""Checkpoints that resume a run exactly: trainable weights, optimizer, scheduler, RNGs, data position."""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from swe_srl.errors import ConfigError

log = logging.getLogger(__name__)

PREFIX = "checkpoint-"


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


def save_checkpoint(output_dir: Path, step: int, *, model: Any, tokenizer: Any, optimizer: Any, scheduler: Any,
                    trainer_state: dict[str, Any], keep: int = 2) -> Path:
    """Write ``output_dir/checkpoint-STEP`` atomically and prune older ones beyond ``keep``."""
    final = output_dir / f"{PREFIX}{step}"
    tmp = output_dir / f".{PREFIX}{step}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp / "model")  # adapters only under LoRA; loadable with from_pretrained
    tokenizer.save_pretrained(tmp / "model")
    torch.save(trainable_state(model), tmp / "trainable.pt")
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": rng_state()},
               tmp / "state.pt")
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


def load_checkpoint(path: Path, *, model: Any, optimizer: Any, scheduler: Any) -> dict[str, Any]:
    """Restore everything ``save_checkpoint`` wrote; returns the trainer state (step, data position...)."""
    weights = torch.load(path / "trainable.pt", map_location="cpu")
    params = dict(model.named_parameters())
    missing = sorted(set(weights) - set(params))
    if missing:
        raise ConfigError(f"{path}: checkpoint has weights this model lacks ({', '.join(missing[:3])}...); "
                          "was it written with another model or LoRA setting?")
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value.to(params[name].device, params[name].dtype))
    state = torch.load(path / "state.pt", map_location="cpu", weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    set_rng_state(state["rng"])
    return json.loads((path / "trainer_state.json").read_text())


def save_final(out: Path, model: Any, tokenizer: Any, *, merge: bool = False) -> Path:
    """The trained model (adapters under LoRA) in ``out/final``, loadable with ``from_pretrained``.

    With ``merge``, LoRA weights are also folded into the base and saved whole in ``out/merged``.
    """
    final = Path(out) / "final"
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    if merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(Path(out) / "merged")
        tokenizer.save_pretrained(Path(out) / "merged")
    return final


def resume_latest(out: Path, model: Any, optimizer: Any, scheduler: Any, stream: Any) -> int:
    """Load the newest checkpoint in ``out`` into the training state; the step it ends (0: none)."""
    checkpoints = list_checkpoints(out)
    if not checkpoints:
        return 0
    state = load_checkpoint(checkpoints[-1], model=model, optimizer=optimizer, scheduler=scheduler)
    stream.load_state(state["data"])
    log.info("resumed from %s at step %d", checkpoints[-1], int(state["step"]))
    return int(state["step"])
