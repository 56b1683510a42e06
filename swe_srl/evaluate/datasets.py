"""Where evaluation tasks come from: SWE-bench Verified (Hugging Face), the bundled tasks, or a file."""

from __future__ import annotations

from pathlib import Path

from swe_srl.errors import ConfigError, DataError
from swe_srl.tasks.task import Task

SWE_BENCH_VERIFIED = "swe-bench-verified"
BUNDLED = "bundled"
HF_NAMES = {SWE_BENCH_VERIFIED: "SWE-bench/SWE-bench_Verified"}


def load_eval_tasks(dataset: str, *, split: str = "test") -> list[Task]:
    """Tasks for ``dataset``: a known name (swe-bench-verified, bundled) or a task file."""
    if dataset == BUNDLED:
        from swe_srl.tasks.bundled import bundled_tasks

        return bundled_tasks()
    if dataset in HF_NAMES:
        return load_hf_tasks(HF_NAMES[dataset], split=split)
    path = Path(dataset)
    if not path.exists():
        raise ConfigError(f"dataset {dataset!r} is neither a known name ({', '.join([BUNDLED, *HF_NAMES])}) nor a file")
    from swe_srl.tasks.load import load_tasks

    return load_tasks(path)


def load_hf_tasks(name: str, *, split: str = "test") -> list[Task]:
    """Rows of a Hugging Face dataset as Tasks (needs the network, or the dataset in the HF cache).

    Rows carry the official instance image, eval script and log parser in swebench 5's dataset
    format; rows without them load, and grading then names the missing field.
    """
    try:
        from datasets import load_dataset

        rows = load_dataset(name, split=split)
    except Exception as err:  # datasets raises many kinds when offline or the name is wrong
        raise ConfigError(f"could not load {name} ({split}) from Hugging Face: {err}; "
                          "give a task file (JSON, JSONL, parquet) instead") from None
    tasks = []
    for number, row in enumerate(rows):
        tasks.append(Task.from_row(dict(row), source=f"{name}:{split}", line=number))
    if not tasks:
        raise DataError("no rows", source=f"{name}:{split}")
    return tasks
