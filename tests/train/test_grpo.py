"""The SRL recipe end to end on CPU: exact resume, and learning from the reward.

The tiny model starts from random weights, which never emit the format (every reward -1, so
no group has signal). The fixtures therefore first train it openly with a short SFT on
*format-only* data: completions with the right shape but a file drawn at random, so the
prompt -> file mapping is not taught; the `weak` one stops early, leaving GRPO most of the
format to learn from the reward itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402

from swe_srl.config import load_config  # noqa: E402
from swe_srl.recipes.train_srl import run  # noqa: E402
from swe_srl.train.update import train_on_batch  # noqa: E402
from swe_srl.train.metrics import read_metrics  # noqa: E402
from swe_srl.train.tiny import tiny_model, tiny_tokenizer  # noqa: E402


@pytest.fixture(scope="module")
def warm(tmp_path_factory) -> Path:
    """Data and a format-warmed tiny model (module-wide: the SFT runs once)."""
    root = tmp_path_factory.mktemp("srl")
    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer, seed=0)
    losses = synthetic.sft_steps(model, tokenizer, synthetic.format_only_pairs(), steps=120, lr=1e-2, batch_size=16)
    assert losses[-1] < losses[0] / 10
    model.save_pretrained(root / "warm")
    tokenizer.save_pretrained(root / "warm")
    synthetic.save_dataset(root / "data")
    return root


@pytest.fixture(scope="module")
def weak(warm) -> Path:
    """A tiny model given only 45 format SFT steps: it still breaks the format ~95% of the time."""
    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer, seed=0)
    synthetic.sft_steps(model, tokenizer, synthetic.format_only_pairs(), steps=45, lr=1e-2, batch_size=16)
    model.save_pretrained(warm / "weak")
    tokenizer.save_pretrained(warm / "weak")
    return warm / "weak"


def config(root: Path, name: str, *extra: str):
    return load_config("tiny-cpu", [
        f"model.path={root / 'warm'}", f"data.path={root / 'data'}", f"output_dir={root / name}",
        "num_generations=4", "prompts_per_step=2", "max_new_tokens=32", "report_to=[]", *extra,
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
    assert (result.output_dir / "report.png").stat().st_size and (result.output_dir / "report.html").is_file()


def policy_score(model_dir: Path, samples: int = 8, seed: int = 1234) -> tuple[float, float]:
    """Mean reward and format-failure rate of a saved policy on every synthetic prompt.

    Sampled as in training (temperature 1) from a fixed seed, so a before/after comparison is
    not at the mercy of which prompts a training step happened to draw.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from swe_srl.reward import score_group
    from swe_srl.train.generate_hf import TransformersBackend
    from swe_srl.train.rollout import Sampling

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    rows = synthetic.rows()
    prompts = [
        tokenizer(tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True),
                  add_special_tokens=False)["input_ids"]
        for r in rows
    ]
    torch.manual_seed(seed)
    groups = TransformersBackend(model, tokenizer).generate(prompts, samples, Sampling(1.0, 1.0, 32))
    scores = [s for r, group in zip(rows, groups) for s in score_group([c.text for c in group], r["target"])]
    return sum(s.reward for s in scores) / len(scores), sum(not s.format_ok for s in scores) / len(scores)


@pytest.mark.slow
def test_grpo_learns_from_the_reward(warm, weak):
    """Reward up and format failures down, measured on the whole prompt set before and after.

    The policy starts from the weakly warmed model, so what it learns it learns from the reward:
    the -1 of a malformed reply against the similarity of a well-formed one. Measured (2026-12-03):
    reward -0.89 -> 0.01, format failures 0.94 -> 0.47. (The fully warmed model scores 0.83 already;
    the prompt -> file mapping itself is not learnt at this size, so exact match is not asserted.)
    """
    result = run(config(warm, "learn", f"model.path={weak}", "steps=40", "num_generations=8", "prompts_per_step=4",
                        "save_every=0", "lr=1e-3"))
    before_reward, before_failures = policy_score(weak)
    after_reward, after_failures = policy_score(result.final_model)
    print(f"reward {before_reward:.3f} -> {after_reward:.3f}; format failures {before_failures:.3f} -> {after_failures:.3f}")
    assert after_reward > before_reward + 0.1
    assert after_failures < before_failures - 0.05


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


def test_the_logged_loss_is_the_mean_over_the_optimizer_steps():
    """Two optimizer steps that leave the policy where it is (learning rate 0): each step's ratio is 1, so
    its loss is -sum(A * completion length) / its tokens, and the record shows the mean of the two."""
    import contextlib

    from swe_srl.config import GrpoConfig
    from swe_srl.train.batch import Learner
    from swe_srl.train.logprobs import CompletionLogprobs

    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer, seed=0)
    prompt = (5, 6, 7)
    completions = [(8, 9), (10,), (11, 12, 13), (14, 15, 16, 17)]  # steps: rows 0-1 (3 tokens), rows 2-3 (7)
    advantages = torch.tensor([1.0, -0.5, 0.25, -1.0])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    learner = Learner(model, lambda: contextlib.nullcontext(None), optimizer, scheduler,
                      CompletionLogprobs(torch.device("cpu"), tokenizer.pad_token_id, shared=False))
    stats = train_on_batch(learner, [(prompt, c) for c in completions], advantages,
                           GrpoConfig(updates_per_step=2, micro_batch_size=1, kl_beta=0.0, log_kl=False), max_grad_norm=1.0)
    first = -(1.0 * 2 - 0.5 * 1) / 3
    second = -(0.25 * 3 - 1.0 * 4) / 7
    assert stats.updates == 2
    assert stats.loss == pytest.approx((first + second) / 2, rel=1e-6)


def test_prompts_over_max_prompt_tokens_are_left_out_before_any_rollout_and_counted(warm):
    from transformers import AutoTokenizer

    from swe_srl.errors import ConfigError
    from swe_srl.reward import score_group

    tokenizer = AutoTokenizer.from_pretrained(warm / "warm")
    rows = synthetic.rows()
    length = {row["target"]: len(tokenizer(tokenizer.apply_chat_template(row["prompt"], tokenize=False,
                                                                         add_generation_prompt=True),
                                           add_special_tokens=False)["input_ids"]) for row in rows}
    limit = min(length.values())  # keeps the files with the shortest prompt, drops the others
    too_long = sum(length[row["target"]] > limit for row in rows)
    assert 0 < too_long < len(rows)
    targets = []

    def score(texts, target):
        targets.append(target)
        return score_group(texts, target)

    result = run(config(warm, "short-prompts", "steps=2", f"data.max_prompt_tokens={limit}"), score=score)
    assert targets and all(length[t] <= limit for t in targets)  # no rollout of a longer prompt
    assert [r["prompts_too_long"] for r in result.history] == [too_long, too_long]
    with pytest.raises(ConfigError, match="max_prompt_tokens"):
        run(config(warm, "no-prompts", "steps=1", f"data.max_prompt_tokens={limit - 1}"))
