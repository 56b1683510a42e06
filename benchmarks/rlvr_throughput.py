"""RLVR episodes per hour on the bundled tasks, and where the time goes: batched episodes against one at a time.

Baseline, measured in the same run: every episode alone, one after another (one sandbox, one
generation call per turn, one grading at a time). Against it, the episode runner as RLVR uses it
(swe_srl.jobs.episodes.run_episodes): all episodes of all tasks at once, one batched generation call
per turn, ``--workers`` sandboxes acting and grading concurrently. Both take the real path: a fresh
Docker sandbox per episode, the agent loop, the harness grading each final diff in a fresh container.
The policy replays the bundled expert run of each task in token ids (the prompt shows every earlier
step, so the turn is read from it), so generation costs nearly nothing and what is measured is
the runtime around the model; every episode must resolve.

Reproduce: .venv/bin/python benchmarks/rlvr_throughput.py [--tasks 3] [--group 2] [--workers 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from swe_srl.agent.loop import AgentConfig  # noqa: E402
from swe_srl.formats.importing import import_paths  # noqa: E402
from swe_srl.jobs.episodes import EpisodeSettings, Timings, run_episodes  # noqa: E402
from swe_srl.jobs.rlvr_environment import SandboxEnvironment  # noqa: E402
from swe_srl.prompt import Message  # noqa: E402
from swe_srl.recipes.demo import BUNDLED_TRAJECTORIES  # noqa: E402
from swe_srl.stepwise import StepwiseConfig  # noqa: E402
from swe_srl.tasks.bundled import bundled_tasks  # noqa: E402
from swe_srl.tasks.task import Task  # noqa: E402
from swe_srl.train.data import chat_prompt_ids  # noqa: E402
from swe_srl.train.rollout import Completion  # noqa: E402
from swe_srl.train.tiny import tiny_tokenizer  # noqa: E402
from swe_srl.trajectory import Trajectory  # noqa: E402

ASSISTANT = "<|im_start|>assistant"


class ExpertTokens:
    """The episode runner's Policy replaying each task's bundled expert run, in the tiny tokenizer's ids."""

    def __init__(self, runs: dict[str, Trajectory]) -> None:
        self.runs, self.tokenizer = runs, tiny_tokenizer()
        self.calls = 0

    def prompt_ids(self, messages: Sequence[Message]) -> tuple[int, ...]:
        return chat_prompt_ids(self.tokenizer, [{"role": m.role, "content": m.content} for m in messages], "")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(self.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]

    def generate(self, prompts: Sequence[tuple[int, ...]]) -> list[Completion]:
        self.calls += 1
        out = []
        for ids in prompts:
            text = self.tokenizer.decode(ids)
            (run,) = [run for statement, run in self.runs.items() if statement in text]
            step = run.steps[min(text.count(ASSISTANT) - 1, len(run.steps) - 1)]  # earlier actions shown, all
            reply = f"<think>\n{step.thought}\n</think>\n{step.action.render()}"
            token_ids = tuple(self.tokenizer(reply, add_special_tokens=False)["input_ids"]) + (self.tokenizer.eos_token_id,)
            out.append(Completion(token_ids, reply, True))
        return out


def timed(tasks: Sequence[Task], group: int, workers: int, policy: ExpertTokens, alone: bool) -> tuple[float, int, int, Timings]:
    """Seconds, episodes and resolved episodes of one batch (or of every episode ``alone``), and the time split."""
    settings = EpisodeSettings(agent=AgentConfig(max_steps=40, stepwise=StepwiseConfig(context_steps="all")),
                               episode_seconds=1800, context_tokens=0, response_prefix="", workers=workers)
    timings = Timings()
    with tempfile.TemporaryDirectory(prefix="swe-srl-rlvr-bench-") as logs:
        env = SandboxEnvironment("docker", "swe-srl", Path(logs))
        start = time.perf_counter()
        if alone:
            episodes = [e for task in tasks for k in range(group)
                        for e in run_episodes([task], 1, policy, env, settings, f"alone{k}", timings)[0]]
        else:
            episodes = [e for g in run_episodes(tasks, group, policy, env, settings, "batch", timings) for e in g]
        seconds = time.perf_counter() - start
    return seconds, len(episodes), sum(e.outcome == "resolved" for e in episodes), timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=3, help="bundled tasks (in folder order)")
    parser.add_argument("--group", type=int, default=2, help="episodes per task (G)")
    parser.add_argument("--workers", type=int, default=4, help="sandboxes acting and grading at once (batched side)")
    args = parser.parse_args()
    tasks = bundled_tasks()[: args.tasks]
    recorded = {t.trajectory_id: t for t in import_paths([BUNDLED_TRAJECTORIES])}
    runs = {task.problem_statement: recorded[f"{task.instance_id}_0"] for task in tasks}
    rates = {}
    for name, alone, workers in (("one at a time", True, 1), ("batched", False, args.workers)):
        policy = ExpertTokens(runs)
        seconds, episodes, resolved, t = timed(tasks, args.group, workers, policy, alone)
        assert resolved == episodes, f"{name}: {resolved}/{episodes} resolved; the expert runs resolve every task"
        rates[name] = episodes / seconds * 3600
        print(f"{name:13s} {episodes} episodes in {seconds:6.1f} s = {rates[name]:6.0f} episodes/hour; "
              f"{policy.calls} generation calls; time in generation {t.generation:5.1f} s, sandboxes "
              f"{t.sandboxes:5.1f} s, grading {t.grading:5.1f} s (wall-clock phases)")
    print(f"batched / one at a time = {rates['batched'] / rates['one at a time']:.2f}x")


if __name__ == "__main__":
    main()
