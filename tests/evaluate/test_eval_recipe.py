"""The eval recipe without Docker: settings, predictions, report, picture, resume, failures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from swe_srl.agent.identity import ModelIdentity
from swe_srl.errors import ConfigError, DataError
from swe_srl.evaluate.chart import render_html
from swe_srl.evaluate.runs import EvalRun
from swe_srl.evaluate.datasets import SWE_BENCH_VERIFIED, load_eval_tasks
from swe_srl.evaluate.oracle import END_TO_END, ORACLE, oracle_files, setting_hint
from swe_srl.evaluate.predictions import Prediction, read_predictions, write_predictions
from swe_srl.evaluate.resolve_rate import setting_report
from swe_srl.recipes.evaluate import evaluate
from swe_srl.tasks.load import load_tasks
from swe_srl.tasks.task import Task

LEGACY = Path(__file__).parents[1] / "tasks" / "fixtures" / "legacy_verified.jsonl"

PATCH = """diff --git a/pkg/parse.py b/pkg/parse.py
--- a/pkg/parse.py
+++ b/pkg/parse.py
@@ -1 +1 @@
-x = 1
+x = 2
diff --git a/pkg/new.py b/pkg/new.py
new file mode 100644
--- /dev/null
+++ b/pkg/new.py
@@ -0,0 +1 @@
+y = 1
"""


def task(i: int, repo: str) -> Task:
    return Task(f"{repo.replace('/', '__')}-{i}", repo, "0" * 40, f"issue {i}", PATCH, fail_to_pass=("t",),
                image="img", eval_script="#!/bin/bash\n", log_parser="parse_log_pytest", eval_type="pass_and_fail")


TASKS = [task(1, "org/alpha"), task(2, "org/alpha"), task(3, "org/beta")]
M = ModelIdentity("m", "m")


def test_oracle_hint_names_the_gold_patch_files() -> None:
    assert oracle_files(TASKS[0]) == ["pkg/parse.py", "pkg/new.py"]
    hint = setting_hint(TASKS[0], ORACLE)
    assert "/testbed/pkg/parse.py" in hint and "/testbed/pkg/new.py" in hint
    assert setting_hint(TASKS[0], END_TO_END) == ""
    with pytest.raises(ConfigError):
        setting_hint(TASKS[0], "nope")


def test_predictions_round_trip_and_bad_lines_name_the_line(tmp_path: Path) -> None:
    preds = [Prediction("a-1", "m", "diff\n"), Prediction("b-2", "m", "")]
    path = tmp_path / "predictions.jsonl"
    assert write_predictions(preds, path) == 2
    assert read_predictions(path) == preds
    assert set(json.loads(path.read_text().splitlines()[0])) == {"instance_id", "model_name_or_path", "model_patch"}
    path.write_text('{"instance_id": "a", "model_name_or_path": "m"}\n')
    with pytest.raises(DataError, match=r"predictions.jsonl:1: field 'model_patch'"):
        read_predictions(path)


def test_report_per_repository_with_unfinished_runs_kept_apart() -> None:
    records = [{"instance_id": "org__alpha-1", "repo": "org/alpha", "resolved": True, "steps": 3, "tokens": 10},
               {"instance_id": "org__alpha-2", "repo": "org/alpha", "resolved": False, "steps": 5, "tokens": 20}]
    report = setting_report(END_TO_END, records, failed={"org__beta-3": "ModelRequestError: connection refused"})
    assert (report.overall.resolved, report.overall.total) == (1, 2)  # a run that never finished is no verdict
    assert report.per_repo["org/alpha"].rate == 0.5 and "org/beta" not in report.per_repo
    assert report.failed == {"org__beta-3": "ModelRequestError: connection refused"}
    assert report.steps == 8 and report.tokens == 30


def _fake_runner(calls: list, resolved_ids: set[str], fail: set[str] = frozenset(), model: str = "m"):
    def run_one(job, setting):
        calls.append((job.key, setting))
        if job.task.instance_id in fail:
            raise RuntimeError("no sandbox")
        solved = job.task.instance_id in resolved_ids and setting == ORACLE
        return {"key": job.key, "instance_id": job.task.instance_id, "repo": job.task.repo, "model": model,
                "resolved": solved, "patch": f"patch for {job.task.instance_id}", "steps": 2, "tokens": 7}

    return run_one


def test_evaluate_writes_predictions_report_and_picture_and_resumes(tmp_path: Path) -> None:
    calls: list = []
    report = evaluate(TASKS, None, tmp_path, model=M, dataset="file", workers=2,
                      run_one=_fake_runner(calls, {"org__alpha-1"}, fail={"org__beta-3"}))
    assert len(calls) == 6
    e2e, oracle = report.settings[END_TO_END], report.settings[ORACLE]
    assert (e2e.overall.resolved, e2e.overall.total) == (0, 2)
    assert (oracle.overall.resolved, oracle.overall.total) == (1, 2) and oracle.per_repo["org/alpha"].rate == 0.5
    assert oracle.failed == {"org__beta-3": "RuntimeError: no sandbox"} and report.failed == 2
    preds = read_predictions(tmp_path / ORACLE / "predictions.jsonl")
    assert [p.instance_id for p in preds] == ["org__alpha-1", "org__alpha-2"]  # a crashed run has no prediction
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["settings"][ORACLE]["per_repo"]["org/alpha"] == {"resolved": 1, "total": 2, "rate": 0.5}
    page = (tmp_path / "report.html").read_text()
    assert saved["settings"][ORACLE]["failed"] == {"org__beta-3": "RuntimeError: no sandbox"}
    assert "org/alpha" in page and "50.0% (1/2)" in page and "data:image/png;base64," in page
    assert "2 runs did not finish" in page and "RuntimeError: no sandbox" in page

    calls.clear()
    again = evaluate(TASKS, None, tmp_path, model=M, dataset="file", run_one=_fake_runner(calls, {"org__alpha-1"}))
    assert sorted(calls) == [("org__beta-3_0", END_TO_END), ("org__beta-3_0", ORACLE)]  # only the crashed runs
    assert again.settings[ORACLE].failed == {} and again.settings[ORACLE].overall.total == 3 and again.failed == 0
    assert "org/beta" in render_html([EvalRun.read(tmp_path)], tmp_path)

    with pytest.raises(ConfigError, match="is a run of model 'm', not 'other'; write each model's runs into their own"):
        evaluate(TASKS, None, tmp_path, model=ModelIdentity("other", "other"), dataset="file",
                 run_one=_fake_runner([], set(), model="other"))


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        evaluate(TASKS, None, tmp_path, model=M, dataset="file", settings=["agentless"])


def test_html_escapes_names() -> None:
    from swe_srl.evaluate.resolve_rate import EvalReport

    report = EvalReport("<m>", "d", {END_TO_END: setting_report(END_TO_END, [
        {"instance_id": "x", "repo": "a<b", "resolved": True}])})
    page = render_html([EvalRun(Path("."), report, ())], Path("."))
    assert "a&lt;b" in page and "&lt;m&gt;" in page and "100.0% (1/1)" in page


def test_ungradable_rows_stop_the_evaluation_before_any_run(tmp_path: Path) -> None:
    legacy = load_tasks(LEGACY)
    calls: list = []
    with pytest.raises(DataError, match=r"legacy_verified.jsonl: field 'image': row 4 \(django__django-11099\)"):
        evaluate([*TASKS, *legacy], None, tmp_path, model=M, dataset=str(LEGACY), run_one=_fake_runner(calls, set()))
    assert calls == [] and not (tmp_path / "report.json").exists()  # never a 0% from rows never gradable


def test_skipped_rows_and_the_dataset_revision_are_in_the_report(tmp_path: Path) -> None:
    legacy = load_tasks(LEGACY)
    calls: list = []
    report = evaluate([*TASKS, *legacy], None, tmp_path, model=M, dataset="SWE-bench/SWE-bench_Verified",
                      revision="abc123", skip_ungradable=True, settings=[END_TO_END], run_one=_fake_runner(calls, set()))
    assert len(calls) == 3 and report.settings[END_TO_END].overall.total == 3
    saved = json.loads((tmp_path / "report.json").read_text())
    assert (saved["dataset"], saved["revision"], saved["rows"]) == ("SWE-bench/SWE-bench_Verified", "abc123", 7)
    assert len(saved["skipped_ungradable"]) == 4
    assert saved["skipped_ungradable"][0].startswith("SWE-bench/SWE-bench_Verified: row 4 (django__django-11099): "
                                                     "field 'image'")


def test_hub_dataset_needs_a_pinned_revision_and_files_record_their_hash() -> None:
    with pytest.raises(ConfigError, match="--revision: the commit sha of SWE-bench/SWE-bench_Verified"):
        load_eval_tasks(SWE_BENCH_VERIFIED)
    dataset = load_eval_tasks(str(LEGACY))
    assert dataset.name == str(LEGACY) and len(dataset.tasks) == 4
    assert dataset.revision == "sha256:" + hashlib.sha256(LEGACY.read_bytes()).hexdigest()[:16]


def test_eval_command_on_legacy_rows_exits_non_zero_before_any_sandbox(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from swe_srl.cli import main

    out = tmp_path / "eval"
    code = main(["eval", "--dataset", str(LEGACY), "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
                 "--out", str(out)])
    assert code != 0 and not out.exists()
    said = " ".join(capsys.readouterr().out.split())
    assert "row 1 (django__django-11099)" in said and "swe-srl tasks convert" in said
