"""Collection: resumable after a real kill, nothing written twice, parallel, real sandboxes and grading."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from swe_srl.errors import ConfigError, DataError
from swe_srl.formats.importing import import_paths
from swe_srl.jobs.batch import Job, run_batch
from swe_srl.jobs.store import RunStore
from swe_srl.recipes.collect import ROWS_FILE, RUNS_DIR, STORE_FILE, SUMMARY_FILE, collect, scripted_teacher
from swe_srl.tasks.task import Task

REPO_ROOT = Path(__file__).resolve().parents[1]
# What the row check before any work needs to let a task through.
GRADABLE = dict(fail_to_pass=("t",), image="img", eval_script="#!/bin/bash\n", log_parser="parse_log_pytest",
                eval_type="pass_and_fail")

# A collection whose jobs are fake (no Docker): each takes a moment and yields a deterministic
# graded trajectory. Run as a subprocess so that it can really be killed.
FAKE_COLLECT = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from swe_srl.actions import Action
    from swe_srl.recipes.collect import collect, scripted_teacher
    from swe_srl.tasks.task import Task
    from swe_srl.trajectory import Step, Trajectory

    def run_one(job):
        time.sleep(float(sys.argv[2]))
        steps = (Step(Action.bash(f"echo {job.key}"), job.key, "look"), Step(Action.submit(), "patch"))
        resolved = job.sample % 2 == 0
        t = Trajectory(job.task.instance_id, "agent", steps, "issue", "patch", resolved,
                       {"trajectory_id": job.key, "seed": job.sample, "model": "fake"})
        return {"key": job.key, "instance_id": job.task.instance_id, "sample": job.sample, "resolved": resolved,
                "trajectory": t.to_json()}

    tasks = [Task(f"org__repo-{i}", "org/repo", "0" * 40, f"issue {i}", "", fail_to_pass=("t",), image="img",
                  eval_script="#!/bin/bash\\n", log_parser="parse_log_pytest", eval_type="pass_and_fail")
             for i in range(4)]
    collect(tasks, scripted_teacher(), Path(sys.argv[1]), samples=(0, 1), workers=2, run_one=run_one)
''')


def _run_fake(out: Path, delay: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-c", FAKE_COLLECT, str(out), str(delay)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for_runs(folder: Path, at_least: int, proc: subprocess.Popen, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        # Count the files only: a RunStore here would clear the running collection's temp files.
        if folder.is_dir() and len(list(folder.glob(f"*{RunStore.SUFFIX}"))) >= at_least:
            return
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    raise AssertionError(f"no {at_least} runs in {folder} after {limit}s")


def _outputs(out: Path) -> tuple[dict, list]:
    records = dict(RunStore(out / RUNS_DIR).items())
    rows = [json.loads(line) for line in (out / ROWS_FILE).read_text().splitlines()]
    return records, rows


def _inodes(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.json")}


def test_collection_killed_part_way_resumes_to_the_same_results(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    proc = _run_fake(clean, 0.0)
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()

    out = tmp_path / "killed"
    proc = _run_fake(out, 0.4)
    _wait_for_runs(out / RUNS_DIR, 2, proc)
    proc.send_signal(signal.SIGKILL)  # no cleanup of any kind runs
    proc.wait(timeout=30)
    done = _inodes(out / RUNS_DIR)
    assert 2 <= len(done) < 8, "the kill should land part-way"
    assert not (out / ROWS_FILE).exists()  # outputs are written at the end, all at once

    proc = _run_fake(out, 0.0)
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
    after = _inodes(out / RUNS_DIR)
    assert {k: after[k] for k in done} == done  # finished runs were neither run nor written again
    assert not list(out.rglob("*.tmp"))

    records, rows = _outputs(out)
    clean_records, clean_rows = _outputs(clean)
    assert records == clean_records and len(records) == 8
    assert sorted(r["instance_id"] for r in rows) == sorted(r["instance_id"] for r in clean_rows)
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["total"] == 8 and summary["resolved"] == 4 and summary["reused"] == len(done)
    assert summary["runs"] == 8 - len(done)
    store_lines = (out / STORE_FILE).read_text().splitlines()
    assert len(store_lines) == 8 and json.loads(store_lines[0])["resolved"] in (True, False)


def test_failed_jobs_are_not_stored_and_are_retried(tmp_path: Path) -> None:
    tasks = [Task(f"org__repo-{i}", "org/repo", "0" * 40, "issue", "", **GRADABLE) for i in range(3)]
    calls: list[str] = []

    def flaky(job: Job) -> dict:
        calls.append(job.key)
        if job.task.instance_id == "org__repo-1" and calls.count(job.key) == 1:
            raise RuntimeError("sandbox fell over")
        from swe_srl.actions import Action
        from swe_srl.trajectory import Step, Trajectory

        t = Trajectory(job.task.instance_id, "agent", (Step(Action.submit(), ""),), resolved=False,
                       metadata={"trajectory_id": job.key, "seed": job.sample})
        return {"key": job.key, "trajectory": t.to_json()}

    first = collect(tasks, scripted_teacher(), tmp_path, workers=3, run_one=flaky)
    assert first.failed == 1 and first.total == 2 and first.runs == 2
    second = collect(tasks, scripted_teacher(), tmp_path, workers=3, run_one=flaky)
    assert second.failed == 0 and second.runs == 1 and second.reused == 2 and second.total == 3
    assert sorted(calls) == sorted(["org__repo-0_0", "org__repo-1_0", "org__repo-1_0", "org__repo-2_0"])


def test_duplicate_jobs_and_bad_workers_are_refused(tmp_path: Path) -> None:
    task = Task("org__repo-1", "org/repo", "0" * 40, "issue", "")
    store = RunStore(tmp_path)
    with pytest.raises(ConfigError, match="share a key"):
        run_batch([Job(task, 0), Job(task, 0)], lambda job: {}, store)
    with pytest.raises(ConfigError, match="workers"):
        run_batch([Job(task, 0)], lambda job: {}, store, workers=0)


def test_stale_temporary_files_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".org__repo-1_0.json.abc.tmp").write_text('{"half": ')
    store = RunStore(tmp_path)
    assert store.keys() == [] and not list(tmp_path.iterdir())


@pytest.mark.docker
@pytest.mark.slow
def test_real_collect_cli_killed_and_resumed(tmp_path: Path, docker_client) -> None:
    from swe_srl.tasks.bundled import bundled_tasks

    tasks = bundled_tasks()[:2]
    task_file = tmp_path / "tasks.jsonl"
    task_file.write_text("".join(json.dumps(t.to_row()) + "\n" for t in tasks))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "swe_srl.cli", "collect", "--teacher", "scripted", "--tasks", str(task_file),
               "--seeds", "0", "1", "2", "--workers", "2", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_for_runs(out / RUNS_DIR, 1, proc, limit=180)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = _inodes(out / RUNS_DIR)
    assert 1 <= len(done) < 6

    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    after = _inodes(out / RUNS_DIR)
    assert {k: after[k] for k in done} == done
    expected = {f"{t.instance_id}_{s}" for t in tasks for s in (0, 1, 2)}
    records, rows = _outputs(out)
    assert set(records) == expected and all(r["resolved"] for r in records.values())
    assert {row["instance_id"] for row in rows} == expected
    # The rows read back through the SWE-Gym importer, as the bundled data does.
    trajectories = list(import_paths([out / ROWS_FILE], format="swe-gym", strict=True))
    assert len(trajectories) == 6 and all(t.resolved for t in trajectories)


@pytest.mark.docker
def test_collect_runs_on_the_local_backend(tmp_path: Path, docker_client, monkeypatch) -> None:
    """A bundled task collected end to end in a bubblewrap sandbox (graded by the harness, in Docker)."""
    from tests.sandbox.local_helpers import require_bwrap

    require_bwrap()
    from swe_srl.sandbox.docker import DockerSandbox
    from swe_srl.tasks.bundled import bundled_tasks

    def no_container(*args, **kwargs):
        raise AssertionError("the local backend started a Docker sandbox")

    monkeypatch.setattr(DockerSandbox, "start", no_container)
    task = bundled_tasks()[0]
    summary = collect([task], scripted_teacher(), tmp_path, samples=(0,), backend="local")
    assert summary.runs == 1 and summary.failed == 0 and summary.resolved == 1
    (record,) = [record for _, record in RunStore(tmp_path / RUNS_DIR).items()]
    assert record["instance_id"] == task.instance_id and record["resolved"] is True
    assert "diff --git" in record["trajectory"]["patch"]


def test_ungradable_rows_stop_collect_before_any_job_or_are_skipped_and_counted(tmp_path: Path) -> None:
    good = Task("org__repo-1", "org/repo", "0" * 40, "issue", "", **GRADABLE)
    legacy = Task("org__repo-2", "org/repo", "0" * 40, "issue", "")  # no image, eval_script, ...
    calls: list[str] = []

    def run_one(job: Job) -> dict:
        from swe_srl.actions import Action
        from swe_srl.trajectory import Step, Trajectory

        calls.append(job.key)
        t = Trajectory(job.task.instance_id, "agent", (Step(Action.submit(), ""),), resolved=True,
                       metadata={"trajectory_id": job.key, "seed": job.sample})
        return {"key": job.key, "trajectory": t.to_json()}

    with pytest.raises(DataError, match=r"rows.jsonl: field 'image': row 2 \(org__repo-2\)"):
        collect([good, legacy], scripted_teacher(), tmp_path / "a", samples=(0,), run_one=run_one, source="rows.jsonl")
    assert calls == [] and not (tmp_path / "a").exists()
    summary = collect([good, legacy], scripted_teacher(), tmp_path / "b", samples=(0,), run_one=run_one,
                      skip_ungradable=True)
    assert calls == ["org__repo-1_0"] and summary.total == 1 and summary.skipped_ungradable == 1
    assert json.loads((tmp_path / "b" / SUMMARY_FILE).read_text())["skipped_ungradable"] == 1


def test_a_folder_of_one_teachers_runs_refuses_another_teacher(tmp_path: Path) -> None:
    from swe_srl.actions import Action
    from swe_srl.recipes.collect import Teacher, run_record
    from swe_srl.trajectory import Step, Trajectory

    tasks = [Task(f"org__repo-{i}", "org/repo", "0" * 40, "issue", "", **GRADABLE) for i in range(2)]
    calls: list[str] = []

    def runner(model: str):
        def run_one(job: Job) -> dict:
            calls.append(job.key)
            t = Trajectory(job.task.instance_id, "agent", (Step(Action.submit(), ""),), resolved=True,
                           metadata={"trajectory_id": job.key, "seed": job.sample})
            return run_record(model)(job, t)

        return run_one

    first = collect(tasks, scripted_teacher(), tmp_path, run_one=runner("scripted"))
    assert first.total == 2 and {r["model"] for _, r in RunStore(tmp_path / RUNS_DIR).items()} == {"scripted"}
    other = Teacher(scripted_teacher().act, "/runs/a/srl/final@sha256:0123456789abcdef")
    with pytest.raises(ConfigError, match=r"is a run of model 'scripted', not '/runs/a/srl/final@sha256:"):
        collect(tasks, other, tmp_path, run_one=runner(other.model))
    assert len(calls) == 2  # refused before any run
