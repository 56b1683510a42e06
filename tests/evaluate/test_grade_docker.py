"""grade through the official swebench harness on the real engine, for every bundled task."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from swe_srl.errors import ConfigError
from swe_srl.evaluate.grade import GRADE_LABEL, MODEL_NAME, grade, grade_many
from swe_srl.host.owners import OWNER_LABEL, owner_id


def _ours(client) -> list:
    """Grading containers this test process owns (others may be grading on the same engine)."""
    return client.containers.list(all=True, filters={"label": [GRADE_LABEL, f"{OWNER_LABEL}={owner_id()}"]})

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# Grading runs are each a container start plus pytest; two at a time keep a 2-core machine busy.
WORKERS = int(os.environ.get("SWE_SRL_GRADE_WORKERS", "2"))


@pytest.fixture(scope="module")
def tasks(docker_client):
    bundled = pytest.importorskip("swe_srl.tasks.bundled", reason="bundled tasks are not written yet")
    found = bundled.bundled_tasks()
    if not found:
        pytest.skip("no bundled tasks in environments/")
    return found


@pytest.fixture(scope="module")
def gold_and_empty(tasks, docker_client, tmp_path_factory):
    """Each bundled task graded twice: with its gold patch and with an empty patch."""
    log_dir = tmp_path_factory.mktemp("grading")
    gold = grade_many([(t, t.patch) for t in tasks], run_id="gold", log_dir=log_dir, workers=WORKERS, client=docker_client)
    empty = grade_many([(t, "") for t in tasks], run_id="empty", log_dir=log_dir, workers=WORKERS, client=docker_client)
    return log_dir, gold, empty


def _failed(report) -> str:
    return f"{report.instance_id}: error={report.error!r} F2P={dict(report.fail_to_pass)} P2P={dict(report.pass_to_pass)} logs={report.log_dir}"


def test_every_bundled_task_resolves_with_its_gold_patch(gold_and_empty, tasks) -> None:
    _, gold, _ = gold_and_empty
    for task, report in zip(tasks, gold):
        assert report.instance_id == task.instance_id
        assert report.resolved, _failed(report)
        assert report.patch_applied and report.error is None and report.distrusted is None, _failed(report)
        assert set(report.fail_to_pass) == set(task.fail_to_pass)
        assert set(report.fail_to_pass.values()) == {"PASSED"}, _failed(report)
        assert set(report.pass_to_pass) == set(task.pass_to_pass)
        assert set(report.pass_to_pass.values()) <= {"PASSED", "SKIPPED", "XFAIL"}, _failed(report)


def test_no_bundled_task_resolves_with_an_empty_patch(gold_and_empty, tasks) -> None:
    _, _, empty = gold_and_empty
    for task, report in zip(tasks, empty):
        assert not report.resolved, _failed(report)
        assert report.error is None, _failed(report)  # the tests ran; they just did not pass
        assert report.distrusted is None, _failed(report)  # honest failures: the guard believes the log
        # At base every FAIL_TO_PASS test fails (or errors, or is absent) and PASS_TO_PASS passes.
        assert "PASSED" not in report.fail_to_pass.values(), _failed(report)
        assert set(report.pass_to_pass.values()) <= {"PASSED", "SKIPPED", "XFAIL"}, _failed(report)


def test_logs_land_under_the_chosen_directory(gold_and_empty, tasks) -> None:
    log_dir, gold, _ = gold_and_empty
    for task, report in zip(tasks, gold):
        assert report.log_dir == log_dir.resolve() / "gold" / MODEL_NAME / task.instance_id
        for name in ("run_instance.log", "test_output.txt", "report.json", "eval.sh", "patch.diff"):
            assert (report.log_dir / name).is_file(), name
        assert "+++ b/" in (report.log_dir / "patch.diff").read_text()  # the gold patch, not the empty one
    assert not Path("logs/run_evaluation/gold").exists()


def test_grading_containers_are_removed(gold_and_empty, docker_client) -> None:
    left = _ours(docker_client)
    assert left == [], [c.name for c in left]


def test_two_patches_for_one_instance_in_one_run_are_refused(tasks, tmp_path) -> None:
    with pytest.raises(ConfigError, match="two patches"):
        grade_many([(tasks[0], ""), (tasks[0], tasks[0].patch)], run_id="dup", log_dir=tmp_path)


def test_unappliable_patch_is_reported_not_applied(tasks, docker_client, tmp_path) -> None:
    task = tasks[0]
    bad = (
        "diff --git a/no_such_file.py b/no_such_file.py\n"
        "--- a/no_such_file.py\n+++ b/no_such_file.py\n"
        "@@ -1,2 +1,2 @@\n-this line is not there\n+nor is this one\n context\n"
    )
    report = grade(task, bad, run_id="unappliable", log_dir=tmp_path, client=docker_client)
    assert not report.patch_applied and not report.resolved
    assert report.error is not None and "Patch Apply Failed" in report.error
    assert set(report.fail_to_pass.values()) == {"MISSING"}
    assert _ours(docker_client) == []


def test_regrading_with_the_same_run_id_replaces_the_old_result(tasks, docker_client, tmp_path) -> None:
    # The harness would return the cached report.json of the first run; grade must not.
    task = tasks[0]
    first = grade(task, task.patch, run_id="again", log_dir=tmp_path, client=docker_client)
    second = grade(task, "", run_id="again", log_dir=tmp_path, client=docker_client)
    assert first.resolved and not second.resolved


def test_eval_script_past_its_timeout_is_an_error(tasks, docker_client, tmp_path) -> None:
    hanging = dataclasses.replace(tasks[0], eval_script="#!/bin/bash\nsleep 600\n")
    report = grade(hanging, tasks[0].patch, run_id="hangs", log_dir=tmp_path, timeout=2, client=docker_client)
    assert not report.resolved
    assert report.error is not None and "timed out after 2 seconds" in report.error
    assert report.duration_s < 30
    assert _ours(docker_client) == []


def test_harness_errors_are_logged_not_printed(tasks, docker_client, tmp_path, capsys) -> None:
    grade(tasks[0], "not a patch at all\n", run_id="noisy", log_dir=tmp_path, client=docker_client)
    assert capsys.readouterr().out == ""


def test_leftovers_of_a_dead_grader_are_reaped(tasks, docker_client, tmp_path) -> None:
    # A container as a grader that was SIGKILLed would leave it: our labels, an owner that is gone.
    ghost = docker_client.containers.create(
        tasks[0].image, command="sleep infinity", labels={GRADE_LABEL: "1", OWNER_LABEL: "nohost-x:boot:1:1:1"}
    )
    ghost_here = docker_client.containers.create(
        tasks[0].image, command="sleep infinity",
        labels={GRADE_LABEL: "1", OWNER_LABEL: owner_id(999999999)},  # this host, boot and namespace; no such pid
    )
    try:
        grade(tasks[0], "", run_id="reaper", log_dir=tmp_path, client=docker_client)
        left = {c.id for c in docker_client.containers.list(all=True, filters={"label": GRADE_LABEL})}
        assert ghost_here.id not in left  # its owner pid does not exist on this host
        assert ghost.id in left  # another host's owner may be alive: kept
    finally:
        for c in (ghost, ghost_here):
            try:
                c.remove(force=True)
            except Exception:
                pass
