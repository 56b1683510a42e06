"""The row check before any work: an ungradable row stops the run naming file, row, instance and field,
or is skipped and counted; `swe-srl tasks check` says the same from the command line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from swe_srl.cli import main
from swe_srl.errors import DataError
from swe_srl.tasks.gradable import check_rows
from swe_srl.tasks.load import load_tasks
from swe_srl.tasks.task import Task

LEGACY = Path(__file__).parent / "fixtures" / "legacy_verified.jsonl"
GOOD = Task("org__good-1", "org/good", "0" * 40, "issue", "", fail_to_pass=("t",), image="img",
            eval_script="#!/bin/bash\n", log_parser="parse_log_pytest", eval_type="pass_and_fail")


def test_first_ungradable_row_stops_naming_file_row_instance_field_and_the_convert_command() -> None:
    tasks = [GOOD, dataclasses.replace(GOOD, instance_id="org__bad-2", eval_script=None)]
    with pytest.raises(DataError) as info:
        check_rows(tasks, "rows.jsonl")
    message = str(info.value)
    assert info.value.field == "eval_script" and info.value.source == "rows.jsonl"
    assert "row 2 (org__bad-2)" in message
    assert "swe-srl tasks convert" in message and "--skip-ungradable" in message


def test_skip_ungradable_keeps_the_good_rows_and_counts_the_rest() -> None:
    bad = dataclasses.replace(GOOD, instance_id="org__bad-2", log_parser="parse_log_nope")
    checked = check_rows([bad, GOOD, dataclasses.replace(GOOD, instance_id="org__bad-3", image=None)], "f",
                         skip_ungradable=True)
    assert checked.tasks == (GOOD,)
    assert [(s.row, s.instance_id, s.field) for s in checked.skipped] == [(1, "org__bad-2", "log_parser"),
                                                                           (3, "org__bad-3", "image")]
    assert checked.skipped[0].line("f") == ("f: row 1 (org__bad-2): field 'log_parser' 'parse_log_nope' is not in "
                                            "swebench's PARSER_REGISTRY")


def test_legacy_verified_rows_are_refused_at_the_first_row() -> None:
    with pytest.raises(DataError, match=r"row 1 \(django__django-11099\)") as info:
        check_rows(load_tasks(LEGACY), str(LEGACY))
    assert info.value.field == "image"


def test_tasks_check_command_exits_non_zero_naming_each_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "check", str(LEGACY)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "row 4 (psf__requests-2317): field 'image' missing" in out
    assert "0 gradable, 4 not" in out and "swe-srl tasks convert" in out
