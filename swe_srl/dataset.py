"""Build the step-wise SRL dataset from our JSONL trajectory store (a recipe over swe_srl.stepwise).

Streaming: trajectories are read one line at a time and examples go to an Arrow stream file in
small batches, so memory stays flat however large the corpus. The result, under ``out_dir``:
``dataset/`` (``datasets.load_from_disk``), ``examples.parquet`` (the same rows),
``summary.json`` (the BuildSummary) and ``prompt_recipe.json`` (what decides how its prompts look,
swe_srl/prompt_recipe.py).
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from array import array
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from swe_srl.dialects import DIALECT_KEY
from swe_srl.errors import ActionParseError, DataError
from swe_srl.formats.base import parse_json
from swe_srl.prompt_recipe import write_recipe
from swe_srl.stepwise import StepExample, StepwiseConfig, build_examples
from swe_srl.trajectory import Trajectory

logger = logging.getLogger(__name__)

DROP_BAD_LINE = "bad_line"
_BATCH_ROWS = 1000
_BATCH_CHARS = 16_000_000  # flush earlier when prompts are long ("all" context), to bound memory

Progress = Callable[[int, int], None]  # (bytes read so far, total bytes of the input files)


@dataclass(frozen=True)
class BuildSummary:
    """What a dataset build read, kept and dropped (and why), and how long the examples are."""

    files: int
    trajectories: int  # trajectory lines read and parsed
    steps: int  # actions in those trajectories
    kept: int  # examples written
    dropped: Mapping[str, int]  # steps not written, by reason; "bad_line" counts unreadable lines
    prompt_tokens: Mapping[str, int]  # p50, p90, p99, max over the kept examples
    target_tokens: Mapping[str, int]
    tokenizer: str = ""
    errors: tuple[str, ...] = ()  # the first bad lines, each naming its file and line
    config: Mapping[str, Any] = field(default_factory=dict)  # the StepwiseConfig used
    dialects: Mapping[str, int] = field(default_factory=dict)  # steps per observation dialect of the data

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["dropped"] = dict(self.dropped)
        data["errors"] = list(self.errors)
        data["dialects"] = dict(self.dialects)
        return data


class TokenCounter:
    """Token counts with a Hugging Face tokenizer, batched through its Rust backend when it has one."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._backend = getattr(tokenizer, "backend_tokenizer", None)
        batch = getattr(self._backend, "encode_batch_fast", None) or getattr(self._backend, "encode_batch", None)
        self._batch = batch

    def __call__(self, text: str) -> int:
        if self._backend is not None:
            return len(self._backend.encode(text, add_special_tokens=False))
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def many(self, texts: Sequence[str]) -> list[int]:
        if self._batch is not None:
            return [len(e) for e in self._batch(list(texts), add_special_tokens=False)]
        return [self(t) for t in texts]


def load_tokenizer(tokenizer: Any) -> Any:
    """A tokenizer object from a name or path, or the object itself."""
    if isinstance(tokenizer, (str, os.PathLike)):
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(tokenizer))
    return tokenizer


