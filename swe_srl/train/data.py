"""Step-wise examples for training: loading them, their prompts in tokens, and a resumable, reshuffling stream."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from swe_srl.config import DataConfig
from swe_srl.errors import ConfigError, DataError


SAVED_DATASET_FILES = ("dataset_info.json", "dataset_dict.json")  # what `save_to_disk` writes (a split, or several)
EXAMPLE_SUFFIXES = (".jsonl", ".json", ".parquet")


def dataset_path(config: DataConfig) -> Path:
    """Where the step-wise dataset of ``data.path`` is (a ``data build`` output, a saved dataset, a file),
    checked before any model loads; ConfigError saying what is there instead and what to give."""
    path = Path(config.path)
    what_to_give = ("give the --out folder of `swe-srl data build` (or its dataset/), or a .jsonl or .parquet "
                    "file of examples")
    if not config.path or not path.exists():
        raise ConfigError(f"data.path '{config.path}' does not exist; {what_to_give}")
    if path.is_dir() and (path / "dataset").is_dir():  # the folder `swe-srl data build --out` wrote
        path = path / "dataset"
    if path.is_dir() and not any((path / name).is_file() for name in SAVED_DATASET_FILES):
        raise ConfigError(f"data.path '{config.path}': {path} is a folder but not a saved dataset (no "
                          f"{' or '.join(SAVED_DATASET_FILES)}); {what_to_give}")
    if path.is_file() and path.suffix not in EXAMPLE_SUFFIXES:
        raise ConfigError(f"data.path '{config.path}' is a {path.suffix or 'suffix-less'} file; {what_to_give}")
    return path


def load_examples(config: DataConfig) -> Any:
    """The step-wise dataset as a ``datasets.Dataset`` (save_to_disk folder, JSONL or parquet)."""
    import datasets

    path = dataset_path(config)
    if path.is_dir():
        loaded = datasets.load_from_disk(str(path))
        if isinstance(loaded, datasets.DatasetDict):
            if config.split not in loaded:
                raise ConfigError(f"{path}: no split '{config.split}' (has {', '.join(loaded)})")
            loaded = loaded[config.split]
    else:
        kind = "parquet" if path.suffix == ".parquet" else "json"
        loaded = datasets.load_dataset(kind, data_files=str(path), split="train")
    for column in (config.prompt_column, config.target_column):
        if column not in loaded.column_names:
            raise DataError(f"missing column (has {', '.join(loaded.column_names)})", source=str(path), field=column)
    if len(loaded) == 0:
        raise DataError("the dataset is empty", source=str(path))
    return loaded


def chat_prompt_ids(tokenizer: Any, messages: Sequence[Mapping[str, str]], prefix: str) -> tuple[int, ...]:
    """The ids a policy reads for ``messages`` ({role, content} each): its chat template, the opened
    assistant turn, then ``prefix`` (rollout.response_prefix). SRL prompts and RLVR turns both come from here."""
    chat = [{"role": m["role"], "content": m["content"]} for m in messages]
    text = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    return tuple(tokenizer(text + prefix, add_special_tokens=False)["input_ids"])


class PromptSet:
    """The examples SRL samples from, each prompt as the model reads it: chat template, generation
    prompt and ``prefix`` (rollout.response_prefix), in token ids.

    With ``max_tokens`` above 0 (swe_srl.train.rollout.prompt_budget: ``data.max_prompt_tokens``, less
    under vLLM when the engine is shorter), examples whose prompt is longer are left out before any
    rollout, and ``dropped`` counts them; ``examples`` lists the kept ones' dataset indices.
    """

    def __init__(self, dataset: Any, tokenizer: Any, data: DataConfig, prefix: str, max_tokens: int) -> None:
        self.dataset, self.tokenizer, self.data, self.prefix = dataset, tokenizer, data, prefix
        self.examples: list[int] = list(range(len(dataset)))
        if max_tokens > 0:
            lengths = [len(self.prompt_ids(i)) for i in self.examples]
            self.examples = [i for i, n in zip(self.examples, lengths) if n <= max_tokens]
            if not self.examples:
                raise ConfigError(f"a prompt budget of {max_tokens} tokens (data.max_prompt_tokens, or what "
                                  f"rollout.vllm_max_model_len leaves beside max_new_tokens) leaves none of the "
                                  f"{len(lengths)} examples of {data.path} (the shortest prompt has {min(lengths)} "
                                  "tokens): raise it, or set data.max_prompt_tokens=0 to keep every prompt")
        self.dropped = len(dataset) - len(self.examples)

    def prompt_ids(self, index: int) -> tuple[int, ...]:
        """Token ids of the prompt of example ``index`` (a dataset index)."""
        return chat_prompt_ids(self.tokenizer, self.dataset[index][self.data.prompt_column], self.prefix)

    def target(self, index: int) -> str:
        """The expert's action of example ``index``, which completions are scored against."""
        return self.dataset[index][self.data.target_column]


@dataclass
class PromptStream:
    """Example indices in a per-epoch shuffled order; ``state()`` / ``load_state()`` resume it exactly."""

    size: int
    seed: int = 0
    shuffle: bool = True
    epoch: int = 0
    position: int = 0

    def _order(self) -> list[int]:
        order = list(range(self.size))
        if self.shuffle:
            random.Random(self.seed * 1_000_003 + self.epoch).shuffle(order)
        return order

    def take(self, k: int) -> list[int]:
        """The next ``k`` indices, rolling into a freshly shuffled epoch when one ends."""
        out: list[int] = []
        order = self._order()
        while len(out) < k:
            if self.position >= self.size:
                self.epoch += 1
                self.position = 0
                order = self._order()
            out.append(order[self.position])
            self.position += 1
        return out

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state(self, state: dict[str, int]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
