"""The vLLM rollout backend without a GPU: a stand-in ``vllm`` (tests/train/vllm_standin, vLLM 0.33.0's
signatures and checks, no engine) drives the real VllmBackend and the real SRL trainer."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402

from swe_srl.config import load_config  # noqa: E402
from swe_srl.errors import ConfigError  # noqa: E402
from swe_srl.recipes.train_srl import run  # noqa: E402
from swe_srl.train.distributed import World  # noqa: E402
from swe_srl.train.generate_vllm import TESTED_VLLM, VllmBackend, max_lora_rank  # noqa: E402
from swe_srl.train.rollout import Sampling, prompt_budget  # noqa: E402
from swe_srl.train.tiny import tiny_model, tiny_tokenizer  # noqa: E402

STANDIN = Path(__file__).resolve().parent / "vllm_standin"
ROOT = Path(__file__).resolve().parents[2]
NEW_TOKENS = 8


@pytest.fixture
def vllm(monkeypatch):
    """The stand-in imported as ``vllm``, with vLLM's default of an engine core in its own process."""
    monkeypatch.syspath_prepend(str(STANDIN))
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "1")
    import vllm as standin

    assert Path(standin.__file__).is_relative_to(STANDIN)
    yield standin
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        del sys.modules[name]


def settings(tmp_path: Path, *extra: str):
    return load_config("tiny-cpu", [
        "rollout.backend=vllm", f"output_dir={tmp_path / 'run'}", f"max_new_tokens={NEW_TOKENS}",
        "num_generations=2", "prompts_per_step=2", "grpo.dynamic_sampling=false", "report_to=[]",
        f"data.path={synthetic.save_dataset(tmp_path / 'data')}", *extra,
    ])


def prompt_lengths() -> list[int]:
    tokenizer = tiny_tokenizer()
    return [len(tokenizer(tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True),
                          add_special_tokens=False)["input_ids"]) for row in synthetic.rows()]


# --- fault 1: the engine's length and over-long prompts

def test_the_engine_is_as_long_as_the_prompt_budget_plus_max_new_tokens(vllm, tmp_path):
    VllmBackend(settings(tmp_path, "data.max_prompt_tokens=100"), tiny_tokenizer())
    assert vllm.LLM.last.kwargs["max_model_len"] == 100 + NEW_TOKENS
    with pytest.raises(ConfigError, match="data.max_prompt_tokens"):
        VllmBackend(settings(tmp_path), tiny_tokenizer())  # no budget and no length: nothing to size it by


def test_the_prompt_budget_leaves_room_for_a_whole_completion_in_a_set_engine_length(tmp_path):
    assert prompt_budget(settings(tmp_path, "vllm_max_model_len=100", "data.max_prompt_tokens=50")) == 50
    assert prompt_budget(settings(tmp_path, "vllm_max_model_len=100")) == 100 - NEW_TOKENS
    assert prompt_budget(settings(tmp_path, "backend=transformers")) == 0  # any prompt
    with pytest.raises(ConfigError, match="vllm_max_model_len"):
        prompt_budget(settings(tmp_path, f"vllm_max_model_len={NEW_TOKENS}"))


def test_prompts_the_engine_cannot_take_never_reach_it_and_are_counted(vllm, tmp_path):
    lengths = prompt_lengths()
    engine = min(lengths) + NEW_TOKENS  # room for the shortest prompts only
    too_long = sum(n > min(lengths) for n in lengths)
    assert 0 < too_long < len(lengths)
    result = run(settings(tmp_path, f"vllm_max_model_len={engine}", "steps=2"))
    llm = vllm.LLM.last
    assert llm.kwargs["max_model_len"] == engine
    assert llm.prompts and max(map(len, llm.prompts)) == engine - NEW_TOKENS
    assert [r["prompts_too_long"] for r in result.history] == [too_long, too_long]


# --- fault 2: LoRA adapters on disk, and the ranks vLLM accepts

@pytest.mark.parametrize(("r", "rank"), [(1, 1), (4, 8), (12, 16), (64, 64), (300, 320)])
def test_max_lora_rank_is_rounded_up_to_one_vllm_accepts(r, rank):
    assert max_lora_rank(r) == rank


def test_max_lora_rank_over_vllms_largest_is_refused():
    with pytest.raises(ConfigError, match="lora.r=513"):
        max_lora_rank(513)


def test_lora_adapters_live_under_the_run_one_version_at_a_time_and_go_at_the_end(vllm, tmp_path):
    adapters = tmp_path / "run" / "rollout-adapter-rank0"
    on_disk: list[list[str]] = []
    run(settings(tmp_path, "lora.enabled=true", "r=12", "alpha=24", "target_modules=[q_proj, v_proj]", "steps=3",
                 "data.max_prompt_tokens=4096"),
        on_step=lambda record: on_disk.append(sorted(p.name for p in adapters.iterdir())))
    llm = vllm.LLM.last
    assert llm.kwargs["max_lora_rank"] == 16
    assert on_disk == [["v1"], ["v2"], ["v3"]]  # after each step's sync, only the live version
    assert llm.loras == {1: str(adapters / "v1"), 2: str(adapters / "v2")}  # steps 2 and 3 sampled the new adapters
    assert not adapters.exists()


# --- fault 3: full weights reach the engine in every launch shape

def test_full_weights_reach_the_in_process_engine_after_every_step(vllm, tmp_path):
    from safetensors.torch import load_file

    result = run(settings(tmp_path, "steps=2", "data.max_prompt_tokens=4096", "vllm_sleep=false"))
    llm = vllm.LLM.last
    assert llm.llm_engine.in_process
    assert llm.calls == ["generate", "collective_rpc:reload_weights", "reset_prefix_cache"] * 2
    final = load_file(result.final_model / "model.safetensors")
    assert final and all(torch.equal(llm.worker.weights[name], tensor) for name, tensor in final.items())


