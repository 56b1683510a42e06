"""The store of finished jobs: a folder of one ``<key>.json`` record per job.

Each record is written to a temporary name and renamed, so a file is there whole or not at all;
a job whose file exists is done. Leftover temporary files (a write cut short by a crash) are
removed when the store is opened.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Mapping

from swe_srl.atomic import remove_stale_temps, write_text_atomic
from swe_srl.errors import ConfigError, DataError


MODEL_FIELD = "model"  # a record's model (or teacher): one per store


class RunStore:
    """A folder of one ``<key>.json`` record per finished job."""

    SUFFIX = ".json"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.folder)

    def path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ConfigError(f"run key {key!r} cannot name a file")
        return self.folder / f"{key}{self.SUFFIX}"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> dict[str, Any]:
        path = self.path(key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DataError(f"not valid JSON ({err.msg}); delete it to run the job again", source=str(path), line=err.lineno) from None

    def put(self, key: str, record: Mapping[str, Any]) -> None:
        write_text_atomic(self.path(key), json.dumps(record, ensure_ascii=False, indent=1) + "\n")

    def keys(self) -> list[str]:
        return sorted(p.name[: -len(self.SUFFIX)] for p in self.folder.glob(f"*{self.SUFFIX}") if not p.name.startswith("."))

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for key in self.keys():
            yield key, self.get(key)

    def require_model(self, model: str) -> None:
        """Refuse a folder holding a run of another model (its ``model`` field): a resumed batch would
        reuse that run as this model's. A record naming no model (an older layout) is kept."""
        for key, record in self.items():
            if record.get(MODEL_FIELD, model) != model:
                raise ConfigError(f"{self.path(key)} is a run of model {record[MODEL_FIELD]!r}, not {model!r}; "
                                  f"write each model's runs into their own --out folder (or delete {self.folder})")
