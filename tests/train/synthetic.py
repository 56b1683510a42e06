"""A synthetic step-wise dataset with a learnable mapping: the prompt names a file, the expert cats it."""

from __future__ import annotations

import random
from pathlib import Path

from swe_srl.actions import Action

FILES = ("setup.py", "README.md", "src/core.py", "tests/test_io.py")
SYSTEM = "You are a software engineer. Think, then act."


def messages(name: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Show me {name} please."}]


def target(name: str) -> str:
    return Action.bash(f"cat {name}").render()


def rows(n: int = 32, seed: int = 0) -> list[dict[str, object]]:
    """Step-wise rows in the dataset's layout (prompt messages, target action text, ids)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        name = FILES[i % len(FILES)] if i < len(FILES) else rng.choice(FILES)
        out.append({"prompt": messages(name), "target": target(name), "trajectory_id": f"synthetic-{i}", "step": 0})
    return out


def save_dataset(dest: Path, n: int = 32, seed: int = 0) -> Path:
    """Write the rows as a datasets.save_to_disk folder; returns ``dest``."""
    import datasets

    datasets.Dataset.from_list(rows(n, seed)).save_to_disk(str(dest))
    return dest


def format_only_pairs(n: int = 64, seed: int = 1) -> list[tuple[list[dict[str, str]], str]]:
    """SFT pairs that teach the output format but not the mapping: the file named is random."""
    rng = random.Random(seed)
    return [
        (messages(rng.choice(FILES)), f"<think>\nread it\n</think>\n{target(rng.choice(FILES))}")
        for _ in range(n)
    ]


def sft_steps(model, tokenizer, pairs: list[tuple[list[dict[str, str]], str]], *, steps: int, lr: float = 1e-3,
              batch_size: int = 16) -> list[float]:
    """Teach ``model`` the output format before RL: ``sft_on_rows`` on (messages, completion) ``pairs``,
    the completion being the assistant turn, its end-of-turn token included."""
    from swe_srl.train.sft_data import Conversation, encode_conversation

    rows = [encode_conversation(tokenizer, Conversation(
        tuple(messages) + ({"role": "assistant", "content": completion},), (False,) * len(messages) + (True,)))
        for messages, completion in pairs]
    return sft_on_rows(model, tokenizer.pad_token_id, rows, steps=steps, lr=lr, batch_size=batch_size)


def sft_on_rows(model, pad_id: int, rows, *, steps: int, lr: float, batch_size: int = 16, seed: int = 0) -> list[float]:
    """``steps`` AdamW steps on random batches of encoded ``rows`` (sft_data.Encoded); returns the losses, each
    the token mean over the batch's labelled tokens. Gradients are clipped to norm 1, as the SFT recipe does:
    unclipped, lr 1e-2 spikes the loss near step 100, and where the spike falls depends on the CPU's float
    kernels, so the warmed model did too."""
    import torch

    from swe_srl.recipes.train_sft import masked_nll
    from swe_srl.train.distributed import clip_gradients
    from swe_srl.train.sft_data import collate

    generator = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr)
    device = next(model.parameters()).device
    model.train()
    losses = []
    for _ in range(steps):
        picks = torch.randint(len(rows), (batch_size,), generator=generator).tolist()
        ids, attention, labels = (t.to(device) for t in collate([rows[i] for i in picks], pad_id))
        nll, count = masked_nll(model, ids, attention, labels)
        loss = nll / max(count, 1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip_gradients(params, 1.0)
        optimizer.step()
        losses.append(loss.item())
    return losses
