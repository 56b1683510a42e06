"""Fill the four grading fields of rows written before swebench 5: `swe-srl tasks convert`.

Each row missing any of image, eval_script, log_parser, eval_type gets all four
- from a swebench 5 dataset the user gives (``reference``: parquet, JSON, JSONL or a
  ``save_to_disk`` folder), joined on instance_id: exact, the fields SWE-bench itself publishes;
- otherwise from the per-repository table (repo_specs.py), building the eval script the way
  SWE-bench builds them.
A row found in neither is refused by name (file, row, instance, repo, version), never guessed.
Each converted row records where its fields came from in ``grading_source``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from swebench.harness.constants import NON_TEST_EXTS

from swe_srl.errors import DataError
from swe_srl.tasks.eval_script import eval_script, patch_files
from swe_srl.tasks.load import iter_rows
from swe_srl.tasks.repo_specs import ACTIVATE, TABLE, RepoSpec, repo_spec
from swe_srl.tasks.task import GRADING_FIELDS, Task

SOURCE_FIELD = "grading_source"  # the row column recording where the grading fields came from


@dataclass(frozen=True)
class Conversion:
    """The converted rows, and how many took their fields from where."""

    rows: tuple[dict[str, Any], ...]  # every input row, in order, now gradable
    kept: int  # rows that already carried all four fields
    from_reference: int  # filled by joining on instance_id
    from_table: int  # filled from repo_specs.yaml


def convert_files(paths: Iterable[Path], reference: Path | None = None) -> Conversion:
    """Every row of ``paths`` with its grading fields filled; DataError on a row that cannot be."""
    joined = _reference_rows(reference) if reference is not None else {}
    rows: list[dict[str, Any]] = []
    counts = {"kept": 0, "reference": 0, "table": 0}
    for path in paths:
        for number, raw in iter_rows(path):
            task = Task.from_row(raw, source=str(path), line=number)  # a malformed row stops here
            row = dict(raw)
            if all(row.get(name) for name in GRADING_FIELDS):
                counts["kept"] += 1
            elif task.instance_id in joined:
                row.update({name: joined[task.instance_id][name] for name in GRADING_FIELDS})
                row[SOURCE_FIELD] = f"reference {reference} (joined on instance_id)"
                counts["reference"] += 1
            else:
                try:
                    spec = repo_spec(task.repo, task.version)
                except DataError as err:
                    raise DataError(f"row {number} ({task.instance_id}): {err.message}", source=str(path),
                                    field=err.field) from None
                row.update(table_fields(task, spec))
                row[SOURCE_FIELD] = f"table {TABLE.name}: {spec.repo} {spec.version}"
                counts["table"] += 1
            rows.append(row)
    return Conversion(tuple(rows), counts["kept"], counts["reference"], counts["table"])


def table_fields(task: Task, spec: RepoSpec) -> dict[str, str]:
    """The four grading fields of ``task`` built from its repository's spec."""
    test_files = list(patch_files(task.test_patch))
    command = " ".join([spec.test_cmd, *test_directives(test_files, spec.test_files)])
    script = eval_script(task.base_commit, task.test_patch, test_files, command, (*ACTIVATE, *spec.pre_test))
    return {"image": spec.image(task.instance_id), "eval_script": script, "log_parser": spec.log_parser,
            "eval_type": spec.eval_type}


def test_directives(test_files: list[str], form: str) -> list[str]:
    """The test files as the test command takes them (SWE-bench's rule: data files left out)."""
    files = [f for f in test_files if not any(f.endswith(ext) for ext in NON_TEST_EXTS)]
    if form == "django_modules":  # Django's runner takes dotted module names under tests/
        files = [f.removesuffix(".py").removeprefix("tests/").replace("/", ".") for f in files]
    return [shlex.quote(f) for f in files]


def write_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    """JSONL text of ``rows``."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _reference_rows(reference: Path) -> dict[str, Mapping[str, Any]]:
    """instance_id -> row of a swebench 5 dataset file or save_to_disk folder, rows with all four fields."""
    if reference.is_dir():
        from datasets import load_from_disk  # imported here: only folder references pay for it

        try:
            dataset = load_from_disk(str(reference))
        except Exception as err:  # datasets raises several types for a folder it cannot read
            raise DataError(f"not a save_to_disk dataset folder: {err}", source=str(reference)) from None
        if hasattr(dataset, "keys"):  # a DatasetDict: every split
            numbered = enumerate((row for split in dataset.values() for row in split), start=1)
        else:
            numbered = enumerate(dataset, start=1)
    else:
        numbered = iter_rows(reference)
    joined: dict[str, Mapping[str, Any]] = {}
    for number, row in numbered:
        missing = [name for name in GRADING_FIELDS if not row.get(name)]
        if missing:
            raise DataError(f"the reference row lacks {', '.join(missing)}: give a swebench 5 dataset",
                            source=str(reference), line=number, field=missing[0])
        joined[str(row["instance_id"])] = row
    return joined
