"""Fan-out overhead: eval jobs per hour on the bundled tasks, the thread pool against Ray on this machine.

Baseline, measured in the same run: the thread pool of `run_batch` with N workers. Against it,
`--ray local` with N sandbox slots (the same N), its cluster start included. Every job is the
real path (a fresh Docker sandbox, the agent loop, the harness grading the diff); the model is
the bundled expert run of the task it is asked about, replayed, so the model costs nothing and
what differs between the two is the fan-out alone. Both must resolve every task.

Reproduce: .venv/bin/python benchmarks/fanout.py [--slots 2] [--rounds 1]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=2, help="thread-pool workers, and Ray sandbox slots")
    parser.add_argument("--rounds", type=int, default=1, help="evaluations per side (alternating)")
    args = parser.parse_args()
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
