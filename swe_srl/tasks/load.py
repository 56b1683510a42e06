"""Load task rows (SWE-bench, SWE-bench Verified, SWE-Gym, our own) from JSON, JSONL or parquet.

Rows load unchanged: the test lists may be JSON-encoded strings (SWE-bench) or lists (SWE-Gym,
parquet exports); every other column is kept in `Task.extra`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterator

from swe_srl.errors import DataError
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)

_FORMATS = (".json", ".jsonl", ".parquet")


def _json_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(1-based row number, row) from a JSON file holding a list of rows or one row."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"not valid JSON: {err.msg} (column {err.colno})", source=str(path), line=err.lineno) from None
    if isinstance(data, dict):
        yield 1, data
    elif isinstance(data, list):
        yield from enumerate(data, start=1)
    else:
        raise DataError(f"expected a list of rows or one row object, got {type(data).__name__}", source=str(path))


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(1-based line number, row) for each non-blank line of a JSONL file."""
    with path.open(encoding="utf-8") as handle:
        for lineno, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                yield lineno, json.loads(text)
            except json.JSONDecodeError as err:
                raise DataError(f"not valid JSON: {err.msg} (column {err.colno})", source=str(path), line=lineno) from None


def _parquet_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(1-based row number, row) from a parquet file, read in record batches."""
    import pyarrow.parquet as pq  # imported here: only parquet users pay for it

    try:
        parquet = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises several types for a file that is not parquet
        raise DataError(f"not a readable parquet file: {err}", source=str(path)) from None
    row = 0
    for batch in parquet.iter_batches():
        for record in batch.to_pylist():
            row += 1
            yield row, record


def iter_rows(path: str | Path) -> Iterator[tuple[int, Any]]:
    """(row number, raw row) of a task file; the number is the line for JSONL, else 1-based."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", source=str(path))
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _json_rows(path)
    if suffix == ".jsonl":
        return _jsonl_rows(path)
    if suffix == ".parquet":
        return _parquet_rows(path)
    raise DataError(f"unsupported file type {suffix or '(none)'!r}; use one of {', '.join(_FORMATS)}", source=str(path))


def load_tasks(path: str | Path) -> list[Task]:
    """Every task in a JSON, JSONL or parquet file; a bad or duplicate row raises DataError."""
    tasks: list[Task] = []
    first_row: dict[str, int] = {}
    for row_number, row in iter_rows(path):
        task = Task.from_row(row, source=str(path), line=row_number)
        if task.instance_id in first_row:
            raise DataError(
                f"duplicate instance_id {task.instance_id!r} (first at row {first_row[task.instance_id]})",
                source=str(path),
                line=row_number,
                field="instance_id",
            )
        first_row[task.instance_id] = row_number
        tasks.append(task)
    log.debug("loaded %d tasks from %s", len(tasks), path)
    return tasks
