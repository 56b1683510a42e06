"""The memory plan's arithmetic against what small Qwen2 models really hold on CPU.

Weights, gradients and AdamW state are compared byte for byte. Activations and the log-prob peak
are measured with torch's MemTracker (torch.distributed._tools.mem_tracker), which follows every
tensor the ops of a forward and backward create, on any device, and reports the live bytes by kind:
``ACT`` (tensors autograd keeps for backward, outputs) and ``TEMP`` (backward's temporaries).
"""

from __future__ import annotations

import json

import huggingface_hub.constants
import pytest
import torch
from torch.distributed._tools.mem_tracker import MemTracker

from swe_srl.cli import console, main
from swe_srl.config.loading import presets_in
from swe_srl.config.train import PRESETS_DIR, load_config
from swe_srl.errors import ConfigError
from swe_srl.train import memory_bytes as mb
from swe_srl.train import memory_plan as mp
from swe_srl.train.logprobs import LOGPROB_CHUNK, chunked_logprobs, packed_logprobs
from swe_srl.train.model_shape import model_shape, shape_from_config
from swe_srl.train.policy import load_policy
from swe_srl.train.run_setup import make_optimizer
from swe_srl.train.tiny import tiny_model, tiny_tokenizer

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


def _state_rows(config, shape, world_size: int = 1) -> dict[str, float]:
    return {row.name: row.bytes[0] for row in mp.training_state(config, shape, world_size)}


def _nbytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def _one_step(model) -> torch.optim.Optimizer:
    """A forward, backward and AdamW step, so gradients and optimizer state exist."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer, _ = make_optimizer(load_config("tiny-cpu").optim, params, 1, 0)
    ids = torch.randint(5, 200, (2, 24))
    model(input_ids=ids, labels=ids).loss.backward()
    optimizer.step()
    return optimizer


@pytest.mark.parametrize("dtype,lora", [("float32", False), ("bfloat16", False), ("bfloat16", True)])
def test_weights_gradients_and_adamw_state_are_counted_to_the_byte(tokenizer, dtype, lora):
    base = load_config("tiny-cpu", [f"model.dtype={dtype}", f"lora.enabled={str(lora).lower()}", "lora.r=4",
                                    "model.tiny_layers=3"])
    _, model = load_policy(base, CPU)
    optimizer = _one_step(model)
    inner = model.get_base_model() if lora else model
    shape = shape_from_config(inner.config.to_dict(), "tiny")
    planned = _state_rows(base, shape)

    assert planned["weights"] == _nbytes(model.parameters())
    assert planned["gradients"] == _nbytes(p.grad for p in model.parameters() if p.grad is not None)
    state = [t for per_param in optimizer.state.values() for t in per_param.values()]
    assert planned["optimizer (AdamW)"] == _nbytes(state)
    assert shape.parameters() == sum(p.numel() for name, p in inner.named_parameters() if "lora_" not in name)


def test_the_fsdp_shard_is_the_float32_state_over_the_ranks(tokenizer):
    shape = shape_from_config(tiny_model(tokenizer).config.to_dict(), "tiny")
    config = load_config("tiny-cpu", ["run.distributed=fsdp", "model.dtype=bfloat16"])
    rows = _state_rows(config, shape, world_size=4)
    assert rows["weights"] == rows["gradients"] == shape.parameters() * 4 / 4
    assert rows["optimizer (AdamW)"] == 2 * shape.parameters() + 4 * shape.tensors()


def _measured(step) -> tuple[int, int]:
    """(ACT bytes live right after ``step``'s forward, peak ACT + TEMP bytes over forward and backward)."""
    tracker = MemTracker()
    with tracker:
        output = step()
        after_forward = tracker.get_tracker_snapshot("current")[CPU]
        output.sum().backward()
    peak = tracker.get_tracker_snapshot("peak")[CPU]
    kinds = {str(kind).rsplit(".", 1)[-1]: value for kind, value in peak.items()}
    forward = {str(kind).rsplit(".", 1)[-1]: value for kind, value in after_forward.items()}
    return forward["ACT"], kinds["ACT"] + kinds["TEMP"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("checkpointing", [False, True])
def test_activations_of_a_packed_update_match_the_plan(tokenizer, dtype, checkpointing):
    """The real packed path (block mask, chunked head) over a prompt and four completions: the saved
    activations as the plan counts them, and the peak within 10%."""
    torch.manual_seed(0)
    model = tiny_model(tokenizer, hidden_size=64, num_layers=4).to(dtype).train()
    if checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
    shape = shape_from_config(model.config.to_dict(), "tiny")
    generator = torch.Generator().manual_seed(1)
    draw = lambda n: torch.randint(5, shape.vocab_size, (n,), generator=generator).tolist()  # noqa: E731
    prompt = draw(300)
    pairs = [(prompt, draw(150)) for _ in range(4)]
    tokens, positions = 300 + 4 * 150, 4 * 150

    saved, peak = _measured(lambda: packed_logprobs(model, pairs, CPU)[0])

    b = 4 if dtype == torch.float32 else 2
    planned_saved = mb.saved_activations(shape, b, tokens, checkpointing) + mb.saved_mask_bytes(shape, b, tokens,
                                                                                          checkpointing)
    planned_peak = mb.micro_batch_peak(shape, b, tokens, positions, checkpointing, packed=True)
    assert saved == pytest.approx(planned_saved, rel=0.05)
    assert planned_peak == pytest.approx(peak, rel=0.10)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_log_prob_peak_is_one_chunk_of_logits_whatever_the_positions(dtype):
    vocab, hidden = 4096, 32
    head = torch.nn.Linear(hidden, vocab, bias=False).to(dtype)
    for positions in (2 * LOGPROB_CHUNK, 4 * LOGPROB_CHUNK):
        states = torch.randn(positions, hidden, dtype=dtype, requires_grad=True)
        labels = torch.randint(0, vocab, (positions,))
        _, peak = _measured(lambda: chunked_logprobs(states, head, labels, LOGPROB_CHUNK))
        shape = shape_from_config({"hidden_size": hidden, "intermediate_size": 1, "num_hidden_layers": 1,
                                   "num_attention_heads": 1, "vocab_size": vocab}, "test")
        assert mb.logprob_peak(shape, positions) == pytest.approx(peak, rel=0.10)


def test_the_7b_shape_comes_from_the_bundled_table_offline_and_counts_7_6b_parameters(monkeypatch, tmp_path):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))  # empty: no config to read
    shape, source = model_shape("Qwen/Qwen2.5-Coder-7B-Instruct")
    assert "bundled table" in source
    assert shape.parameters() == 7_615_616_512  # Qwen2.5-7B's published count