# --- sleep mode: the engine's memory goes to the update, once per step

def test_full_fine_tuning_sleeps_at_level_2_and_pushes_weights_before_the_kv_cache_returns(vllm, tmp_path):
    result = run(settings(tmp_path, "steps=2", "data.max_prompt_tokens=4096"))
    llm = vllm.LLM.last
    assert llm.kwargs["enable_sleep_mode"] is True
    assert llm.calls == ["generate", "reset_prefix_cache", "sleep:2", "wake_up:weights", "collective_rpc:reload_weights",
                         "wake_up:kv_cache", "reset_prefix_cache"] * 2
    assert not llm.asleep and not llm.weights_lost and result.steps == 2


def test_lora_sleeps_at_level_1_and_wakes_whole_for_the_new_adapter(vllm, tmp_path):
    run(settings(tmp_path, "lora.enabled=true", "r=8", "alpha=16", "target_modules=[q_proj, v_proj]", "steps=2",
                 "data.max_prompt_tokens=4096"))
    llm = vllm.LLM.last
    assert llm.calls == ["generate", "reset_prefix_cache", "sleep:1", "wake_up:weights,kv_cache"] * 2


def test_the_standin_refuses_to_sample_from_weights_a_level_2_sleep_dropped(vllm, tmp_path):
    """What the order above guards against: waking without pushing weights samples garbage."""
    backend = VllmBackend(settings(tmp_path, "data.max_prompt_tokens=100"), tiny_tokenizer())
    llm = vllm.LLM.last
    backend.pause()
    llm.wake_up()
    with pytest.raises(RuntimeError, match="weights discarded"):
        backend.generate([[1, 2, 3]], 1, Sampling(max_new_tokens=2))
    backend.sync_weights(tiny_model(tiny_tokenizer(), seed=0))
    assert backend.generate([[1, 2, 3]], 1, Sampling(max_new_tokens=2))


def test_an_fsdp_rank_runs_its_engine_under_the_external_launcher(vllm, tmp_path):
    backend = VllmBackend(settings(tmp_path, "data.max_prompt_tokens=100"), tiny_tokenizer(), World(rank=1, size=2))
    llm = vllm.LLM.last
    assert llm.kwargs["distributed_executor_backend"] == "external_launcher" and llm.seed == 1
    model = tiny_model(tiny_tokenizer(), seed=0)
    backend.sync_weights(model)
    assert llm.worker.weights.keys() == model.state_dict().keys()


# --- fault 4: completions are the sampled tokens

def test_completions_are_the_sampled_tokens_with_nothing_appended(vllm, tmp_path, monkeypatch):
    tokenizer = tiny_tokenizer()
    end_of_text = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert end_of_text != tokenizer.eos_token_id  # a stop token other than the tokenizer's eos, as Qwen's
    monkeypatch.setattr(vllm.LLM, "reply", (7, 8, end_of_text))
    backend = VllmBackend(settings(tmp_path, "data.max_prompt_tokens=100"), tokenizer)
    [[stopped]] = backend.generate([(1, 2, 3)], 1, Sampling(max_new_tokens=NEW_TOKENS))
    assert stopped.token_ids == (7, 8, end_of_text) and stopped.finished
    [[cut]] = backend.generate([(1, 2, 3)], 1, Sampling(max_new_tokens=2))
    assert cut.token_ids == (7, 8) and not cut.finished


# --- fault 5: the tested version range

def test_a_vllm_outside_the_tested_range_is_refused_naming_the_range(vllm, tmp_path, monkeypatch):
    monkeypatch.setattr(vllm, "__version__", "0.8.5")
    with pytest.raises(ConfigError, match=r"vLLM 0\.8\.5 is installed.*0\.33\.x"):
        VllmBackend(settings(tmp_path, "data.max_prompt_tokens=100"), tiny_tokenizer())
    assert vllm.LLM.last is None  # refused before an engine is built


def test_the_vllm_extra_pins_the_tested_range():
    major, minor = TESTED_VLLM
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["vllm"] == [f"vllm>={major}.{minor},<{major}.{minor + 1}"]
    assert f"vLLM {major}.{minor}" in (ROOT / "README.md").read_text()


# --- RLVR drives the same engine: one call per turn across episodes, the same sleep and weight push per step

def test_rlvr_asks_the_engine_once_per_turn_for_every_live_episode(vllm, tmp_path):
    from swe_srl.recipes.train_rlvr import run as run_rlvr
    from tests.jobs.key_world import KeyWorld, key_task

    config = load_config("rlvr-tiny-cpu", [
        "rollout.backend=vllm", f"output_dir={tmp_path / 'rlvr'}", f"max_new_tokens={NEW_TOKENS}", "run.steps=1",
        "num_generations=3", "prompts_per_step=2", "grpo.dynamic_sampling=false", "report_to=[]", "rlvr.max_turns=2"])
    result = run_rlvr(config, environment=KeyWorld(), tasks=[key_task(0), key_task(1)])
    llm = vllm.LLM.last
    assert llm.kwargs["enable_prefix_caching"] is True
    assert llm.kwargs["max_model_len"] == 16384 + NEW_TOKENS  # the prompt recipe's budget plus a whole completion
    assert llm.calls == ["generate", "generate", "reset_prefix_cache", "sleep:2", "wake_up:weights",
                         "collective_rpc:reload_weights", "wake_up:kv_cache", "reset_prefix_cache"]
    assert len(llm.prompts) == 2 * 3 * 2  # two turns of six episodes, six prompts per call
    assert result.history[0]["rows"] == 12 and result.history[0]["episodes"] == 6
