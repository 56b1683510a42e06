"""Config sections several commands share: the acting model, the agent's limits, its prompt, the sandbox."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from swe_srl.errors import ConfigError
from swe_srl.prompt_recipe import RECIPE_FILE, read_recipe, settle
from swe_srl.stepwise import StepwiseConfig


@dataclass(frozen=True)
class ClientConfig:
    """The model that acts: a served model behind an OpenAI-compatible endpoint, or a local model folder."""

    model: str = ""  # served model name (with base_url) or a local model folder
    base_url: str = ""  # OpenAI-compatible endpoint, e.g. http://localhost:8000/v1; empty: model is a local folder
    temperature: float = 0.0  # 0: greedy (the paper evaluates greedily)
    max_new_tokens: int = 1024  # tokens per reply
    max_batch: int = 8  # local model: concurrent runs' prompts generated in one batch; 1: one at a time
    timeout: float = 300.0  # seconds per model request
    max_retries: int = 5  # retries of a failed request to a served model
    native_tools: Literal["auto", "on", "off"] = "auto"  # native tool calling (served models)
    price_prompt: float = 0.0  # cost per million prompt tokens
    price_completion: float = 0.0  # cost per million completion tokens

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise ConfigError(f"client.max_batch must be at least 1, got {self.max_batch}")


@dataclass(frozen=True)
class AgentLimits:
    """When an agent run stops, short of submitting."""

    max_steps: int = 50  # model calls (malformed replies included)
    max_tokens: int | None = None  # prompt + completion tokens over the run; None: no limit
    max_cost: float | None = None  # summed reply cost; None: no limit
    max_malformed_in_a_row: int = 3  # consecutive unparsable replies before giving up

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ConfigError(f"max_steps must be at least 1, got {self.max_steps}")
        if self.max_malformed_in_a_row < 1:
            raise ConfigError(f"max_malformed_in_a_row must be at least 1, got {self.max_malformed_in_a_row}")


@dataclass(frozen=True)
class PromptSettings:
    """The prompt asked for; None: the model's prompt recipe, or without one the data-build default."""

    context_steps: int | Literal["all"] | None = None  # earlier (action, observation) pairs shown; 2 = the paper
    max_prompt_tokens: int | None = None  # prompt budget; over it the oldest observations are elided
    max_observation_chars: int | None = None  # longer observations keep head and tail around a marker
    observation_dialect: str | None = None  # how tool results are worded (swe_srl/dialects); may differ from the recipe

    def for_model(self, model: str) -> StepwiseConfig:
        """The prompt for ``model``: its recipe file where it is a folder holding one, with these settings."""
        folder = Path(model) if model else None
        recipe = read_recipe(folder) if folder is not None and folder.is_dir() else None
        asked = {name: value for name, value in asdict(self).items() if value is not None}
        return settle(asked, recipe, str(Path(model) / RECIPE_FILE))


@dataclass(frozen=True)
class SandboxConfig:
    """Where each task's sandbox runs."""

    # docker: the task's image; podman: the same through a Podman service; local: bubblewrap on this machine
    backend: Literal["docker", "podman", "local"] = "docker"


@dataclass(frozen=True)
class ClusterConfig:
    """Where the jobs run: threads of this process, or tasks of a Ray cluster (the ``[ray]`` extra)."""

    ray: str = ""  # empty: threads here; auto: the running cluster; local: start one here; or a cluster's address
    sandboxes_per_node: int = 0  # with ray local: sandboxes this machine holds; 0: from its cores and memory
    starts_per_node: int = 2  # container starts at once on one node; more queue rather than burst
    max_retries: int = 2  # reruns of a job whose node or worker died, before it is an infrastructure failure

    def __post_init__(self) -> None:
        if self.sandboxes_per_node < 0 or self.starts_per_node < 1 or self.max_retries < 0:
            raise ConfigError(f"cluster: sandboxes_per_node must be >= 0, starts_per_node >= 1 and max_retries >= 0, "
                              f"got {self.sandboxes_per_node}, {self.starts_per_node} and {self.max_retries}")
        if self.sandboxes_per_node and self.ray != "local":
            raise ConfigError("cluster.sandboxes_per_node sizes a cluster started here (--ray local); the nodes of "
                              "a running cluster advertise theirs with `ray start --resources`")
