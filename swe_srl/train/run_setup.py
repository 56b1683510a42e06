"""What the training recipes do around their loop: seed, join, optimizer, report a step, checkpoint, finish."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from swe_srl.config import OptimConfig, RunConfig, TrainConfig
from swe_srl.prompt import PromptRecipe
from swe_srl.prompt_recipe import dataset_recipe
from swe_srl.train.checkpoint import TrainingState, resume_latest, save_checkpoint, save_final
from swe_srl.train.curves import RunCurves, write_report
from swe_srl.train.data import PromptStream, dataset_path
from swe_srl.train.distributed import World, check_distributed, leave, start_world
from swe_srl.train.metrics import MetricsLog, check_reporters
from swe_srl.train.policy import check_model_path
from swe_srl.train.rollout import GenerationBackend
from swe_srl.train.schedule import make_scheduler


@dataclass(frozen=True)
class TrainResult:
    """Where a finished run put its outputs."""

    output_dir: Path  # config.json, metrics.jsonl, checkpoints
    steps: int  # the last step completed
    final_model: Path  # loadable with from_pretrained (adapters under LoRA)
    history: list[dict[str, Any]] = field(default_factory=list)  # this process's metrics records


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def begin_run(config: TrainConfig, *, data: bool = True) -> tuple[World, torch.device, Path]:
    """Check the model and (with ``data``) data paths, join the processes (under FSDP) and write the run's
    config; this rank, its device, the output folder."""
    check_distributed(config)
    if config.model.path != "tiny":
        check_model_path(config.model.path)
    if data:
        dataset_path(config.data)
    check_reporters(config.run.report_to)
    world, device = start_world(config)
    out = Path(config.run.output_dir)
    if world.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    return world, device, out


def make_optimizer(optim: OptimConfig, params: list[torch.nn.Parameter], total: int,
                   warmup: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW over ``params`` and its schedule over ``total`` optimizer steps, ``warmup`` of them warming up."""
    optimizer = torch.optim.AdamW(params, lr=optim.lr, betas=(optim.beta1, optim.beta2),
                                  weight_decay=optim.weight_decay)
    return optimizer, make_scheduler(optimizer, total, warmup, optim.schedule)


def publish(record: dict[str, Any], history: list[dict[str, Any]], metrics: MetricsLog | None,
            on_step: Callable[[dict[str, Any]], None] | None) -> None:
    """Keep a step's record; the main process (the one with ``metrics``) also logs it and shows it to ``on_step``."""
    history.append(record)
    if metrics is not None:
        metrics.write(record)
        if on_step is not None:
            on_step(record)


def save_if_due(run: RunConfig, out: Path, step: int, last: int, state: TrainingState, stream: PromptStream) -> None:
    """Checkpoint every ``run.save_every`` steps and at the ``last`` one."""
    if (run.save_every and step % run.save_every == 0) or step == last:
        save_checkpoint(out, step, state, trainer_state={"data": stream.state()}, keep=run.keep_checkpoints)


def train_steps(config: TrainConfig, out: Path, state: TrainingState, stream: PromptStream,
                backend: GenerationBackend, step: Callable[[int], dict[str, Any]],
                on_step: Callable[[dict[str, Any]], None] | None) -> tuple[int, list[dict[str, Any]], MetricsLog | None]:
    """A run's steps: resume from its newest checkpoint (``run.resume``), take ``step(n)`` up to ``run.steps``
    publishing each record and checkpointing when due, and close ``backend`` however it ends. Returns the step
    resumed from, this process's records, and the metrics log (the main process's; None on the others)."""
    start = resume_latest(out, state, stream) if config.run.resume else 0
    metrics = MetricsLog(out, report_to=config.run.report_to, resume_step=start,
                         run_config=config.to_dict()) if state.world.is_main else None
    history: list[dict[str, Any]] = []
    try:
        if start:
            backend.sync_weights(state.model)
        for n in range(start + 1, config.run.steps + 1):
            publish(step(n), history, metrics, on_step)
            save_if_due(config.run, out, n, config.run.steps, state, stream)
    finally:
        backend.close()  # e.g. vLLM's adapter folder, on success or failure
    return start, history, metrics


def finish_run(config: TrainConfig, out: Path, state: TrainingState, metrics: MetricsLog | None,
               recipe: PromptRecipe | None = None) -> Path:
    """Close the metrics log and draw its curves (report.png, report.html), save the final model with its prompt
    ``recipe`` (default: the training data's; every rank takes part under FSDP), leave the process group."""
    if metrics is not None:
        metrics.close()
        if metrics.path.is_file() and metrics.path.stat().st_size:
            write_report([RunCurves.read(out)], out)
    final = save_final(out, state, merge=config.lora.enabled and config.run.merge_on_save,
                       recipe=recipe or dataset_recipe(config.data.path))
    if config.run.distributed != "none":  # joined the process group, even as its only member
        leave()
    return final
