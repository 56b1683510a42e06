"""Jobs fanned out over a Ray cluster of two node processes: real sandboxes and grading, one node killed mid-run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from swe_srl.config.sections import ClusterConfig
from swe_srl.errors import ConfigError
from swe_srl.host.owners import OWNER_LABEL, owner_alive
from swe_srl.jobs.batch import BatchResult, Finisher, Job
from swe_srl.jobs.store import RunStore
from swe_srl.tasks.task import Task

REPO_ROOT = Path(__file__).resolve().parents[2]
OUR_LABELS = ("swe-srl=1", "swe-srl.grade=1")  # sandbox and grading containers


def test_a_job_finished_twice_is_stored_once(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    result = BatchResult()
    finish = Finisher(store, result, 1, None)
    job = Job(Task("org__repo-1", "org/repo", "0" * 40, "issue", ""), 0)
    finish.failed(job, "NodeDiedError: lost", infra=True)
    finish.stored(job, {"key": job.key, "try": 1})
    finish.stored(job, {"key": job.key, "try": 2})
    assert store.keys() == [job.key] and store.get(job.key)["try"] == 1
    assert result.ran == 1 and result.infra_failed == {} and result.failed == {}


def test_cluster_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="ray start --resources"):
        ClusterConfig(ray="auto", sandboxes_per_node=4)
    with pytest.raises(ConfigError, match="starts_per_node"):
        ClusterConfig(ray="local", starts_per_node=0)


def test_without_ray_chosen_ray_is_never_imported(tmp_path: Path) -> None:
    script = ("import sys; from pathlib import Path; "
              "from swe_srl.recipes.collect import collect, scripted_teacher; from swe_srl.tasks.task import Task; "
              "t = Task('org__repo-1', 'org/repo', '0' * 40, 'issue', '', fail_to_pass=('t',), image='img', "
              "eval_script='#!/bin/bash\\n', log_parser='parse_log_pytest', eval_type='pass_and_fail'); "
              "from swe_srl.trajectory import Trajectory; "
              "run = lambda job: {'key': job.key, "
              "                   'trajectory': Trajectory(job.task.instance_id, 'agent', ()).to_json()}; "
              f"collect([t], scripted_teacher(), Path({str(tmp_path)!r}), run_one=run); "
              "print('ray' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


def test_a_task_wider_than_every_node_is_refused_before_it_runs(ray_cluster) -> None:
    from swe_srl.jobs.ray_batch import map_on_ray

    ran: list[str] = []
    with pytest.raises(ConfigError, match="takes 2 sandboxes at once and the largest node holds 1"):
        list(map_on_ray(["pkg"], ran.append, ClusterConfig(ray=ray_cluster.address), slots=2))
    assert ran == []


def test_the_start_gate_queues_starts_past_its_cap(ray_cluster) -> None:
    import ray

    from swe_srl.jobs.ray_batch import StartGate

    ray.init(address=ray_cluster.address)
    try:
        gate = StartGate.options(max_concurrency=100).remote(1)
        first = ray.get(gate.acquire.remote())
        second = gate.acquire.remote()
        ready, _ = ray.wait([second], timeout=1.0)
        assert ready == []  # the one slot is held: the second start waits
        ray.get(gate.release.remote(first))
        assert ray.get(second, timeout=10) != first
    finally:
        ray.shutdown()


def test_a_job_whose_worker_keeps_dying_is_an_infrastructure_failure_not_a_score(tmp_path: Path, ray_cluster) -> None:
    from swe_srl.agent.identity import ModelIdentity
    from swe_srl.evaluate.oracle import END_TO_END
    from swe_srl.recipes.evaluate import evaluate

    gradable = dict(fail_to_pass=("t",), image="img", eval_script="#!/bin/bash\n", log_parser="parse_log_pytest",
                    eval_type="pass_and_fail")
    tasks = [Task(f"org__repo-{i}", "org/repo", "0" * 40, f"issue {i}", "", **gradable) for i in (1, 2, 3)]

    def run_one(job: Job, setting: str) -> dict:  # pickled by value to the cluster's workers
        if job.task.instance_id == "org__repo-2":
            os._exit(1)  # the worker process dies, as when its node is lost
        if job.task.instance_id == "org__repo-3":
            raise RuntimeError("the agent crashed")
        return {"key": job.key, "instance_id": job.task.instance_id, "repo": job.task.repo, "model": "m",
                "resolved": True, "patch": "", "steps": 1, "tokens": 1}

    cluster = ClusterConfig(ray=ray_cluster.address, max_retries=1)
    report = evaluate(tasks, None, tmp_path, model=ModelIdentity("m", "m"), dataset="file", settings=[END_TO_END],
                      run_one=run_one, cluster=cluster)
    e2e = report.settings[END_TO_END]
    assert sorted(e2e.failed) == ["org__repo-2", "org__repo-3"]
    assert e2e.failed["org__repo-2"].startswith("infrastructure: lost to the cluster: WorkerCrashedError")
    assert e2e.failed["org__repo-3"] == "RuntimeError: the agent crashed"
    assert (e2e.overall.resolved, e2e.overall.total) == (1, 1)  # neither unfinished run is in a rate
    assert RunStore(tmp_path / END_TO_END / "runs").keys() == ["org__repo-1_0"]


def _containers(docker_client) -> list:
    listing = docker_client.containers.list
    return [c for label in OUR_LABELS for c in listing(all=True, filters={"label": label}, ignore_removed=True)]


def _parent(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[1])


def _on_node(container, raylet_pid: int) -> bool:
    """Whether ``container``'s owner is a worker process of the node whose raylet is ``raylet_pid``."""
    pid = int(container.labels.get(OWNER_LABEL, "0:0").split(":")[-2] or 0)  # owners.py: ...:<pid>:<start>
    try:
        return pid > 0 and _parent(pid) == raylet_pid
    except (OSError, ValueError):
        return False


