"""What a synthesis run is asked for (`tasks synthesize`): output, budgets, kinds, statement rewriting."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from swe_srl.errors import ConfigError
from swe_srl.factory.rows import PASS_TO_PASS_CAP
from swe_srl.sandbox.backends import BACKENDS


@dataclass(frozen=True)
class SynthConfig:
    out: Path  # folder for tasks.jsonl and report.json
    max_per_package: int = 20  # kept tasks per package
    max_tries: int | None = None  # candidates validated per package; default 5 x max_per_package
    workers: int = 1  # validation containers per package, run in parallel
    suite_timeout: float = 600.0  # seconds for one whole-suite run at base
    kinds: tuple[str, ...] | None = None  # mutation kinds to use; default all
    pass_to_pass_cap: int = PASS_TO_PASS_CAP
    verify: bool = False  # also grade each kept task's gold patch with the swebench harness
    cache: Path = field(default_factory=lambda: Path.home() / ".cache" / "swe-srl" / "factory")
    seed: int = 0  # candidate order
    rewrite_model: str | None = None  # an OpenAI-compatible model that rephrases each kept statement; None: template
    rewrite_base_url: str | None = None  # its endpoint, e.g. http://localhost:8000/v1 (key: $OPENAI_API_KEY)
    backend: str = "docker"  # the sandbox backend; candidates are validated in Docker containers only

    def __post_init__(self) -> None:
        if bool(self.rewrite_model) != bool(self.rewrite_base_url):
            raise ConfigError("rewrite_model and rewrite_base_url go together: set both to rewrite statements "
                              "with a model, or neither to keep the template statements")
        if self.backend != "docker":
            raise ConfigError(f"sandbox backend {self.backend!r}: tasks synthesize validates candidates in "
                              "containers of each package's environment image, which only the docker backend runs "
                              f"(backends: {', '.join(BACKENDS)})")
