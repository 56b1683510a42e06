"""Per-step metrics to a JSONL log, mirrored to TensorBoard and/or Weights & Biases (``run.report_to``)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, Sequence

from swe_srl.errors import ConfigError

REPORTERS = ("tensorboard", "wandb")


def check_reporters(report_to: Sequence[str]) -> None:
    """ConfigError naming an unknown destination, or wandb where it is not installed: before any work."""
    unknown = [name for name in report_to if name not in REPORTERS]
    if unknown:
        raise ConfigError(f"run.report_to: {', '.join(unknown)} unknown; use any of {', '.join(REPORTERS)}")
    if "wandb" in report_to:
        try:
            import wandb  # noqa: F401
        except ImportError:
            raise ConfigError("run.report_to has wandb, which is not installed: pip install wandb") from None


def _numbers(record: dict[str, Any]) -> dict[str, float]:
    return {key: value for key, value in record.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "step"}


class MetricsLog:
    """Appends one JSON object per step to ``metrics.jsonl``; mirrors its numbers to ``report_to``."""

    def __init__(self, output_dir: Path, *, report_to: Sequence[str] = ("tensorboard",), resume_step: int = 0,
                 run_config: dict[str, Any] | None = None) -> None:
        check_reporters(report_to)
        self.path = Path(output_dir) / "metrics.jsonl"
        if self.path.exists():
            # Steps logged after the checkpoint we resume from are about to be redone.
            kept = [line for line in self.path.read_text().splitlines()
                    if line.strip() and json.loads(line).get("step", 0) <= resume_step]
            self.path.write_text("".join(line + "\n" for line in kept))
        self._writer = self._wandb = None
        if "tensorboard" in report_to:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(Path(output_dir) / "tensorboard"), purge_step=resume_step + 1)
        if "wandb" in report_to:
            self._wandb = _wandb_run(Path(output_dir), run_config or {})

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        numbers = _numbers(record)
        if self._writer is not None:
            for key, value in numbers.items():
                self._writer.add_scalar(key, value, record["step"])
        if self._wandb is not None:
            self._wandb.log(numbers, step=record["step"])

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._wandb is not None:
            self._wandb.finish()


def _wandb_run(output_dir: Path, run_config: dict[str, Any]) -> Any:
    """One W&B run per output folder: its id is kept there, so a resumed training continues the same run."""
    import wandb

    id_file = output_dir / "wandb_run_id"
    run_id = id_file.read_text().strip() if id_file.is_file() else secrets.token_hex(4)
    id_file.write_text(run_id)
    return wandb.init(project=os.environ.get("WANDB_PROJECT", "swe-srl"), id=run_id, resume="allow",
                      name=output_dir.resolve().name, dir=str(output_dir), config=run_config)


def read_metrics(output_dir: Path) -> list[dict[str, Any]]:
    """Every record of a run's ``metrics.jsonl``."""
    path = Path(output_dir) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
