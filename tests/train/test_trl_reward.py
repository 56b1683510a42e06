"""swe-srl's reward in TRL: srl_reward has the reward_funcs signature, and GRPOTrainer trains with it."""

from __future__ import annotations

import pytest

from swe_srl.reward import FORMAT_PENALTY, srl_reward

EXPERT = "<function=bash>\n<parameter=command>ls</parameter>\n</function>"


def test_srl_reward_scores_text_and_conversational_completions():
    good = f"<think>look around</think>\n{EXPERT}"
    rewards = srl_reward([good, [{"role": "assistant", "content": good}], "no action here"],
                         target=[EXPERT] * 3, prompts=["p"] * 3, completion_ids=[[1]] * 3)
    assert rewards[:2] == [1.0, 1.0] and rewards[2] == FORMAT_PENALTY


def test_grpo_trainer_takes_a_step_with_it(tmp_path):
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")
    from swe_srl.train.tiny import tiny_model, tiny_tokenizer

    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer)
    rows = [{"prompt": f"Task {i}: list the files.\n", "target": EXPERT} for i in range(4)]
    seen: list[list[float]] = []

    def scored(completions, **columns):
        rewards = srl_reward(completions, **columns)
        seen.append(rewards)
        return rewards

    config = trl.GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4,
                            max_completion_length=16, max_steps=1, learning_rate=1e-4, beta=0.0, use_vllm=False,
                            report_to=[], save_strategy="no", use_cpu=True, logging_steps=1, seed=0)
    trainer = trl.GRPOTrainer(model=model, reward_funcs=scored, args=config, processing_class=tokenizer,
                              train_dataset=datasets.Dataset.from_list(rows))
    trainer.train()
    assert trainer.state.global_step == 1
    assert seen and all(len(batch) == 4 and all(-1.0 <= r <= 1.0 for r in batch) for batch in seen)
