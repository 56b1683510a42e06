"""RLVR on a bundled task end to end: episodes in real Docker sandboxes, patches graded by the harness, an
update with signal, exact resume, and injected infrastructure failures masked and counted.

The tiny random model fixes nothing, so one sandbox per step starts with the task's gold patch already
applied (as if that episode had written it): its final diff resolves under the real harness and the
group's rewards differ. One start and one grading per step are made to fail, as a lost container or a
broken grader would.
"""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("torch")

from swe_srl.config.train import load_config  # noqa: E402
from swe_srl.errors import SandboxError  # noqa: E402
from swe_srl.host.owners import OWNER_LABEL, owner_id  # noqa: E402
from swe_srl.jobs.rlvr_environment import SandboxEnvironment  # noqa: E402
from swe_srl.recipes.train_rlvr import run  # noqa: E402
from swe_srl.sandbox.docker import LABEL  # noqa: E402
from swe_srl.tasks.bundled import bundled_tasks  # noqa: E402
from swe_srl.train.metrics import read_metrics  # noqa: E402

pytestmark = [pytest.mark.docker, pytest.mark.slow]
GROUP = 5  # per step: one head start with the gold patch, two plain, one start failure, one grader failure


class Injected:
    """The real environment with, per group of starts, one gold head start and one failed start, and per step
    one failed grading (the first grading of an empty patch)."""

    def __init__(self, inner: SandboxEnvironment) -> None:
        self.inner, self.lock = inner, threading.Lock()
        self.starts = 0
        self.failed_grades: set[str] = set()

    def start(self, task):
        with self.lock:
            number, self.starts = self.starts, self.starts + 1
        if number % GROUP == 1:
            raise SandboxError("injected: the container did not start")
        workspace = self.inner.start(task)
        if number % GROUP == 0:
            applied = workspace.sandbox.run(f"git -C /testbed apply <<'GOLD_PATCH'\n{task.patch}\nGOLD_PATCH")
            assert applied.exit_code == 0, applied.output
        return workspace

    def grade(self, task, patch, run_id):
        step = run_id.split("-")[1]
        with self.lock:
            fail = not patch.strip() and step not in self.failed_grades
            if fail:
                self.failed_grades.add(step)
        if fail:
            raise SandboxError("injected: the grader gave no verdict")
        return self.inner.grade(task, patch, run_id)


def test_rlvr_on_a_bundled_task_grades_updates_masks_and_resumes(docker_client, tmp_path) -> None:
    task = bundled_tasks()[0]
    out = tmp_path / "rlvr"
    overrides = [f"run.output_dir={out}", "run.steps=1", "run.save_every=1", f"rollout.num_generations={GROUP}",
                 "grpo.prompts_per_step=1", "rlvr.max_turns=2", "rlvr.workers=3", "rollout.max_new_tokens=16"]
    env = Injected(SandboxEnvironment("docker", "swe-srl", tmp_path / "grading"))
    first = run(load_config("rlvr-tiny-cpu", overrides), environment=env, tasks=[task])
    (record,) = first.history
    assert record["outcome_resolved"] == 1  # the head start's diff, resolved by the harness
    assert record["outcome_empty_patch"] == 2  # two plain episodes and no fix; one empty grading raised below
    assert record["masked_sandbox_start"] == 1 and record["masked_grader"] == 1
    assert record["masked_fraction"] == pytest.approx(2 / GROUP)
    assert record["groups_kept"] == 1 and record["rows"] > 0
    assert record["grad_norm"] > 0  # advantages of (1, 0, 0): the update has a gradient
    assert (out / "checkpoint-1").is_dir() and (out / "final").is_dir()
    assert not list((tmp_path / "grading").glob("*/*")), "graded logs are removed once read"

    resumed = run(load_config("rlvr-tiny-cpu", [*overrides[1:], f"run.output_dir={out}", "run.steps=2",
                                                "run.resume=true"]), environment=env, tasks=[task])
    assert [r["step"] for r in resumed.history] == [2]
    assert [r["step"] for r in read_metrics(out)] == [1, 2]
    assert resumed.history[0]["outcome_resolved"] == 1 and resumed.history[0]["masked_grader"] == 1
    assert not docker_client.containers.list(all=True, filters={"label": [LABEL, f"{OWNER_LABEL}={owner_id()}"]})
