"""Where evaluation tasks come from: SWE-bench Verified (Hugging Face, at a pinned revision), the bundled tasks, or a file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from swe_srl.errors import ConfigError, DataError
from swe_srl.tasks.task import Task

SWE_BENCH_VERIFIED = "swe-bench-verified"
BUNDLED = "bundled"
HF_NAMES = {SWE_BENCH_VERIFIED: "SWE-bench/SWE-bench_Verified"}


@dataclass(frozen=True)
class EvalDataset:
    """The tasks of one evaluation, and exactly which data they are (written into the report)."""

    name: str  # the hub dataset, "bundled", or the task file's path
    revision: str  # the hub commit; for a file, "sha256:" and its content hash; "" for the bundled tasks
    tasks: tuple[Task, ...]  # in dataset order


def load_eval_tasks(dataset: str, *, revision: str = "", split: str = "test") -> EvalDataset:
    """Tasks for ``dataset``: a known name (swe-bench-verified, bundled) or a task file.

    A hub dataset loads at ``revision`` (a commit sha), so two evaluations months apart grade
    the same rows; without one it is refused.
    """
    if dataset == BUNDLED:
        from swe_srl.tasks.bundled import bundled_tasks

        return EvalDataset(BUNDLED, "", tuple(bundled_tasks()))
    if dataset in HF_NAMES:
        if not revision:
            raise ConfigError(f"--dataset {dataset} needs --revision: the commit sha of {HF_NAMES[dataset]} to load "
                              "(on the hub, the dataset's \"Files and versions\" history; pinned so that every "
                              "evaluation grades the same rows)")
        return EvalDataset(HF_NAMES[dataset], revision, tuple(load_hf_tasks(HF_NAMES[dataset], revision, split=split)))
    path = Path(dataset)
    if not path.exists():
        raise ConfigError(f"dataset {dataset!r} is neither a known name ({', '.join([BUNDLED, *HF_NAMES])}) nor a file")
    from swe_srl.tasks.load import load_tasks

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else ""
    return EvalDataset(str(path), f"sha256:{digest}" if digest else "", tuple(load_tasks(path)))


def load_hf_tasks(name: str, revision: str, *, split: str = "test") -> list[Task]:
    """Rows of a Hugging Face dataset at ``revision`` as Tasks (needs the network, or the dataset in the HF cache).

    Rows carry the official instance image, eval script and log parser in swebench 5's dataset
    format; rows without them load, and the row check before any work names the missing field.
    """
    try:
        from datasets import load_dataset

        rows = load_dataset(name, split=split, revision=revision)
    except Exception as err:  # datasets raises many kinds when offline or the name is wrong
        raise ConfigError(f"could not load {name} ({split}) at revision {revision} from Hugging Face: {err}; "
                          "give a task file (JSON, JSONL, parquet) instead") from None
    tasks = []
    for number, row in enumerate(rows, start=1):
        tasks.append(Task.from_row(dict(row), source=f"{name}@{revision}:{split}", line=number))
    if not tasks:
        raise DataError("no rows", source=f"{name}@{revision}:{split}")
    return tasks
