"""Our own store: JSONL of ``Trajectory.to_json()`` lines, read back as trajectories."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from swe_srl.errors import ActionParseError, DataError
from swe_srl.formats.base import ImportResult, iter_rows
from swe_srl.trajectory import Trajectory


class NativeFormat:
    name = "swe-srl"

    def sniff(self, sample: Any) -> bool:
        row = sample[0] if isinstance(sample, list) and sample else sample
        return isinstance(row, dict) and "source_format" in row and isinstance(row.get("steps"), list)

    def read(self, path: Path) -> Iterator[ImportResult]:
        for where, row in iter_rows(path):
            if isinstance(row, DataError):
                yield where.failed(row)
                continue
            try:
                if not isinstance(row, dict):
                    raise where.error(f"expected a JSON object, got {type(row).__name__}")
                trajectory = Trajectory.from_json(row, source=where.source, line=where.line)
            except DataError as err:
                yield where.failed(err)
            except (ActionParseError, TypeError, AttributeError) as err:
                yield where.failed(where.error(f"invalid step: {err}", "steps"))
            else:
                yield ImportResult(where.source, where.record, trajectory, (), len(trajectory.steps))
