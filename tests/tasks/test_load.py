"""load_tasks: SWE-bench Verified and SWE-Gym rows load unchanged from JSON, JSONL and parquet;
bad rows are named by file, row and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swe_srl.errors import DataError
from swe_srl.tasks.load import load_tasks

FIXTURES = Path(__file__).parent / "fixtures"
VERIFIED = json.loads((FIXTURES / "swebench_verified_row.json").read_text(encoding="utf-8"))
GYM = json.loads((FIXTURES / "swegym_row.json").read_text(encoding="utf-8"))


def _write_jsonl(path: Path, rows: list, blank_after_first: bool = False) -> Path:
    lines = [json.dumps(r) for r in rows]
    if blank_after_first:
        lines.insert(1, "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_parquet(path: Path, rows: list[dict]) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_verified_row_from_its_fixture_file():
    (task,) = load_tasks(FIXTURES / "swebench_verified_row.json")
    assert task.instance_id == "acme__tabulate-812"
    # JSON-encoded strings in SWE-bench, decoded into tuples here.
    assert task.fail_to_pass == ("tests/test_render.py::test_empty_column_respects_minwidth",)
    assert task.pass_to_pass[-1] == "tests/test_render.py::test_plain[simple]"
    assert task.version == "0.9"
    assert task.extra["environment_setup_commit"] == VERIFIED["environment_setup_commit"]
    assert task.extra["difficulty"] == "<15 min fix"
    assert task.image is None and not task.gradable


def test_swegym_row_lists_stay_lists():
    (task,) = load_tasks(FIXTURES / "swegym_row.json")
    assert task.fail_to_pass == ("tests/test_merge.py::test_nested_merge",)
    assert len(task.pass_to_pass) == 2
    assert task.extra == {"hints_text": "", "created_at": "2022-11-03T16:40:02Z"}


def test_json_list(tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([VERIFIED, GYM]), encoding="utf-8")
    assert [t.instance_id for t in load_tasks(path)] == [VERIFIED["instance_id"], GYM["instance_id"]]


def test_jsonl_skips_blank_lines(tmp_path):
    path = _write_jsonl(tmp_path / "tasks.jsonl", [VERIFIED, GYM], blank_after_first=True)
    tasks = load_tasks(path)
    assert [t.repo for t in tasks] == ["acme/tabulate", "widgetco/configlib"]


def test_parquet_round_trip_of_both_shapes(tmp_path):
    # One parquet file per dataset shape (a column holds one type): string lists and real lists.
    verified = load_tasks(_write_parquet(tmp_path / "verified.parquet", [VERIFIED]))
    gym = load_tasks(_write_parquet(tmp_path / "gym.parquet", [GYM, {**GYM, "instance_id": "widgetco__configlib-2208"}]))
    assert verified[0].fail_to_pass == load_tasks(FIXTURES / "swebench_verified_row.json")[0].fail_to_pass
    assert [t.instance_id for t in gym] == ["widgetco__configlib-2207", "widgetco__configlib-2208"]
    assert gym[1].pass_to_pass == tuple(GYM["PASS_TO_PASS"])
    assert verified[0].patch == VERIFIED["patch"]


def test_to_row_reloads_to_the_same_task(tmp_path):
    (task,) = load_tasks(FIXTURES / "swebench_verified_row.json")
    path = tmp_path / "again.json"
    path.write_text(json.dumps(task.to_row()), encoding="utf-8")
    assert load_tasks(path) == [task]


def test_jsonl_bad_row_names_line_and_field(tmp_path):
    bad = {**GYM, "instance_id": "x__y-1"}
    del bad["base_commit"]
    path = _write_jsonl(tmp_path / "tasks.jsonl", [VERIFIED, bad], blank_after_first=True)
    with pytest.raises(DataError) as info:
        load_tasks(path)
    err = info.value
    assert (err.source, err.line, err.field) == (str(path), 3, "base_commit")
    assert str(err) == f"{path}:3: field 'base_commit': missing"


def test_json_list_ill_typed_field_names_row(tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([GYM, {**VERIFIED, "FAIL_TO_PASS": "[not json"}]), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_tasks(path)
    assert (info.value.line, info.value.field) == (2, "FAIL_TO_PASS")


def test_parquet_bad_row_names_row(tmp_path):
    rows = [GYM, {**GYM, "instance_id": "widgetco__configlib-9", "patch": None}]
    path = _write_parquet(tmp_path / "gym.parquet", rows)
    with pytest.raises(DataError) as info:
        load_tasks(path)
    assert (info.value.source, info.value.line, info.value.field) == (str(path), 2, "patch")


def test_duplicate_instance_ids_are_rejected(tmp_path):
    path = _write_jsonl(tmp_path / "tasks.jsonl", [GYM, VERIFIED, GYM])
    with pytest.raises(DataError, match=r"duplicate instance_id 'widgetco__configlib-2207' \(first at row 1\)") as info:
        load_tasks(path)
    assert (info.value.line, info.value.field) == (3, "instance_id")


def test_jsonl_syntax_error_names_line(tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(GYM) + "\n{\"instance_id\": \n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_tasks(path)
    assert info.value.line == 2 and "not valid JSON" in str(info.value)


def test_row_that_is_not_an_object(tmp_path):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([GYM, ["a", "list"]]), encoding="utf-8")
    with pytest.raises(DataError, match=r":2: expected an object"):
        load_tasks(path)


@pytest.mark.parametrize("name", ["tasks.csv", "tasks"])
def test_unsupported_suffix(tmp_path, name):
    path = tmp_path / name
    path.write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="unsupported file type"):
        load_tasks(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_tasks(tmp_path / "absent.jsonl")


def test_not_parquet(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text("not parquet", encoding="utf-8")
    with pytest.raises(DataError, match="parquet"):
        load_tasks(path)


def test_bundled_tasks_round_trip_through_jsonl(tmp_path):
    from swe_srl.tasks.bundled import bundled_tasks

    tasks = bundled_tasks()
    path = _write_jsonl(tmp_path / "bundled.jsonl", [t.to_row() for t in tasks])
    assert load_tasks(path) == tasks
