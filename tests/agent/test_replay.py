"""The replay client: plays a recording back; re-run in fresh sandboxes, every bundled task resolves."""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.actions import Action
from swe_srl.agent import loop
from swe_srl.agent.replay import ReplayClient, compare, replay
from swe_srl.formats.importing import import_paths
from swe_srl.trajectory import Step, Trajectory

from tests.agent.fakes import TASK, FakeTools

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_ROWS = REPO_ROOT / "trajectories" / "bundled.swe-gym.jsonl"

RECORDED = Trajectory(
    task_id=TASK.instance_id, source_format="swe-gym", problem_statement=TASK.problem_statement, patch="THE PATCH",
    steps=(Step(Action.bash("ls"), "ran: ls", "look <function=bash> quoted"),
           Step(Action.editor("view", "/testbed/a.py"), "ran: view", "read"),
           Step(Action.submit(), "THE PATCH", "done")),
)


def test_replay_plays_every_action_in_order() -> None:
    tools = FakeTools(diff="THE PATCH")
    replayed = replay(RECORDED, TASK, tools)
    assert tools.actions == [s.action for s in RECORDED.steps]
    assert [s.thought for s in replayed.steps] == [s.thought for s in RECORDED.steps]
    assert replayed.metadata["stop_reason"] == loop.SUBMITTED and replayed.metadata["malformed"] == 0
    result = compare(RECORDED, replayed, resolved=None)
    assert result.same_observations == 3 and result.same_patch and not result.valid


def test_replay_without_submit_ends_with_one() -> None:
    unfinished = Trajectory(TASK.instance_id, "swe-gym", RECORDED.steps[:2], patch="x")
    client = ReplayClient(unfinished)
    actions = [client.complete(()).action for _ in range(4)]
    assert actions == [RECORDED.steps[0].action, RECORDED.steps[1].action, Action.submit(), Action.submit()]
    tools = FakeTools(diff="other")
    result = compare(unfinished, replay(unfinished, TASK, tools), resolved=False)
    assert tools.actions[-1] == Action.submit() and not result.same_patch


@pytest.mark.docker
@pytest.mark.slow
def test_every_bundled_task_resolves_from_its_bundled_trajectory(tmp_path: Path, docker_client) -> None:
    from swe_srl.evaluate.grade import grade_many
    from swe_srl.sandbox.docker import DockerSandbox
    from swe_srl.sandbox.execute import ToolRunner
    from swe_srl.tasks.bundled import bundled_tasks

    if not BUNDLED_ROWS.is_file():
        pytest.skip(f"{BUNDLED_ROWS} is absent")
    tasks = {t.instance_id: t for t in bundled_tasks()}
    first: dict[str, Trajectory] = {}
    for trajectory in import_paths([BUNDLED_ROWS], strict=True):
        first.setdefault(trajectory.task_id, trajectory)
    assert set(first) == set(tasks), "every bundled task needs a bundled trajectory"
    results = {}
    for task_id, recorded in sorted(first.items()):
        with DockerSandbox.start(tasks[task_id]) as sandbox:  # fresh: nothing of the recording's run
            replayed = replay(recorded, tasks[task_id], ToolRunner(sandbox), diff=sandbox.diff)
        results[task_id] = (recorded, replayed)
    reports = grade_many([(tasks[i], results[i][1].patch) for i in sorted(results)], run_id="replay",
                         log_dir=tmp_path / "grading", workers=2)
    for report in reports:
        recorded, replayed = results[report.instance_id]
        check = compare(recorded, replayed, report.resolved)
        assert check.valid, f"{report.instance_id}: {report.to_json()}"
        assert check.same_patch, report.instance_id
        assert replayed.metadata["stop_reason"] == loop.SUBMITTED