@pytest.mark.docker
@pytest.mark.slow
def test_collect_over_two_nodes_survives_a_node_killed_mid_run(tmp_path: Path, ray_cluster, docker_client) -> None:
    import ray
    from ray._private import ray_constants

    from swe_srl.recipes.collect import RUNS_DIR, collect, scripted_teacher
    from swe_srl.tasks.bundled import bundled_tasks

    ray.init(address=ray_cluster.address)  # this driver on the head, so the node killed below is another one
    try:
        worker = ray_cluster.add_node(num_cpus=1, resources={"swe_srl_sandbox": 1})
        raylet_pid = worker.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid
        tasks = bundled_tasks()[:3]
        cluster = ClusterConfig(ray=ray_cluster.address, starts_per_node=1, max_retries=2)
        outcome: dict = {}

        def run() -> None:
            try:
                outcome["summary"] = collect(tasks, scripted_teacher(), tmp_path, samples=(0,), cluster=cluster)
            except BaseException as err:  # handed to the test thread
                outcome["error"] = err

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 120
        while not any(_on_node(c, raylet_pid) for c in _containers(docker_client)):
            assert thread.is_alive() and time.monotonic() < deadline, f"no job ever ran on the second node: {outcome}"
            time.sleep(0.2)
        ray_cluster.remove_node(worker, allow_graceful=False)  # SIGKILL: its job dies with its sandbox open
        thread.join(timeout=240)
        assert not thread.is_alive() and "error" not in outcome, outcome
    finally:
        ray.shutdown()
    summary = outcome["summary"]
    records = dict(RunStore(tmp_path / RUNS_DIR).items())
    assert sorted(records) == sorted(f"{t.instance_id}_0" for t in tasks)  # every task once: the lost one rerun
    assert all(r["resolved"] for r in records.values())
    assert (summary.runs, summary.failed, summary.infra_failed, summary.total) == (3, 0, 0, 3)
    leftovers = [c.name for c in _containers(docker_client) if not owner_alive(c.labels.get(OWNER_LABEL, ""))]
    assert leftovers == []  # the killed worker's sandbox was reaped on a node still up
