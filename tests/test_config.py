"""Config: presets load one to one onto dataclasses; overrides by field name; clear errors."""

from __future__ import annotations

import pytest

from swe_srl.config import PRESETS_DIR, TrainConfig, load_config
from swe_srl.errors import ConfigError


@pytest.mark.parametrize("name", ["tiny-cpu", "qwen2.5-coder-7b", "qwen2.5-coder-7b-full"])
def test_presets_load(name):
    config = load_config(name)
    assert isinstance(config, TrainConfig)
    assert (PRESETS_DIR / f"{name}.yaml").is_file()


def test_overrides_by_section_and_by_unique_field_name():
    config = load_config("tiny-cpu", ["grpo.kl_beta=0.05", "lr=3e-3", "steps=7", "target_modules=[q_proj, v_proj]"])
    assert config.grpo.kl_beta == 0.05
    assert config.optim.lr == 0.003
    assert config.run.steps == 7
    assert config.lora.target_modules == ("q_proj", "v_proj")


def test_bad_keys_and_values_are_named(tmp_path):
    with pytest.raises(ConfigError, match="no field named 'nope'"):
        load_config(None, ["nope=1"])
    with pytest.raises(ConfigError, match="ambiguous"):
        load_config(None, ["path=x"])  # model.path and data.path
    with pytest.raises(ConfigError, match="run.steps: expected a whole number"):
        load_config(None, ["run.steps=many"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("grpo:\n  clip: 0.2\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown key 'grpo.clip'"):
        load_config(bad)
    with pytest.raises(ConfigError, match="neither a file nor a preset"):
        load_config("no-such-preset")
