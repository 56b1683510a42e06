"""predictions.jsonl in the swebench format: one {instance_id, model_name_or_path, model_patch} per line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from swe_srl.atomic import write_text_atomic
from swe_srl.errors import DataError

FIELDS = ("instance_id", "model_name_or_path", "model_patch")


@dataclass(frozen=True)
class Prediction:
    """One instance's patch, as the swebench harness reads it (``--predictions_path``)."""

    instance_id: str
    model_name_or_path: str
    model_patch: str

    def to_json(self) -> dict[str, str]:
        return {"instance_id": self.instance_id, "model_name_or_path": self.model_name_or_path,
                "model_patch": self.model_patch}


def write_predictions(predictions: Iterable[Prediction], dest: Path) -> int:
    """Write ``predictions`` as JSONL, all at once (a temp file renamed into place); returns the count."""
    lines = [json.dumps(p.to_json(), ensure_ascii=False) for p in predictions]
    write_text_atomic(Path(dest), "".join(line + "\n" for line in lines))
    return len(lines)


def read_predictions(path: Path) -> list[Prediction]:
    """Read a predictions JSONL file; a bad line raises DataError naming the line and field."""
    out: list[Prediction] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"not JSON: {err.msg}", source=str(path), line=number) from None
        for name in FIELDS:
            if not isinstance(row.get(name), str):
                raise DataError("missing or not a string", source=str(path), line=number, field=name)
        out.append(Prediction(row["instance_id"], row["model_name_or_path"], row["model_patch"]))
    return out
