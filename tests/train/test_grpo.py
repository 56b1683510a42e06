"""The SRL recipe end to end on CPU: exact resume, and learning on a synthetic mapping.

The tiny model starts from random weights, which never emit the format (every reward -1, so
no group has signal). The fixture therefore first trains it openly with a short SFT on
*format-only* data: completions with the right shape but a file drawn at random, so the
prompt -> file mapping that GRPO is then asked to learn is not taught.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402

from swe_srl.config import load_config  # noqa: E402
from swe_srl.train.grpo import run  # noqa: E402
from swe_srl.train.metrics import read_metrics  # noqa: E402
from swe_srl.train.sft import sft_steps  # noqa: E402
from swe_srl.train.tiny import tiny_model, tiny_tokenizer  # noqa: E402


@pytest.fixture(scope="module")
def warm(tmp_path_factory) -> Path:
    """Data and a format-warmed tiny model (module-wide: the SFT runs once)."""
    root = tmp_path_factory.mktemp("srl")
    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer, seed=0)
    losses = sft_steps(model, tokenizer, synthetic.format_only_pairs(), steps=120, lr=1e-2, batch_size=16)
    assert losses[-1] < losses[0] / 10
    model.save_pretrained(root / "warm")
    tokenizer.save_pretrained(root / "warm")
    synthetic.save_dataset(root / "data")
    return root


def config(root: Path, name: str, *extra: str):
    return load_config("tiny-cpu", [
        f"model.path={root / 'warm'}", f"data.path={root / 'data'}", f"output_dir={root / name}",
        "num_generations=4", "prompts_per_step=2", "max_new_tokens=32", "tensorboard=false", *extra,
    ])


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(run_dir / "final" / "model.safetensors"))


class Killed(Exception):
    pass


def test_resume_after_a_kill_ends_with_the_same_parameters(warm):
    straight = run(config(warm, "straight", "steps=4", "save_every=2"))
    assert straight.steps == 4

    def die_after_step_3(record):
        if record["step"] == 3:
            raise Killed  # dies after step 3 was trained but before it was checkpointed

    with pytest.raises(Killed):
        run(config(warm, "resumed", "steps=4", "save_every=2"), on_step=die_after_step_3)
    assert not (warm / "resumed" / "final").exists()
    resumed = run(config(warm, "resumed", "steps=4", "save_every=2", "resume=true"))
    assert [r["step"] for r in resumed.history] == [3, 4]  # continued from checkpoint-2

    a, b = final_weights(warm / "straight"), final_weights(warm / "resumed")
    assert a.keys() == b.keys()
    initial = final_weights_of_warm(warm)
    assert any(not torch.equal(a[k], initial[k]) for k in a)  # training really moved the weights
    for key in a:
        assert torch.equal(a[key], b[key]), key
    steps = [r["step"] for r in read_metrics(warm / "resumed")]
    assert steps == [1, 2, 3, 4]  # the log was cut back to the checkpoint, not duplicated
    assert read_metrics(warm / "resumed")[-1]["reward_mean"] == read_metrics(warm / "straight")[-1]["reward_mean"]


def final_weights_of_warm(root: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(root / "warm" / "model.safetensors"))


def test_metrics_record_fields(warm):
    result = run(config(warm, "fields", "steps=1", "log_kl=true"))
    (record,) = result.history
    for key in ("reward_mean", "reward_std", "format_failure_rate", "fraction_dropped", "kl", "completion_length",
                "rollout_tokens_per_s", "exact_match_rate"):
        assert record[key] is not None, key
    assert -1.0 <= record["reward_mean"] <= 1.0
    assert record["kl"] >= 0.0
    assert (result.final_model / "config.json").exists()


@pytest.mark.slow
def test_grpo_learns_the_mapping(warm):
    result = run(config(warm, "learn", "steps=40", "num_generations=8", "prompts_per_step=4", "save_every=0",
                        "lr=1e-3"))
    history = result.history
    first = history[:5]
    last = history[-5:]
    mean = lambda rows, key: sum(r[key] for r in rows) / len(rows)  # noqa: E731
    start_reward, end_reward = mean(first, "reward_mean"), mean(last, "reward_mean")
    start_exact, end_exact = mean(first, "exact_match_rate"), mean(last, "exact_match_rate")
    print(f"reward {start_reward:.3f} -> {end_reward:.3f}; exact {start_exact:.3f} -> {end_exact:.3f}; "
          f"format failures {mean(first, 'format_failure_rate'):.3f} -> {mean(last, 'format_failure_rate'):.3f}")
    # Measured (CPU, seed 0, 40 steps): reward 0.53 -> 0.80 and 0.29 -> 0.77, format failures 0.20 -> 0.07 and
    # 0.33 -> 0.09, exact match 0.14 -> 0.15 and 0.14 -> 0.09. The gain is the format and the action's shape;
    # the prompt->file mapping itself is not learnt at this size, so exact match is printed, not asserted.
    assert end_reward > start_reward + 0.1
    assert mean(last, "format_failure_rate") < mean(first, "format_failure_rate")


def test_lora_run_trains_adapters_and_uses_the_base_as_reference(warm):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    result = run(config(warm, "lora", "steps=1", "lora.enabled=true", "r=4", "alpha=8",
                        "target_modules=[q_proj, v_proj]", "log_kl=true", "lr=1e-2"))
    (record,) = result.history
    assert record["kl"] >= 0.0  # measured against the same module with adapters disabled
    assert (result.final_model / "adapter_config.json").exists()
    base = AutoModelForCausalLM.from_pretrained(warm / "warm")
    loaded = PeftModel.from_pretrained(base, result.final_model)
    assert any("lora_" in name for name, _ in loaded.named_parameters())
