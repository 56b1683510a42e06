"""The prompt recipe file: written next to a dataset, carried next to the model trained on it.

``swe-srl data build`` writes ``prompt_recipe.json`` beside ``dataset/``; training copies it into
the final model folder; ``eval``, ``collect`` and the agent read it from the model folder, so a
model is asked in the prompts it learned (context steps, budget, observation cut, system prompt,
issue template, action format) without the user repeating the flags. A setting the user asks for
that contradicts the model's recipe is refused; one the user leaves unset takes the model's value.
Models with no recipe file (hub models, served models) take the user's settings or the defaults.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any, Mapping

from swe_srl.actions import ACTION_FORMAT
from swe_srl.atomic import write_text_atomic
from swe_srl.dialects import DEFAULT_DIALECT
from swe_srl.errors import ConfigError
from swe_srl.prompt import PromptRecipe
from swe_srl.stepwise import StepwiseConfig

RECIPE_FILE = "prompt_recipe.json"
OVERRIDABLE = {"observation_dialect"}  # recipe fields a user may set against the model's recipe
VERSION = 1  # of the file's layout


def write_recipe(folder: Path | str, recipe: PromptRecipe) -> Path:
    """Write ``recipe`` (only its recipe fields) as ``folder/prompt_recipe.json``."""
    path = Path(folder) / RECIPE_FILE
    data = {"version": VERSION, "action_format": ACTION_FORMAT, **asdict(recipe.recipe())}
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def read_recipe(folder: Path | str) -> PromptRecipe | None:
    """The recipe in ``folder`` (a model or dataset folder), or None when it has none."""
    path = Path(folder) / RECIPE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid JSON ({err}); rebuild the data or delete the file") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ConfigError(f"{path}: not a version {VERSION} prompt recipe; rebuild the data with this swe-srl")
    if data.get("action_format") != ACTION_FORMAT:
        raise ConfigError(f"{path}: the model learned actions written as {data.get('action_format')!r}, but this "
                          f"swe-srl writes {ACTION_FORMAT!r}; rebuild the data and retrain, or use a matching swe-srl")
    names = {f.name for f in fields(PromptRecipe)}
    values = {k: v for k, v in data.items() if k not in ("version", "action_format")}
    values.setdefault("observation_dialect", DEFAULT_DIALECT)  # recipes written before dialects: our own tools
    if set(values) != names:
        odd = sorted(set(values) ^ names)
        raise ConfigError(f"{path}: fields {', '.join(odd)} missing or unknown; rebuild the data with this swe-srl")
    try:
        return PromptRecipe(**values)
    except (ConfigError, TypeError) as err:
        raise ConfigError(f"{path}: {err}") from None


def dataset_recipe(data_path: Path | str) -> PromptRecipe | None:
    """The recipe of a dataset: in the folder `data build` wrote, given as that folder or a path inside it."""
    path = Path(data_path)
    for folder in (path, path.parent):
        if folder.is_dir() and (folder / RECIPE_FILE).is_file():
            return read_recipe(folder)
    return None


def settle(asked: Mapping[str, Any], recipe: PromptRecipe | None, source: str) -> StepwiseConfig:
    """The prompt settings to use: the model's ``recipe`` (else the defaults) with the ``asked`` ones.

    ``asked`` holds the recipe fields the user set; one that differs from the model's recipe is
    refused, naming both values, except the observation dialect: rendering tool results in another
    dialect than the model learned is a choice (an ablation, a served model), so it is taken.
    """
    unknown = set(asked) - {f.name for f in fields(PromptRecipe)}
    if unknown:
        raise ConfigError(f"not prompt recipe fields: {', '.join(sorted(unknown))}")
    base = StepwiseConfig() if recipe is None else StepwiseConfig(**asdict(recipe))
    for name, value in asked.items():
        have = getattr(base, name)
        if recipe is not None and value != have and name not in OVERRIDABLE:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(
                f"{name}={value!r} contradicts the prompt recipe the model was trained on ({name}={have!r}, "
                f"in {source}): drop {flag} (or prompt.{name} in the config) and the model's value applies")
    return replace(base, **asked)
