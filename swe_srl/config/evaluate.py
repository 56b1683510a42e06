"""The `swe-srl eval` config: which model on which benchmark, in which settings, and where the report goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from swe_srl.config.sections import AgentLimits, ClientConfig, ClusterConfig, PromptSettings, SandboxConfig
from swe_srl.errors import ConfigError


@dataclass(frozen=True)
class EvalSettings:
    """What to evaluate on and where the results go."""

    out: Path  # folder for runs, predictions.jsonl and the report
    dataset: str = "bundled"  # swe-bench-verified, bundled, or a task file (JSON, JSONL, parquet)
    # the hub commit of swe-bench-verified to load; required for it (no sha is assumed: pin the one you use)
    revision: str = ""
    # end-to-end, and oracle file edit (the agent is told the files the gold patch touches)
    settings: tuple[Literal["end-to-end", "oracle"], ...] = ("end-to-end", "oracle")
    instances: tuple[str, ...] = ()  # only these instance ids; empty: all
    limit: int = 0  # only the first N tasks; 0: all
    workers: int = 1  # parallel sandboxes
    skip_ungradable: bool = False  # skip rows the harness cannot grade (counted in the report) instead of stopping

    def __post_init__(self) -> None:
        if not self.settings:
            raise ConfigError("eval.settings is empty: give end-to-end, oracle or both")
        if self.limit < 0 or self.workers < 1:
            raise ConfigError(f"eval.limit must be >= 0 and eval.workers >= 1, got {self.limit} and {self.workers}")


@dataclass(frozen=True)
class EvalConfig:
    """`swe-srl eval`: YAML sections ``eval``, ``client``, ``agent``, ``prompt``, ``sandbox`` and ``cluster``."""

    eval: EvalSettings  # what and where
    client: ClientConfig = field(default_factory=ClientConfig)  # the model evaluated
    agent: AgentLimits = field(default_factory=AgentLimits)  # when a run stops
    prompt: PromptSettings = field(default_factory=PromptSettings)  # unset: the model's prompt recipe
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)  # where the runs happen
    cluster: ClusterConfig = field(default_factory=ClusterConfig)  # threads here, or a Ray cluster

    def __post_init__(self) -> None:
        if not self.client.model:
            raise ConfigError("eval needs a model: pass --model (a local model folder, or a served model's name "
                              "with --base-url)")
