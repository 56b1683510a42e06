"""The `swe-srl data build` config: where the step-wise dataset goes, and its prompt recipe and selection."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from swe_srl.stepwise import StepwiseConfig


@dataclass(frozen=True)
class BuildSettings:
    """Where the dataset goes and how its tokens are counted."""

    out: Path  # folder for dataset/, examples.parquet, summary.json and prompt_recipe.json
    tokenizer: str  # tokenizer name or path; budgets are counted in its tokens
    strict: bool = False  # fail on the first bad line instead of counting it


@dataclass(frozen=True)
class DataBuildConfig:
    """`swe-srl data build`: YAML sections ``build`` and ``stepwise`` (the prompt recipe and which examples are kept)."""

    build: BuildSettings  # where, and with which tokenizer
    stepwise: StepwiseConfig = field(default_factory=StepwiseConfig)  # its prompt recipe is written next to the data
