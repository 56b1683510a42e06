"""The `swe-srl tasks synthesize` config: how bugs are injected and validated, and where sandboxes run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from swe_srl.config.sections import ClusterConfig, SandboxConfig
from swe_srl.errors import ConfigError

PASS_TO_PASS_CAP = 50  # PASS_TO_PASS tests kept per synthesized task


@dataclass(frozen=True)
class SynthConfig:
    """One synthesis run over some packages."""

    out: Path  # folder for tasks.jsonl and report.json
    max_per_package: int = 20  # kept tasks per package
    max_tries: int | None = None  # candidates validated per package; default 5 x max_per_package
    workers: int = 1  # validation containers per package, run in parallel
    suite_timeout: float = 600.0  # seconds for one whole-suite run at base
    kinds: tuple[str, ...] | None = None  # mutation kinds to use; default all
    pass_to_pass_cap: int = PASS_TO_PASS_CAP  # PASS_TO_PASS tests kept per task, sampled stably
    verify: bool = False  # also grade each kept task's gold patch with the swebench harness
    cache: Path = field(default_factory=lambda: Path.home() / ".cache" / "swe-srl" / "factory")  # sdists, wheels
    seed: int = 0  # candidate order
    rewrite_model: str | None = None  # an OpenAI-compatible model that rephrases each kept statement; None: template
    rewrite_base_url: str | None = None  # its endpoint, e.g. http://localhost:8000/v1 (key: $OPENAI_API_KEY)

    def __post_init__(self) -> None:
        if bool(self.rewrite_model) != bool(self.rewrite_base_url):
            raise ConfigError("rewrite_model and rewrite_base_url go together: set both to rewrite statements "
                              "with a model, or neither to keep the template statements")
        for name in ("max_per_package", "workers", "pass_to_pass_cap"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.kinds is not None and not self.kinds:
            raise ConfigError("kinds is an empty list: name at least one mutation kind, or leave it unset for all")


@dataclass(frozen=True)
class SynthesizeConfig:
    """`swe-srl tasks synthesize`: YAML sections ``synthesize``, ``sandbox`` and ``cluster``."""

    synthesize: SynthConfig  # what to make and how
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)  # where validation sandboxes run
    cluster: ClusterConfig = field(default_factory=ClusterConfig)  # threads here, or a Ray cluster

    def __post_init__(self) -> None:
        if self.sandbox.backend != "docker":
            raise ConfigError(f"sandbox backend {self.sandbox.backend!r}: tasks synthesize validates candidates in "
                              "containers of each package's environment image, which only the docker backend runs")
