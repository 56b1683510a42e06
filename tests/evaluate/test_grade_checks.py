"""grade's checks that need no Docker: ungradable tasks and bad run ids fail early and clearly."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from swe_srl.errors import ConfigError, DataError
from swe_srl.evaluate import grade as grade_module
from swe_srl.evaluate.grade import grade
from swe_srl.tasks.gradable import check_gradable
from swe_srl.tasks.task import Task

TASK = Task(
    instance_id="demo__x-1",
    repo="demo/x",
    base_commit="0" * 40,
    problem_statement="it breaks",
    patch="diff --git a/x b/x\n",
    fail_to_pass=("tests/test_x.py::test_a",),
    version="1.0",
    image="img:1",
    eval_script="#!/bin/bash\n",
    log_parser="parse_log_pytest",
    eval_type="pass_and_fail",
)


def test_complete_task_is_gradable() -> None:
    check_gradable(TASK)


@pytest.mark.parametrize("name", ["image", "eval_script", "log_parser", "eval_type"])
def test_missing_grading_field_names_instance_and_field(name: str) -> None:
    with pytest.raises(DataError) as info:
        check_gradable(dataclasses.replace(TASK, **{name: None}))
    assert info.value.field == name
    assert "demo__x-1" in str(info.value) and name in str(info.value)


def test_unknown_parser_eval_type_and_empty_fail_to_pass_are_rejected() -> None:
    with pytest.raises(DataError, match="log_parser.*parse_log_nope"):
        check_gradable(dataclasses.replace(TASK, log_parser="parse_log_nope"))
    with pytest.raises(DataError, match="eval_type.*sometimes"):
        check_gradable(dataclasses.replace(TASK, eval_type="sometimes"))
    with pytest.raises(DataError, match="FAIL_TO_PASS"):
        check_gradable(dataclasses.replace(TASK, fail_to_pass=()))


def test_grade_checks_before_touching_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def no_docker():
        raise AssertionError("grade reached for Docker before validating its input")

    monkeypatch.setattr(grade_module, "_docker_client", no_docker)
    with pytest.raises(DataError, match="image"):
        grade(dataclasses.replace(TASK, image=None), "", run_id="r1", log_dir=tmp_path)
    with pytest.raises(ConfigError, match="run_id"):
        grade(TASK, "", run_id="../escape", log_dir=tmp_path)


def test_harness_log_root_is_restored_after_use(tmp_path: Path) -> None:
    harness = grade_module.harness
    before = harness.RUN_EVALUATION_LOG_DIR
    with grade_module._harness_logs_at(tmp_path):
        assert harness.RUN_EVALUATION_LOG_DIR == tmp_path
        assert harness.print is grade_module._harness_print
        with grade_module._harness_logs_at(tmp_path):  # same root: shared, not blocked
            assert harness.RUN_EVALUATION_LOG_DIR == tmp_path
    assert harness.RUN_EVALUATION_LOG_DIR == before
    assert "print" not in vars(harness)  # the builtin again


def test_another_log_root_waits_for_the_first_to_be_released(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    seen: list[Path] = []

    def other() -> None:
        with grade_module._harness_logs_at(second):
            seen.append(grade_module.harness.RUN_EVALUATION_LOG_DIR)

    with grade_module._harness_logs_at(first):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive() and seen == []  # blocked while `first` is in use
        assert grade_module.harness.RUN_EVALUATION_LOG_DIR == first
    thread.join(5)
    assert seen == [second]
