"""Config: presets load one to one onto dataclasses; overrides by field name; clear errors."""

from __future__ import annotations

import pytest

from swe_srl.config import PRESETS_DIR, TrainConfig, load_config
from swe_srl.errors import ConfigError


@pytest.mark.parametrize("name", ["tiny-cpu", "qwen2.5-coder-7b", "qwen2.5-coder-7b-full", "rlvr-tiny-cpu",
                                  "qwen2.5-coder-7b-rlvr"])
def test_presets_load(name):
    config = load_config(name)
    assert isinstance(config, TrainConfig)
    assert (PRESETS_DIR / f"{name}.yaml").is_file()


def test_rlvr_settings_are_checked_when_loaded():
    with pytest.raises(ConfigError, match="rlvr.reward must be resolved or fail_to_pass"):
        load_config("rlvr-tiny-cpu", ["rlvr.reward=passed"])
    with pytest.raises(ConfigError, match="rlvr.max_turns"):
        load_config("rlvr-tiny-cpu", ["rlvr.max_turns=0"])
    assert load_config("rlvr-tiny-cpu", ["rlvr.reward=fail_to_pass"]).rlvr.reward == "fail_to_pass"


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


COMMANDS = {"collect": "CollectConfig", "eval": "EvalConfig", "data": "DataBuildConfig",
            "synthesize": "SynthesizeConfig"}
REQUIRED = {"collect": {"collect.out": "o", "client.model": "m"}, "eval": {"eval.out": "o", "client.model": "m"},
            "data": {"build.out": "o", "build.tokenizer": "t"}, "synthesize": {"synthesize.out": "o"}}


def command_class(folder: str):
    import swe_srl.config.collect
    import swe_srl.config.data
    import swe_srl.config.evaluate
    import swe_srl.config.synthesize

    modules = {"collect": swe_srl.config.collect, "eval": swe_srl.config.evaluate, "data": swe_srl.config.data,
               "synthesize": swe_srl.config.synthesize}
    return getattr(modules[folder], COMMANDS[folder])


@pytest.mark.parametrize("folder", sorted(COMMANDS))
def test_every_command_has_presets_that_load_and_round_trip(folder):
    from swe_srl.config.loading import PRESETS_ROOT, from_dict, load, presets_in, to_dict

    cls = command_class(folder)
    names = presets_in(PRESETS_ROOT / folder)
    assert len(names) >= 2
    for name in names:
        config = load(cls, name, PRESETS_ROOT / folder, flags=REQUIRED[folder])
        assert isinstance(config, cls)
        assert from_dict(cls, to_dict(config)) == config  # the plain form is YAML and JSON writable and complete


def test_a_users_yaml_file_flags_and_overrides_apply_in_order(tmp_path):
    from swe_srl.config.evaluate import EvalConfig
    from swe_srl.config.loading import PRESETS_ROOT, load

    mine = tmp_path / "mine.yaml"
    mine.write_text("eval:\n  out: runs/e\n  workers: 3\nclient:\n  model: m\n  native_tools: on\n"
                    "prompt:\n  context_steps: all\n")
    config = load(EvalConfig, mine, PRESETS_ROOT / "eval", flags={"eval.workers": "5", "eval.settings": ["oracle"]},
                  overrides=["max_steps=7", "native_tools=off"])
    assert (config.eval.workers, config.eval.settings, config.eval.out.name) == (5, ("oracle",), "e")
    assert (config.agent.max_steps, config.client.native_tools, config.prompt.context_steps) == (7, "off", "all")


def test_command_config_errors_say_what_to_do(tmp_path):
    from swe_srl.config.collect import CollectConfig
    from swe_srl.config.evaluate import EvalConfig
    from swe_srl.config.loading import PRESETS_ROOT, load

    folder = PRESETS_ROOT / "eval"
    with pytest.raises(ConfigError, match=r"eval.out has no default: pass --out"):
        load(EvalConfig, None, folder, flags={"client.model": "m"}, flag_names={"eval.out": "--out"})
    with pytest.raises(ConfigError, match="eval needs a model: pass --model"):
        load(EvalConfig, None, folder, flags={"eval.out": "o"})
    with pytest.raises(ConfigError, match=r"--settings: expected one of end-to-end, oracle, got 'e2e'"):
        load(EvalConfig, None, folder, flags={"eval.out": "o", "client.model": "m", "eval.settings": ["e2e"]},
             flag_names={"eval.settings": "--settings"})
    with pytest.raises(ConfigError, match=r"expected a whole number or one of all or null, got 'some'"):
        load(EvalConfig, None, folder, flags={"eval.out": "o", "client.model": "m", "prompt.context_steps": "some"})
    with pytest.raises(ConfigError, match="teacher openai needs a model"):
        load(CollectConfig, None, PRESETS_ROOT / "collect", flags={"collect.out": "o", "collect.teacher": "openai"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("evaluation:\n  out: x\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown section 'evaluation' \(known: eval, client"):
        load(EvalConfig, bad, folder)
    with pytest.raises(ConfigError, match=r"neither a file nor a preset \(presets: swe-bench-verified, tiny-cpu\)"):
        load(EvalConfig, "tiny", folder)


def test_data_build_config_checks_the_prompt_recipe():
    from swe_srl.config.data import DataBuildConfig
    from swe_srl.config.loading import PRESETS_ROOT, load

    flags = {"build.out": "o", "build.tokenizer": "t"}
    config = load(DataBuildConfig, "all-context", PRESETS_ROOT / "data", flags=flags,
                  overrides=["stepwise.max_prompt_tokens=null"])
    assert config.stepwise.context_steps == "all" and config.stepwise.max_prompt_tokens is None
    with pytest.raises(ConfigError, match="context_steps must be a whole number >= 0 or 'all', got -1"):
        load(DataBuildConfig, None, PRESETS_ROOT / "data", flags={**flags, "stepwise.context_steps": "-1"})