def trajectory_files(paths: Path | str | Iterable[Path | str]) -> list[Path]:
    """The JSONL files named, folders expanded to their ``*.jsonl`` files, in a stable order."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            files.extend(sorted(item.rglob("*.jsonl")))
        elif item.is_file():
            files.append(item)
        else:
            raise DataError("no such file or folder", source=str(item))
    return files


def read_trajectories(
    files: Sequence[Path], *, strict: bool = False, bad: Counter[str] | None = None,
    errors: list[str] | None = None, progress: Progress | None = None,
) -> Iterator[Trajectory]:
    """Trajectories from JSONL store files, one at a time; bad lines raise (strict) or are counted."""
    total = sum(f.stat().st_size for f in files)
    done = 0
    for path in files:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                done += len(raw)
                if raw.strip():
                    try:
                        yield _parse_line(raw, str(path), number)
                    except DataError as err:
                        if strict:
                            raise
                        if bad is not None:
                            bad[DROP_BAD_LINE] += 1
                        if errors is not None and len(errors) < 20:
                            errors.append(str(err))
                        logger.warning("skipping %s", err)
                if progress is not None:
                    progress(done, total)


def _parse_line(raw: bytes, source: str, line: int) -> Trajectory:
    data = parse_json(raw, source=source, line=line)
    if not isinstance(data, dict):
        raise DataError(f"expected a JSON object, got {type(data).__name__}", source=source, line=line)
    try:
        return Trajectory.from_json(data, source=source, line=line)
    except ActionParseError as err:
        raise DataError(f"bad action: {err}", source=source, line=line, field="steps") from None
    except (TypeError, AttributeError, ValueError) as err:
        raise DataError(f"malformed record ({err})", source=source, line=line) from None


def chat_overhead(tokenizer: Any, count: Callable[[str], int]) -> tuple[int, int] | None:
    """Tokens the chat template adds per message (the most over the roles) and for the generation prompt."""
    if not getattr(tokenizer, "chat_template", None):
        return None

    def rendered(messages: list[dict[str, str]], generation: bool = False) -> int:
        return count(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation))

    # Always open with a system turn: templates such as Qwen2.5's insert a default one otherwise.
    probe = "x"
    base = [{"role": "system", "content": probe}]
    alone = rendered(base)
    per_role = [alone - count(probe)]
    per_role += [rendered(base + [{"role": r, "content": probe}]) - alone - count(probe) for r in ("user", "assistant")]
    return max(per_role), rendered(base, True) - alone


def _features():
    from datasets import Features, List, Value

    return Features({
        "prompt": List({"role": Value("string"), "content": Value("string")}),
        "target": Value("string"),
        "trajectory_id": Value("string"),
        "task_id": Value("string"),
        "step_index": Value("int32"),
        "prompt_tokens": Value("int32"),
        "target_tokens": Value("int32"),
        "target_thought": Value("string"),
        "elided_observations": Value("int32"),
    })


def example_row(example: StepExample) -> dict[str, Any]:
    """One dataset row."""
    return {
        "prompt": example.messages(),
        "target": example.target,
        "trajectory_id": example.trajectory_id,
        "task_id": example.task_id,
        "step_index": example.step_index,
        "prompt_tokens": example.prompt_tokens,
        "target_tokens": example.target_tokens,
        "target_thought": example.target_thought,
        "elided_observations": example.elided_observations,
    }


def percentiles(values: Sequence[int]) -> dict[str, int]:
    """Nearest-rank p50, p90, p99 and max; zeros when empty."""
    if not values:
        return {"p50": 0, "p90": 0, "p99": 0, "max": 0}
    ordered = sorted(values)
    rank = lambda q: ordered[max(0, math.ceil(q * len(ordered)) - 1)]  # noqa: E731
    return {"p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "max": ordered[-1]}


def build_dataset(
    traj_files: Path | str | Iterable[Path | str],
    out_dir: Path | str,
    tokenizer: Any,
    config: StepwiseConfig = StepwiseConfig(),
    progress: Progress | None = None,
    *,
    strict: bool = False,
    calibrate: bool = True,
) -> BuildSummary:
    """Read the trajectory store, write the step-wise dataset under ``out_dir``, return its summary.

    ``calibrate`` measures the chat template's per-message overhead with ``tokenizer`` and uses it in
    place of ``config.tokens_per_message`` / ``generation_prompt_tokens`` (the summary records both).
    """
    import pyarrow as pa
    from datasets import Dataset
    from datasets.utils.tqdm import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    files = trajectory_files(traj_files)
    tok = load_tokenizer(tokenizer)
    counter = TokenCounter(tok)
    overhead = chat_overhead(tok, counter) if calibrate else None
    if overhead is not None:
        config = replace(config, tokens_per_message=overhead[0], generation_prompt_tokens=overhead[1])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    features = _features()
    schema = features.arrow_schema
    drops: Counter[str] = Counter()
    errors: list[str] = []
    prompt_lengths, target_lengths = array("i"), array("i")
    trajectories = steps = 0
    dialects: Counter[str] = Counter()

    with tempfile.TemporaryDirectory(dir=out, prefix=".build-") as scratch:
        stream_path = Path(scratch) / "examples.arrow"
        with pa.OSFile(str(stream_path), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
            rows: list[dict[str, Any]] = []
            chars = 0
            for trajectory in read_trajectories(files, strict=strict, bad=drops, errors=errors, progress=progress):
                trajectories += 1
                steps += len(trajectory.steps)
                dialects[str(trajectory.metadata.get(DIALECT_KEY, config.observation_dialect))] += len(trajectory.steps)
                for example in build_examples(trajectory, config, counter, count_many=counter.many, drops=drops):
                    rows.append(example_row(example))
                    prompt_lengths.append(example.prompt_tokens)
                    target_lengths.append(example.target_tokens)
                    chars += sum(len(m.content) for m in example.prompt) + len(example.target)
                    if len(rows) >= _BATCH_ROWS or chars >= _BATCH_CHARS:
                        writer.write_batch(pa.RecordBatch.from_pylist(rows, schema=schema))
                        rows, chars = [], 0
            if rows:
                writer.write_batch(pa.RecordBatch.from_pylist(rows, schema=schema))
        if not prompt_lengths:  # datasets 5 cannot even reload an empty dataset; and it is never wanted
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(drops.items())) or "none"
            raise DataError(
                f"no examples built: {trajectories} trajectories, {steps} steps read; dropped by reason: {reasons} "
                "(ungraded or unresolved runs are kept only when the config allows them)",
                source=", ".join(map(str, files)) or str(traj_files),
            )
        # Memory-mapped, so saving copies from disk to disk. The schema carries the features.
        dataset = Dataset.from_file(str(stream_path))
        if dataset.features != features:
            raise AssertionError(f"written features {dataset.features} differ from {features}")
        quiet = not are_progress_bars_disabled()
        if quiet:  # library code does not print: the CLI draws its own progress
            disable_progress_bars()
        try:
            dataset.save_to_disk(str(out / "dataset"))
            dataset.to_parquet(str(out / "examples.parquet"))
        finally:
            if quiet:
                enable_progress_bars()
        del dataset

    if dialects:  # the prompt recipe names the tools' wording most of the data was recorded in
        config = replace(config, observation_dialect=dialects.most_common(1)[0][0])
    summary = BuildSummary(
        files=len(files),
        trajectories=trajectories,
        steps=steps,
        kept=len(prompt_lengths),
        dropped=dict(sorted(drops.items())),
        prompt_tokens=percentiles(prompt_lengths),
        target_tokens=percentiles(target_lengths),
        tokenizer=str(getattr(tok, "name_or_path", type(tok).__name__)),
        errors=tuple(errors),
        config=asdict(config),
        dialects=dict(sorted(dialects.items())),
    )
    (out / "summary.json").write_text(json.dumps(summary.to_json(), indent=2) + "\n")
    write_recipe(out, config)  # training carries it to the model, and eval reads it there
    return summary
