"""The prompt recipe flows forward: data build writes it, training copies it, eval and collect obey it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swe_srl.actions import Action
from swe_srl.config.sections import PromptSettings
from swe_srl.errors import ConfigError
from swe_srl.prompt import PromptRecipe
from swe_srl.prompt_recipe import RECIPE_FILE, read_recipe, settle, write_recipe
from swe_srl.stepwise import StepwiseConfig
from swe_srl.trajectory import Step, Trajectory, dumps


def test_recipe_round_trips_and_bad_files_are_named(tmp_path: Path) -> None:
    recipe = PromptRecipe(context_steps="all", max_prompt_tokens=None, system_prompt="SYS", tokens_per_message=4)
    assert read_recipe(tmp_path) is None
    write_recipe(tmp_path, StepwiseConfig(**vars(recipe), keep_ungraded=True))  # only the recipe's fields are kept
    assert read_recipe(tmp_path) == recipe
    data = json.loads((tmp_path / RECIPE_FILE).read_text())
    assert "keep_ungraded" not in data and data["version"] == 1
    for broken, message in [({**data, "action_format": "xml/0"}, "learned actions written as 'xml/0'"),
                            ({**data, "context_steps": -2}, "context_steps must be"),
                            ({k: v for k, v in data.items() if k != "issue_template"}, "issue_template missing")]:
        (tmp_path / RECIPE_FILE).write_text(json.dumps(broken))
        with pytest.raises(ConfigError, match=message) as info:
            read_recipe(tmp_path)
        assert str(tmp_path / RECIPE_FILE) in str(info.value)


def test_settle_takes_the_models_recipe_and_refuses_contradictions() -> None:
    recipe = PromptRecipe(context_steps="all", max_prompt_tokens=8192)
    assert settle({}, None, "x").context_steps == StepwiseConfig().context_steps  # no recipe: the defaults
    assert settle({"context_steps": 3}, None, "x").context_steps == 3  # ... or what the user asked for
    settled = settle({}, recipe, "x")
    assert (settled.context_steps, settled.max_prompt_tokens) == ("all", 8192)
    assert settle({"context_steps": "all"}, recipe, "x").recipe() == recipe  # agreeing is fine
    with pytest.raises(ConfigError, match=r"context_steps=2 contradicts .*context_steps='all', in m/prompt_recipe"):
        settle({"context_steps": 2}, recipe, "m/prompt_recipe.json")


def test_models_without_a_recipe_use_the_settings_or_the_defaults(tmp_path: Path) -> None:
    assert PromptSettings(context_steps=1).for_model("gpt-4o").context_steps == 1  # a served model
    assert PromptSettings().for_model(str(tmp_path)) == StepwiseConfig()  # a folder with no recipe file


def trajectory(i: int) -> Trajectory:
    steps = (Step(Action.bash(f"cat file{i}.py"), f"contents {i}", "read it"),
             Step(Action.bash("pytest -x"), "1 failed", "reproduce"), Step(Action.submit(), "", "done"))
    return Trajectory(task_id=f"task-{i}", source_format="agent", steps=steps,
                      problem_statement=f"file{i}.py is wrong.", resolved=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """Data built with --context-steps all through the CLI, and a model trained on it for one SFT step."""
    from swe_srl.cli import main
    from swe_srl.train.tiny import save_tiny

    root = tmp_path_factory.mktemp("recipe")
    save_tiny(root / "tiny")
    (root / "store.jsonl").write_text("".join(dumps(trajectory(i)) + "\n" for i in range(4)))
    assert main(["data", "build", str(root / "store.jsonl"), "--out", str(root / "data"), "--tokenizer",
                 str(root / "tiny"), "--context-steps", "all", "--max-prompt-tokens", "3000"]) == 0
    assert main(["train", "sft", "--config", "sft-tiny-cpu", f"model.path={root / 'tiny'}",
                 f"data.path={root / 'data' / 'dataset'}", f"output_dir={root / 'sft'}", "report_to=[]",
                 "max_steps=1", "global_batch_size=2", "forward_batch_size=2"]) == 0
    return root


def test_training_copies_the_recipe_and_takes_its_budget(trained: Path) -> None:
    recipe = read_recipe(trained / "data")
    assert recipe is not None and recipe.context_steps == "all"
    assert read_recipe(trained / "sft" / "final") == recipe
    assert json.loads((trained / "sft" / "config.json").read_text())["data"]["max_prompt_tokens"] == 3000


def _eval_args(trained: Path) -> list[str]:
    # No task matches: the command loads the model and writes an empty report, and no sandbox starts.
    return ["eval", "--model", str(trained / "sft" / "final"), "--instances", "none", "--config", "tiny-cpu"]


def _record_eval_configs(monkeypatch) -> list:
    from swe_srl.recipes import evaluate as run_eval

    used = []
    real = run_eval.evaluate
    monkeypatch.setattr(run_eval, "evaluate", lambda *a, **k: used.append(k["config"]) or real(*a, **k))
    return used


@pytest.mark.docker
def test_eval_uses_the_models_recipe(trained: Path, monkeypatch, docker_client) -> None:
    # eval checks first that the harness's Docker engine answers, even with no task to grade
    from swe_srl.cli import main

    used = _record_eval_configs(monkeypatch)
    assert main([*_eval_args(trained), "--out", str(trained / "eval")]) == 0
    assert used[0].stepwise.recipe() == read_recipe(trained / "data")
    assert used[0].stepwise.context_steps == "all"


def test_a_flag_contradicting_the_models_recipe_is_refused_before_any_work(trained: Path, monkeypatch,
                                                                          capsys) -> None:
    from swe_srl.cli import main

    used = _record_eval_configs(monkeypatch)
    model = str(trained / "sft" / "final")
    capsys.readouterr()
    assert main([*_eval_args(trained), "--out", str(trained / "eval-2"), "--context-steps", "2"]) == 2
    said = " ".join(capsys.readouterr().out.split())
    assert "context_steps=2 contradicts" in said and "context_steps='all'" in said and "drop --context-steps" in said
    assert not used and not (trained / "eval-2").exists()  # refused before any work

    assert main(["collect", "--teacher", "openai", "--model", model, "--out", str(trained / "collect"),
                 "--max-prompt-tokens", "1000"]) == 2
    assert "max_prompt_tokens=1000 contradicts" in " ".join(capsys.readouterr().out.split())