def test_a_local_config_json_is_the_first_source(tokenizer, tmp_path):
    model = tiny_model(tokenizer)
    model.config.save_pretrained(tmp_path)
    shape, source = model_shape(str(tmp_path))
    assert source == str(tmp_path / "config.json")
    assert shape.parameters() == sum(p.numel() for p in model.parameters())


def test_lengths_come_from_the_dataset_summary_when_data_path_has_one(tmp_path):
    percentiles = {"p50": 2100, "p90": 6000, "p99": 9000, "max": 15000}
    (tmp_path / "summary.json").write_text(json.dumps({"prompt_tokens": percentiles}))
    (tmp_path / "dataset").mkdir()
    lengths = mp.data_lengths(load_config("qwen2.5-coder-7b", [f"data.path={tmp_path / 'dataset'}"]))
    assert dict(lengths.prompt) == percentiles
    assert str(tmp_path / "summary.json") in lengths.source
    capped = mp.data_lengths(load_config("qwen2.5-coder-7b", [f"data.path={tmp_path}", "data.max_prompt_tokens=8192"]))
    assert dict(capped.prompt) == {"p50": 2100, "p90": 6000, "p99": 8192, "max": 8192}


def test_without_a_summary_the_plan_says_it_used_the_budget():
    lengths = mp.data_lengths(load_config("qwen2.5-coder-7b", ["data.path=/nonexistent", "data.max_prompt_tokens=4096"]))
    assert dict(lengths.prompt) == {"budget": 4096}
    assert "no dataset summary" in lengths.source and "data.max_prompt_tokens" in lengths.source


@pytest.fixture
def wide_console(monkeypatch) -> None:
    monkeypatch.setattr(console, "width", 1000)


# The demo's presets leave model.path empty: the demo builds the model and sets it at run time.
NAMED = [name for name in presets_in(PRESETS_DIR) if load_config(name).model.path]
UNNAMED = [name for name in presets_in(PRESETS_DIR) if not load_config(name).model.path]


