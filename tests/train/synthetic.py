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
