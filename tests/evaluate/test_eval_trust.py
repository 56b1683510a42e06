"""An evaluation that cannot mislead: runs of one model per folder, and a dead model server is no 0%."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from swe_srl.agent.identity import model_identity
from swe_srl.agent.loop import AgentConfig
from swe_srl.agent.openai_client import OpenAIClient, OpenAIConfig
from swe_srl.config.sections import ClientConfig
from swe_srl.errors import ConfigError
from swe_srl.evaluate.oracle import END_TO_END
from swe_srl.evaluate.predictions import read_predictions
from swe_srl.jobs.store import RunStore
from swe_srl.recipes.evaluate import agent_in, eval_record, evaluate
from swe_srl.trajectory import Trajectory

from tests.agent.fakes import FakeTools
from tests.evaluate.test_eval_recipe import TASKS

REPO_ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graded_runner(model_key: str, resolved: bool):
    """The real record of a graded run (eval_record), without a sandbox or the harness."""

    def run_one(job, setting):
        trajectory = Trajectory(job.task.instance_id, "agent", (), job.task.problem_statement, "diff\n", resolved)
        return eval_record(setting, model_key)(job, trajectory)

    return run_one


def test_two_models_called_final_are_not_mixed_in_one_folder(two_finals: tuple[Path, Path], tmp_path: Path) -> None:
    sft, srl = (model_identity(ClientConfig(model=str(folder))) for folder in two_finals)
    out = tmp_path / "eval"
    evaluate(TASKS, None, out, model=sft, dataset="file", settings=[END_TO_END], run_one=_graded_runner(sft.key, False))
    assert {p.model_name_or_path for p in read_predictions(out / END_TO_END / "predictions.jsonl")} == {sft.key}
    assert all(record["model"] == sft.key for _, record in RunStore(out / END_TO_END / "runs").items())
    assert json.loads((out / "report.json").read_text())["model_name_or_path"] == sft.key

    calls: list = []

    def srl_runner(job, setting):
        calls.append(job.key)
        return _graded_runner(srl.key, True)(job, setting)

    with pytest.raises(ConfigError, match=r"sft/final@sha256:\w+', not '.*srl/final@sha256:\w+'; write each"):
        evaluate(TASKS, None, out, model=srl, dataset="file", settings=[END_TO_END], run_one=srl_runner)
    assert calls == []  # refused before any run: the sft runs are never reported as the srl model's
    report = evaluate(TASKS, None, tmp_path / "eval-srl", model=srl, dataset="file", settings=[END_TO_END],
                      run_one=srl_runner)
    assert report.settings[END_TO_END].overall.resolved == 3 and len(calls) == 3


def test_a_dead_model_server_fails_runs_apart_and_they_are_retried(tmp_path: Path) -> None:
    """The real client against a port nothing listens on: each run fails once retries are spent, none is stored."""
    served = OpenAIConfig(base_url=f"http://127.0.0.1:{closed_port()}/v1", model="m", max_retries=1, backoff=0.01)
    act = agent_in(END_TO_END, lambda: OpenAIClient(served), AgentConfig(max_steps=2))
    identity = model_identity(ClientConfig(model="m", base_url=served.base_url))

    def run_one(job, setting):
        tools = FakeTools()
        return eval_record(setting, identity.key)(job, act(job, tools, tools.diff))

    report = evaluate(TASKS, None, tmp_path, model=identity, dataset="file", settings=[END_TO_END], run_one=run_one)
    outcome = report.settings[END_TO_END]
    assert report.failed == 3 and outcome.overall.total == 0 and outcome.instances == {}
    assert all("connection failed" in error and "gave up after 2 attempts" in error
               for error in outcome.failed.values())
    assert RunStore(tmp_path / END_TO_END / "runs").keys() == []  # nothing stored as finished
    saved = json.loads((tmp_path / "report.json").read_text())["settings"][END_TO_END]
    assert sorted(saved["failed"]) == [t.instance_id for t in TASKS] and saved["overall"]["total"] == 0


@pytest.mark.docker
def test_eval_command_with_a_dead_model_server_exits_non_zero_without_tracebacks(tmp_path: Path,
                                                                                  docker_client) -> None:
    out = tmp_path / "eval"
    command = [sys.executable, "-m", "swe_srl.cli", "eval", "--dataset", "bundled", "--instances",
               "swe-srl__inikit-1", "swe-srl__lrukit-1", "--settings", "end-to-end", "--model", "m",
               "--base-url", f"http://127.0.0.1:{closed_port()}/v1", "--set", "client.max_retries=0",
               "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "200"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    said = done.stdout + done.stderr
    assert done.returncode == 1, said[-3000:]
    assert "Traceback" not in said
    assert said.count("did not finish: ModelRequestError") == 2 and "2 runs did not finish" in said
    assert "0.0%" not in said and "not finished (rerun to retry)" in said
    assert RunStore(out / "end_to_end" / "runs").keys() == []