@pytest.mark.parametrize("preset", NAMED)
def test_every_bundled_preset_plans_and_prints_a_table(preset, capsys, wide_console, monkeypatch, tmp_path):
    """Offline (an empty hub cache): the 7B presets take their shape from the bundled table. The SRL presets
    fit their GPU; an SFT preset is planned as `train srl` would run it (its 64-prompt transformers rollouts)."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    code = main(["plan", "--config", preset])
    out = capsys.readouterr().out
    assert "update peak" in out and "rollout peak" in out and "H100 80GB" in out
    if not preset.startswith("sft-"):
        assert code == 0 and "does not fit" not in out


@pytest.mark.parametrize("preset", UNNAMED)
def test_a_preset_that_names_no_model_is_one_error_line(preset, capsys, wide_console, monkeypatch, tmp_path):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    assert main(["plan", "--config", preset]) == 2
    said = " ".join(capsys.readouterr().out.split())
    assert "model.path ''" in said and "Traceback" not in said


def test_full_fine_tuning_of_7b_beside_a_90_percent_vllm_share_is_refused_with_the_setting(capsys, wide_console):
    code = main(["plan", "--config", "qwen2.5-coder-7b-full", "run.distributed=none",
                 "rollout.vllm_gpu_memory_utilization=0.9", "--gpu", "80GB"])
    said = " ".join(capsys.readouterr().out.split())
    assert code == 2
    assert "does not fit" in said
    assert "error: rollouts need" in said and "lower rollout.vllm_gpu_memory_utilization to at most" in said


def test_the_update_names_the_setting_that_brings_it_down_and_a_141gb_gpu_takes_more():
    shape = model_shape("Qwen/Qwen2.5-Coder-7B-Instruct")
    plan = lambda overrides, gpu: mp.plan_run(  # noqa: E731
        load_config("qwen2.5-coder-7b", ["data.max_prompt_tokens=16384", *overrides]), world_size=1,
        gpu=mp.gpu_memory(gpu), shape=shape)
    unchecked = plan(["model.gradient_checkpointing=false"], "80GB")
    assert not unchecked.fits and unchecked.problems[0].endswith("set model.gradient_checkpointing=true")
    big_packs = plan(["grpo.pack_tokens=98304"], "80GB")
    assert not big_packs.fits and big_packs.problems[0].endswith("lower grpo.pack_tokens (now 98304)")
    assert plan(["grpo.pack_tokens=98304"], "H200").fits
    assert plan([], "80GB").fits  # the preset as shipped: one 80 GB GPU


def test_check_fits_names_the_setting_and_lets_a_fitting_plan_through():
    config = load_config("tiny-cpu", ["data.max_prompt_tokens=2048"])
    assert mp.check_fits(config, world_size=1, gpu=mp.gpu_memory("80GB")).fits
    with pytest.raises(ConfigError, match="swe-srl plan"):
        mp.check_fits(config, world_size=1, gpu=("a small GPU", 2**30))


def test_an_unknown_gpu_name_says_what_it_takes():
    with pytest.raises(ConfigError, match="H100, H200"):
        mp.gpu_memory("RTX")
    assert mp.gpu_memory("96GiB") == ("96 GiB", 96 * 2**30)


def test_train_srl_refuses_at_start_on_a_gpu_too_small_for_its_plan(monkeypatch, tmp_path):
    """On a GPU (here a CPU run told it has one of 4 GiB: the device query is the only stand-in) the recipe
    plans before loading anything and stops with the setting to change."""
    from types import SimpleNamespace

    from swe_srl.recipes import train_srl

    monkeypatch.setattr(train_srl, "begin_run", lambda config: (train_srl.World(), torch.device("cuda"), tmp_path))
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda device: SimpleNamespace(name="a 4 GiB GPU", total_memory=4 * 2**30))
    loaded = []
    monkeypatch.setattr(train_srl, "load_policy", lambda *a, **k: loaded.append(a))
    config = load_config("qwen2.5-coder-7b", ["data.max_prompt_tokens=4096"])
    with pytest.raises(ConfigError, match=r"a 4 GiB GPU .*: use a larger GPU or a smaller model \(model.path\)"):
        train_srl.run(config)
    with pytest.raises(ConfigError, match=r"set lora.enabled=true, or shard over more GPUs \(run.distributed=fsdp\)"):
        train_srl.run(load_config("qwen2.5-coder-7b-full", ["data.max_prompt_tokens=4096", "run.distributed=none"]))
    assert not loaded


def test_a_config_in_the_hub_cache_comes_before_the_bundled_table(tokenizer, monkeypatch, tmp_path):
    """The hub's cache layout (refs/main naming a snapshot folder), as a download leaves it."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--Qwen--Qwen2.5-Coder-7B-Instruct"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    model = tiny_model(tokenizer)
    model.config.save_pretrained(repo / "snapshots" / ("0" * 40))
    shape, source = model_shape("Qwen/Qwen2.5-Coder-7B-Instruct")
    assert source.endswith("(hub cache)")
    assert shape.parameters() == sum(p.numel() for p in model.parameters())
