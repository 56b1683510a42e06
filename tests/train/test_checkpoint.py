"""Checkpoints written before runs could be distributed still resume."""

from __future__ import annotations

import torch

from swe_srl.train.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from swe_srl.train.tiny import tiny_model, tiny_tokenizer


def test_a_checkpoint_in_the_single_process_layout_resumes(tmp_path):
    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer, seed=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    model(input_ids=torch.tensor([[5, 6, 7]]), labels=torch.tensor([[5, 6, 7]])).loss.backward()
    optimizer.step()
    path = save_checkpoint(tmp_path, 1, TrainingState(model, tokenizer, optimizer, scheduler), trainer_state={"data": {}})
    # The older layout: one RNG state, not one per rank, and the optimizer inside state.pt.
    state = torch.load(path / "state.pt", weights_only=False)
    torch.save({"scheduler": state["scheduler"], "rng": state["rng"][0],
                "optimizer": torch.load(path / "optimizer.pt", weights_only=False)}, path / "state.pt")
    (path / "optimizer.pt").unlink()

    fresh = tiny_model(tokenizer, seed=1)
    fresh_optimizer = torch.optim.AdamW(fresh.parameters(), lr=1e-3)
    fresh_scheduler = torch.optim.lr_scheduler.LambdaLR(fresh_optimizer, lambda _: 1.0)
    assert load_checkpoint(path, TrainingState(fresh, tokenizer, fresh_optimizer, fresh_scheduler))["step"] == 1
    for (name, a), b in zip(model.named_parameters(), fresh.parameters()):
        assert torch.equal(a, b), name
    assert torch.equal(optimizer.state_dict()["state"][0]["exp_avg"], fresh_optimizer.state_dict()["state"][0]["exp_avg"])
