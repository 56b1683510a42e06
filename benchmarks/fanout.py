"""Fan-out overhead: eval jobs per hour on the bundled tasks, the thread pool against Ray on this machine.

Baseline, measured in the same run: the thread pool of `run_batch` with N workers. Against it,
`--ray local` with N sandbox slots (the same N), its cluster start included. Every job is the
real path (a fresh Docker sandbox, the agent loop, the harness grading the diff); the model is
the bundled expert run of the task it is asked about, replayed, so the model costs nothing and
what differs between the two is the fan-out alone. Both must resolve every task.

Reproduce: .venv/bin/python benchmarks/fanout.py [--slots 2] [--rounds 1]

`--queue N` measures the start queue instead: N Ray tasks at once on this one node, each starting
and removing a real container from the base image through the node's start gate (2 starts at a
time), against the same N starts as a burst with no gate; it prints the p50/p99 of the wait in the
queue and of the start itself.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from swe_srl.agent.client import ModelReply, estimate_tokens  # noqa: E402
from swe_srl.agent.identity import ModelIdentity  # noqa: E402
from swe_srl.agent.replay import ReplayClient  # noqa: E402
from swe_srl.config.sections import ClusterConfig  # noqa: E402
from swe_srl.evaluate.oracle import SETTINGS  # noqa: E402
from swe_srl.formats.importing import import_paths  # noqa: E402
from swe_srl.prompt import Message  # noqa: E402
from swe_srl.recipes.demo import BUNDLED_TRAJECTORIES  # noqa: E402
from swe_srl.recipes.evaluate import evaluate  # noqa: E402
from swe_srl.tasks.bundled import bundled_tasks  # noqa: E402
from swe_srl.tasks.task import Task  # noqa: E402
from swe_srl.trajectory import Trajectory  # noqa: E402


class RecordedExpert:
    """A model client that replays the bundled expert run of the task its first prompt states."""

    name = "recorded-expert"

    def __init__(self, runs: dict[str, Trajectory]) -> None:
        self.runs = runs  # problem statement -> the recorded run of that task
        self.replay: ReplayClient | None = None

    def complete(self, messages: Sequence[Message]) -> ModelReply:
        if self.replay is None:
            text = "\n".join(m.content for m in messages)
            (run,) = [run for statement, run in self.runs.items() if statement in text]
            self.replay = ReplayClient(run)
        return self.replay.complete(messages)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return estimate_tokens(texts)


def expert_clients(tasks: Sequence[Task]) -> Callable[[], RecordedExpert]:
    recorded = {t.trajectory_id: t for t in import_paths([BUNDLED_TRAJECTORIES])}
    runs = {task.problem_statement: recorded[f"{task.instance_id}_0"] for task in tasks}
    return lambda: RecordedExpert(runs)


def timed_eval(tasks: Sequence[Task], slots: int, cluster: ClusterConfig) -> tuple[float, int, int]:
    """Seconds, jobs and resolved jobs of one evaluation (both settings) into a fresh folder."""
    with tempfile.TemporaryDirectory(prefix="swe-srl-fanout-") as out:
        start = time.perf_counter()
        model = ModelIdentity(RecordedExpert.name, RecordedExpert.name)
        report = evaluate(tasks, expert_clients(tasks), Path(out), model=model, dataset="bundled",
                          settings=SETTINGS, workers=slots, cluster=cluster)
        seconds = time.perf_counter() - start
    jobs = sum(s.overall.total for s in report.settings.values()) + report.failed  # unfinished runs: in no rate
    return seconds, jobs, sum(s.overall.resolved for s in report.settings.values())


def _percentiles(values: Sequence[float]) -> str:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]  # noqa: E731
    return f"p50 {pick(0.5):5.2f} s, p99 {pick(0.99):5.2f} s"


def start_queue(jobs: int, starts: int) -> None:
    """Queue wait and container start, N at once, through the start gate and as a burst."""
    import ray

    from swe_srl.host.docker import docker_client, owned_labels, remove_container, start_container
    from swe_srl.images.base import ensure_base_image
    from swe_srl.jobs.ray_batch import _gate_on, _start_slot, ray_session

    image = ensure_base_image(docker_client())

    @ray.remote(num_cpus=0)
    def one(gate) -> tuple[float, float]:
        asked = time.perf_counter()
        with _start_slot(gate):
            started = time.perf_counter()
            client = docker_client()
            remove_container(start_container(client, image, owned_labels("swe-srl.bench"), lifetime=120))
        return started - asked, time.perf_counter() - started

    with ray_session(ClusterConfig(ray="local", sandboxes_per_node=jobs)):
        node = ray.get_runtime_context().get_node_id()
        for name, gate in (("gate", _gate_on(node, starts)), ("burst", None)):
            waits, runs = zip(*ray.get([one.remote(gate) for _ in range(jobs)]))
            print(f"{name:5s} {jobs} starts: queue {_percentiles(waits)}; start {_percentiles(runs)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=2, help="thread-pool workers, and Ray sandbox slots")
    parser.add_argument("--rounds", type=int, default=1, help="evaluations per side (alternating)")
    parser.add_argument("--queue", type=int, default=0, help="measure the start queue under N concurrent jobs instead")
    args = parser.parse_args()
    if args.queue:
        start_queue(args.queue, starts=2)
        return
    tasks = bundled_tasks()
    sides = {"threads": ClusterConfig(), "ray local": ClusterConfig(ray="local", sandboxes_per_node=args.slots)}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, cluster in sides.items():
            seconds, jobs, resolved = timed_eval(tasks, args.slots, cluster)
            assert resolved == jobs, f"{name}: {resolved}/{jobs} resolved; the expert runs resolve every task"
            rates[name].append(jobs / seconds * 3600)
            print(f"{name:10s} {jobs} jobs in {seconds:6.1f} s = {jobs / seconds * 3600:7.0f} jobs/hour")
    threads, ray = (max(rates[name]) for name in sides)
    print(f"best of {args.rounds}: threads {threads:.0f} jobs/hour, ray local {ray:.0f} jobs/hour; "
          f"ray / threads = {ray / threads:.2f}x (overhead {100 * (1 - ray / threads):+.0f}%)")


if __name__ == "__main__":
    main()
