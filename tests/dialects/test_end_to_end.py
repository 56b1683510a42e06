"""A SWE-smith row and an OpenHands run, imported, built into data and evaluated: each model's tools
speak its teacher's dialect with no flag, because the prompt recipe names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.agent.identity import ModelIdentity
from swe_srl.agent.loop import AgentConfig
from swe_srl.config.sections import PromptSettings
from swe_srl.dataset import build_dataset
from swe_srl.dialects import DIALECT_KEY
from swe_srl.evaluate.oracle import END_TO_END
from swe_srl.formats.importing import import_to_store, read_store
from swe_srl.prompt_recipe import read_recipe
from swe_srl.recipes import evaluate as eval_recipe
from swe_srl.stepwise import StepwiseConfig
from tests.dialects.replay import SHARED
from tests.evaluate.test_eval_recipe import TASKS


class Stop(Exception):
    """Raised by the stand-in for run_jobs once it has seen the plan."""


@pytest.mark.parametrize("parts, dialect", [
    (("swe-smith", "ft_xml_example.jsonl"), "swe-agent"),
    (("openhands", "multi_swe_bench.output.jsonl"), "openhands"),
])
def test_the_teachers_dialect_travels_from_import_to_the_eval_sandbox(parts, dialect, tmp_path: Path, monkeypatch):
    from swe_srl.train.tiny import tiny_tokenizer

    source = SHARED.joinpath(*parts)
    if not source.exists():
        pytest.skip(f"{source} is absent: the shared trajectory data is not beside this checkout")
    report = import_to_store([source], tmp_path / "traj")
    assert report.trajectories >= 3
    runs = list(read_store(tmp_path / "traj" / "trajectories.jsonl"))
    assert {run.metadata[DIALECT_KEY] for run in runs} == {dialect}
    # SWE-smith's \r\n were in the chat its model read: they stay, and the swe-agent dialect writes them
    assert any("\r\n" in step.observation for run in runs for step in run.steps) == (dialect == "swe-agent")

    keep = StepwiseConfig(keep_ungraded=True, keep_unresolved=True, max_prompt_tokens=None)  # the files hold no verdict
    summary = build_dataset(tmp_path / "traj", tmp_path / "data", tiny_tokenizer(), keep, calibrate=False)
    assert set(summary.dialects) == {dialect}
    assert read_recipe(tmp_path / "data").observation_dialect == dialect

    # eval on a model folder holding that recipe (training copies it there), no dialect flag given
    stepwise = PromptSettings().for_model(str(tmp_path / "data"))
    seen = []

    def run_jobs(jobs, plan, store, **kwargs):
        seen.append(plan.dialect)
        raise Stop

    monkeypatch.setattr(eval_recipe, "run_jobs", run_jobs)
    with pytest.raises(Stop):
        eval_recipe.evaluate(TASKS[:1], lambda: None, tmp_path / "eval", model=ModelIdentity("m", "m"), dataset="d",
                             settings=[END_TO_END], config=AgentConfig(stepwise=stepwise),
                             run_one=lambda job, setting: {})
    assert seen == [dialect]
    # told otherwise, eval renders in the dialect asked for
    told = PromptSettings(observation_dialect="swe-srl").for_model(str(tmp_path / "data"))
    assert told.observation_dialect == "swe-srl"
