"""The evaluation page: a row per task run with its cause, several evaluations on one page, and the
page as a real headless browser draws it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from swebench.harness.constants import APPLY_PATCH_FAIL, LOG_INSTANCE

from swe_srl.cli import main
from swe_srl.evaluate.grade import instance_log_dir
from swe_srl.evaluate.oracle import END_TO_END, ORACLE
from swe_srl.evaluate.resolve_rate import EvalReport, setting_report
from swe_srl.evaluate.runs import EvalRun, finished_row
from swe_srl.jobs.batch import Job
from swe_srl.recipes.evaluate import eval_record, run_prefix
from swe_srl.trajectory import Trajectory

from tests.evaluate.test_eval_recipe import TASKS

DIFF = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"


def _record(instance: str, setting: str, resolved: bool, patch: str = DIFF, **extra: object) -> dict:
    return {"key": f"{instance}_0", "instance_id": instance, "repo": instance.split("__")[0].replace("_", "/"),
            "setting": setting, "model": "m", "resolved": resolved, "patch": patch, "stop_reason": "submitted",
            "steps": 4, "tokens": 1200, "cost": 0.0125,
            "trajectory": {"task_id": instance, "metadata": {"model_calls": 5}, "steps": []}, **extra}


def _eval_folder(folder: Path, model: str, resolved: set[str]) -> Path:
    """What `swe-srl eval --out folder` leaves: report.json and a record per finished run."""
    records = {
        END_TO_END: [_record("org_a__a-1", END_TO_END, "org_a__a-1" in resolved),
                     _record("org_a__a-2", END_TO_END, False, patch="", stop_reason="step_limit"),
                     _record("org_b__b-1", END_TO_END, False, patch_apply_failed=True)],
        ORACLE: [_record("org_a__a-1", ORACLE, True), _record("org_a__a-2", ORACLE, False, patch=" \n"),
                 _record("org_b__b-1", ORACLE, "org_b__b-1" in resolved)],
    }
    failed = {END_TO_END: {"org_b__b-2": "SandboxError: the container would not start"}, ORACLE: {}}
    settings = {s: setting_report(s, rs, failed[s]) for s, rs in records.items()}
    for setting, rows in records.items():
        (folder / setting / "runs").mkdir(parents=True)
        for record in rows:
            (folder / setting / "runs" / f"{record['key']}.json").write_text(json.dumps(record))
    report = EvalReport(model, "bundled", settings, rows=4)
    (folder / "report.json").write_text(json.dumps(report.to_json()))
    return folder


def test_rows_say_why_each_run_failed(tmp_path: Path) -> None:
    run = EvalRun.read(_eval_folder(tmp_path / "e", "m", {"org_a__a-1"}))
    rows = {(row.instance_id, row.setting): row for row in run.rows}
    assert [(r.status, r.cause) for r in (rows["org_a__a-1", END_TO_END], rows["org_a__a-2", END_TO_END],
                                        rows["org_b__b-1", END_TO_END], rows["org_b__b-1", ORACLE],
                                        rows["org_a__a-2", ORACLE])] == [
        ("resolved", ""), ("unresolved", "step or token limit (step_limit)"),
        ("unresolved", "patch does not apply"), ("unresolved", "tests fail"), ("unresolved", "no patch")]
    unfinished = rows["org_b__b-2", END_TO_END]
    assert (unfinished.status, unfinished.record, unfinished.turns) == ("not finished", None, None)
    assert unfinished.cause == "infrastructure: SandboxError: the container would not start"
    done = rows["org_a__a-1", ORACLE]
    assert (done.turns, done.tokens, done.cost) == (5, 1200, 0.0125)
    assert done.record == tmp_path / "e" / ORACLE / "runs" / "org_a__a-1_0.json"


def test_a_patch_the_harness_could_not_apply_is_told_apart_from_failing_tests(tmp_path: Path) -> None:
    task = TASKS[0]
    logs = instance_log_dir(tmp_path, f"{run_prefix(END_TO_END)}-0", task.instance_id)
    logs.mkdir(parents=True)
    (logs / LOG_INSTANCE).write_text(f"INFO - {APPLY_PATCH_FAIL}:\nerror: patch failed: x.py:1\n")
    graded = Trajectory(task.instance_id, "agent", (), task.problem_statement, DIFF, False)
    record = eval_record(END_TO_END, "m", tmp_path)(Job(task, 0), graded)
    assert record["patch_apply_failed"] is True
    assert finished_row(END_TO_END, tmp_path / "r.json", record).cause == "patch does not apply"
    other = eval_record(END_TO_END, "m", tmp_path)(Job(TASKS[1], 0), graded)  # graded with no log left
    assert other["patch_apply_failed"] is None
    assert finished_row(END_TO_END, tmp_path / "r.json", other).cause == "tests fail"


def test_report_refuses_a_folder_that_is_no_evaluation_among_evaluations(tmp_path: Path) -> None:
    folder = _eval_folder(tmp_path / "e", "m", set())
    (tmp_path / "empty").mkdir()
    assert main(["report", str(folder), str(tmp_path / "empty")]) == 2


def test_two_models_on_one_page_in_a_headless_browser(tmp_path: Path) -> None:
    first = _eval_folder(tmp_path / "base", "base-7b", {"org_a__a-1"})
    second = _eval_folder(tmp_path / "srl", "srl-7b", {"org_a__a-1", "org_b__b-1"})
    out = tmp_path / "compare"
    assert main(["report", str(first), str(second), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert page.count("<tr class='task ") == 14  # 7 task runs (6 finished, 1 not) per model
    assert "base-7b · end_to_end" in page and "srl-7b · oracle_file_edit" in page
    assert page.count("66.7% (2/3)") == 1 and page.count("33.3% (1/3)") == 3  # overall: only srl-7b oracle gains
    assert page.count("<img alt='resolve rate per setting' src='data:image/png;base64,") == 1
    assert "href='../srl/oracle_file_edit/runs/org_b__b-1_0.json'" in page
    assert (out / "../srl/oracle_file_edit/runs/org_b__b-1_0.json").is_file()

    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/setup installs it): the page was not drawn in a browser")
    shot = tmp_path / "page.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1200,2000", (out / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120, cwd=tmp_path)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
