"""tasks export --format swebench: swebench's own harness, run on the exported files alone, resolves
what swe-srl's grading resolves."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from swe_srl.cli import main
from swe_srl.evaluate.grade import grade_many
from swe_srl.evaluate.predictions import Prediction, read_predictions, write_predictions
from swe_srl.tasks.bundled import bundled_tasks

pytestmark = [pytest.mark.docker, pytest.mark.slow]

HOOK = "diff --git a/conftest.py b/conftest.py\nnew file mode 100644\n--- /dev/null\n+++ b/conftest.py\n@@ -0,0 +1 @@\n+x = 1\n"


def test_the_official_harness_agrees_on_exported_files(docker_client, tmp_path):
    tasks = bundled_tasks()[:4]
    if len(tasks) < 4:
        pytest.skip("fewer than 4 bundled tasks in environments/")
    patches = [tasks[0].patch, tasks[1].patch, "", tasks[3].patch + HOOK]  # gold, gold, empty, gold + a conftest
    write_predictions([Prediction(t.instance_id, "m", p) for t, p in zip(tasks, patches)], tmp_path / "in.jsonl")
    tasks_file = tmp_path / "tasks.jsonl"
    tasks_file.write_text("".join(json.dumps(t.to_row()) + "\n" for t in tasks))

    out = tmp_path / "export"
    assert main(["tasks", "export", str(tasks_file), "--predictions", str(tmp_path / "in.jsonl"), "--out", str(out)]) == 0
    exported = {p.instance_id: p.model_patch for p in read_predictions(out / "predictions.jsonl")}
    assert exported[tasks[3].instance_id] == tasks[3].patch  # the conftest part is set aside, as swe-srl grades
    rows = [json.loads(line) for line in (out / "dataset.jsonl").read_text().splitlines()]
    assert [row["instance_id"] for row in rows] == [t.instance_id for t in tasks] and all(row["image"] for row in rows)

    done = subprocess.run([sys.executable, "-m", "swebench.harness.run_evaluation", "--dataset_name",
                           str(out / "dataset.jsonl"), "--predictions_path", str(out / "predictions.jsonl"),
                           "--run_id", "export-check", "--max_workers", "2", "--report_dir", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    official = json.loads((tmp_path / "m.export-check.json").read_text())
    ours = grade_many(list(zip(tasks, patches)), run_id="export-ours", log_dir=tmp_path / "ours", workers=2,
                      client=docker_client)
    assert sorted(official["resolved_ids"]) == sorted(r.instance_id for r in ours if r.resolved)
    assert sorted(official["resolved_ids"]) == sorted([tasks[0].instance_id, tasks[1].instance_id,
                                                       tasks[3].instance_id])
