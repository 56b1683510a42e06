"""run.report_to: metrics.jsonl always, TensorBoard and/or Weights & Biases beside it."""

from __future__ import annotations

import json
import time

import pytest

from swe_srl.config import load_config
from swe_srl.errors import ConfigError
from swe_srl.train.metrics import MetricsLog, check_reporters


def test_report_to_is_a_list_override_and_unknown_names_are_refused():
    assert load_config("tiny-cpu", ["report_to=[wandb, tensorboard]"]).run.report_to == ("wandb", "tensorboard")
    assert load_config("tiny-cpu", ["report_to=[]"]).run.report_to == ()
    with pytest.raises(ConfigError, match="mlflow unknown; use any of tensorboard, wandb"):
        check_reporters(["mlflow"])


def test_wandb_gets_every_number_and_a_resumed_run_continues_the_same_wandb_run(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")  # no account, no network
    monkeypatch.setenv("WANDB_SILENT", "true")
    log = MetricsLog(tmp_path, report_to=["wandb"], run_config={"run": {"steps": 2}})
    for step in (1, 2):
        log.write({"step": step, "reward_mean": 0.25 * step, "kl": None, "note": "text is not logged"})
    log.close()
    run_id = (tmp_path / "wandb_run_id").read_text()
    [records] = (tmp_path / "wandb").glob(f"offline-run-*-{run_id}/run-{run_id}.wandb")  # what a sync uploads
    deadline = time.monotonic() + 30
    while b"reward_mean" not in records.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.2)  # wandb's service writes the file after finish() returns
    data = records.read_bytes()
    assert b"reward_mean" in data and b"0.25" in data and b"0.5" in data and b"text is not logged" not in data
    assert [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()] == [1, 2]

    resumed = MetricsLog(tmp_path, report_to=["wandb"], resume_step=2)
    resumed.write({"step": 3, "reward_mean": 1.0})
    resumed.close()
    assert (tmp_path / "wandb_run_id").read_text() == run_id
