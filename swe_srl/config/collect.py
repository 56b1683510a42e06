"""The `swe-srl collect` config: which teacher runs on which tasks, how, and where the runs go."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from swe_srl.config.sections import AgentLimits, ClientConfig, ClusterConfig, PromptSettings, SandboxConfig
from swe_srl.errors import ConfigError


@dataclass(frozen=True)
class CollectSettings:
    """What to collect and where."""

    out: Path  # folder for the runs and the SWE-Gym-format rows
    teacher: Literal["scripted", "replay", "openai"] = "scripted"  # scripted: a known-fix route; openai: client.model
    tasks: Path | None = None  # task file (JSON, JSONL, parquet); None: the bundled tasks
    trajectories: Path = Path("trajectories")  # teacher replay: recorded runs to re-execute (any importable format)
    seeds: tuple[int, ...] = (0, 1)  # one run per seed (sample) and task
    workers: int = 1  # parallel sandboxes
    skip_ungradable: bool = False  # skip rows the harness cannot grade (counted in the summary) instead of stopping

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ConfigError("collect.seeds is empty: give at least one seed (one run per seed and task)")
        if self.workers < 1:
            raise ConfigError(f"collect.workers must be at least 1, got {self.workers}")


@dataclass(frozen=True)
class CollectConfig:
    """`swe-srl collect`: YAML sections ``collect``, ``client``, ``agent``, ``prompt``, ``sandbox`` and ``cluster``."""

    collect: CollectSettings  # what and where
    client: ClientConfig = field(default_factory=ClientConfig)  # the model, for teacher openai
    agent: AgentLimits = field(default_factory=AgentLimits)  # when a model's run stops
    prompt: PromptSettings = field(default_factory=PromptSettings)  # unset: the model's prompt recipe
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)  # where the runs happen
    cluster: ClusterConfig = field(default_factory=ClusterConfig)  # threads here, or a Ray cluster

    def __post_init__(self) -> None:
        if self.collect.teacher == "openai" and not self.client.model:
            raise ConfigError("teacher openai needs a model: pass --model (a local model folder, or a served "
                              "model's name with --base-url)")
