"""Real files written by teacher agents (../shared/data/trajectories): counts from each SOURCE.md."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from swe_srl.actions import Action
from swe_srl.formats import ImportResult, detect_format, import_paths, ImportReport

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "trajectories"


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared trajectory data is not beside this checkout")
    return path


def results(*parts: str) -> tuple[str, list[ImportResult]]:
    path = shared(*parts)
    fmt = detect_format(path)
    return fmt.name, list(fmt.read(path))


def assert_accounted(result: ImportResult) -> None:
    """Every message or event lands in a step (as its call or its observation) or is skipped."""
    assert result.error is None and result.trajectory is not None
    covered = {s.index for s in result.skipped}
    for step in result.trajectory.steps:
        for key in ("message_index", "event_index", "observation_index"):
            if key in step.metadata:
                covered.add(step.metadata[key])
    assert covered == set(range(result.units)), sorted(set(range(result.units)) - covered)
    assert all(s.error is None for s in result.skipped), [str(s.error) for s in result.skipped if s.error]


@pytest.mark.parametrize(
    ("parts", "format_name", "counts"),
    [
        (("openhands", "multi_swe_bench.output.jsonl"), "openhands", [22, 33, 48]),
        (("openhands", "replay.basic.json"), "openhands", [2]),
        (("openhands", "replay.wrong_initial_state.json"), "openhands", [4]),
        (("openhands", "swe-gym-sampled.sample.json"), "swe-gym", [21, 9, 11, 17, 29]),
        (("mini-swe-agent", "github_issue.v2.traj.json"), "mini-swe-agent", [10]),
        (("mini-swe-agent", "github_issue.v1.traj.json"), "mini-swe-agent", [10]),
        (("mini-swe-agent", "local.v2.traj.json"), "mini-swe-agent", [2]),
        (("swe-agent", "marshmallow-1867.default.traj"), "swe-agent", [14]),
        (("swe-agent", "marshmallow-1867.xml.traj"), "swe-agent", [11]),
        (("swe-agent", "marshmallow-1867.function_calling.traj"), "swe-agent", [11]),
        (("swe-agent", "marshmallow-1867.function_calling_replace.traj"), "swe-agent", [11]),
        (("swe-agent", "function_calling_simple.traj"), "swe-agent", [5]),
        (("swe-agent", "swe-agent__test-repo-i1.gpt4.traj"), "swe-agent", [5]),
        (("swe-smith", "ft_xml_example.jsonl"), "swe-smith", [37, 44, 22]),
        (("swe-smith", "pydantic__pydantic.acb0f10f.pr_8316.traj"), "swe-agent", [22]),
    ],
)
def test_action_counts_match_source_md(parts: tuple[str, ...], format_name: str, counts: list[int]) -> None:
    name, found = results(*parts)
    assert name == format_name
    assert [len(r.trajectory.steps) for r in found if r.trajectory] == counts
    for result in found:
        assert_accounted(result)


def test_whole_folder_imports_strictly_with_nothing_failed() -> None:
    report = ImportReport()
    trajectories = list(import_paths([shared()], strict=True, report=report))
    assert report.files == 15 and len(trajectories) == report.trajectories == 23
    # openhands 109, swe-gym 87, mini 22, swe-agent 57, its SWE-smith run 22, SWE-smith rows 103
    assert report.steps == sum(len(t.steps) for t in trajectories) == 109 + 87 + 22 + 57 + 22 + 103
    assert not report.failed and all(p.endswith("SOURCE.md") for p in report.ignored_files)


def test_swe_smith_traj_and_jsonl_row_3_give_the_same_actions() -> None:
    _, from_traj = results("swe-smith", "pydantic__pydantic.acb0f10f.pr_8316.traj")
    _, rows = results("swe-smith", "ft_xml_example.jsonl")
    a, b = from_traj[0].trajectory, rows[2].trajectory
    assert a.task_id == b.task_id == "pydantic__pydantic.acb0f10f.pr_8316"
    assert [s.action for s in a.steps] == [s.action for s in b.steps]
    assert [s.thought for s in a.steps] == [s.thought for s in b.steps]
    # Same observations once the chat's OBSERVATION: label is gone, but for the last submit,
    # whose output the fine-tuning row never shows.
    assert [s.observation for s in a.steps[:-1]] == [s.observation for s in b.steps[:-1]]
    # Every run submits twice: the first submit gets SWE-agent's review text back.
    submits = [i for i, s in enumerate(b.steps) if s.action == Action.submit()]
    assert submits == [19, 21] and b.steps[19].observation.startswith("Thank you for your work")
    assert "\r\n" in b.steps[3].observation  # kept byte for byte
    assert "<function=example_function_name>" not in "".join(s.action.render() for s in b.steps)


def test_swe_smith_multiline_parameters_survive() -> None:
    _, rows = results("swe-smith", "ft_xml_example.jsonl")
    created = rows[2].trajectory.steps[2].action
    assert created.tool == "str_replace_editor" and created.get("command") == "create"
    assert created.get("file_text").count("\n") > 5


def test_openhands_quirks() -> None:
    _, records = results("openhands", "multi_swe_bench.output.jsonl")
    first, second, third = (r.trajectory for r in records)
    assert first.steps[-1].action == Action.submit()
    assert Counter(s.reason for s in records[1].skipped)["invalid tool call"] == 1  # error with no action
    assert third.steps[-1].action.tool != "submit" and "maximum iteration" in third.metadata["error"]
    assert first.patch.startswith("diff --git") and first.problem_statement.startswith("ponyc segfaults")
    ranged = [s.action for s in first.steps if s.action.get("view_range")]
    assert ranged[0] == Action.editor("view", "/workspace/ponylang__ponyc__0.1/src/libponyc/ast/parser.c", view_range=[650, 700])
    # Event ids skip numbers (3 is missing); observations still join their actions by cause.
    assert all(s.metadata["observation_index"] == s.metadata["event_index"] + 1 for s in first.steps[:-1])


def test_openhands_replay_edit_comes_from_the_tool_call() -> None:
    _, records = results("openhands", "replay.basic.json")
    create = records[0].trajectory.steps[0].action
    assert create.get("command") == "create" and create.get("path") == "/workspace/game_2048.py"
    assert create.get("file_text").startswith("import random\nimport keyboard\n")
    _, records = results("openhands", "replay.wrong_initial_state.json")
    steps = records[0].trajectory.steps
    assert [s.action for s in steps] == [
        Action.editor("view", "/workspace"),
        Action.bash("mv /workspace/game_2048.py /workspace/2048.py"),
        Action.editor("view", "/workspace"),
        Action.submit(),
    ]
    assert steps[2].observation.endswith("/workspace/2048.py")


def test_swe_gym_quirks() -> None:
    _, records = results("openhands", "swe-gym-sampled.sample.json")
    first = records[0].trajectory
    assert first.task_id == "python__mypy-15976" and first.trajectory_id == "python__mypy-15976_0"
    assert first.resolved is True and first.patch.startswith("diff --git")
    # Message 25 carries four parallel calls: four steps, each with its own tool reply, in order.
    parallel = [s for s in first.steps if s.metadata["message_index"] == 25]
    assert [s.metadata["observation_index"] for s in parallel] == [26, 27, 28, 29]
    assert parallel[0].thought and not any(s.thought for s in parallel[1:])
    assert Counter(s.reason for s in records[0].skipped)["nudge"] == 2
    assert records[4].trajectory.steps[-1].action.tool != "submit"  # the last row has no finish
    assert not first.steps[0].observation.startswith("OBSERVATION:")


def test_mini_swe_agent_finish_marker_becomes_submit() -> None:
    for name, marker in (("github_issue.v1.traj.json", "MINI_SWE_AGENT_FINAL_OUTPUT"),
                         ("github_issue.v2.traj.json", "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")):
        _, records = results("mini-swe-agent", name)
        steps = records[0].trajectory.steps
        assert steps[0].action == Action.bash("cat /Users/fuchur/Documents/24/git_sync/swe-agent-test-repo/tests/./missing_colon.py")
        assert steps[-1].action == Action.submit() and marker in steps[-1].metadata["original_command"]
        assert records[0].trajectory.patch.startswith("diff --git a/tests/missing_colon.py")
        assert steps[0].observation.startswith("<returncode>1</returncode>")


def test_swe_agent_commands_map_honestly() -> None:
    _, records = results("swe-agent", "marshmallow-1867.default.traj")
    steps = records[0].trajectory.steps
    assert steps[0].action == Action.bash("ls -F")
    assert steps[1].action == Action.bash("open setup.py")  # a SWE-agent command, kept as it ran
    assert steps[3].action == Action.editor("create", "/marshmallow-code__marshmallow/reproduce.py", file_text="")
    assert steps[3].metadata["original_command"] == "create reproduce.py"
    assert steps[4].action.get("command").startswith("edit 1:1\n") and steps[4].action.get("command").endswith("end_of_edit")
    assert steps[13].action == Action.submit()
    assert records[0].trajectory.patch.startswith("\ndiff --git")
    _, records = results("swe-agent", "marshmallow-1867.function_calling.traj")
    steps = records[0].trajectory.steps
    assert steps[0].action == Action.editor("create", "/testbed/reproduce.py", file_text="")
    assert steps[4].action == Action.bash("find_file fields.py src")
    assert records[0].trajectory.task_id == "marshmallow-code__marshmallow-1867"


def test_swe_agent_demonstrations_are_counted_not_steps() -> None:
    _, records = results("swe-agent", "swe-agent__test-repo-i1.gpt4.traj")
    assert Counter(s.reason for s in records[0].skipped)["demonstration"] == 1
    assert records[0].trajectory.problem_statement.startswith("We're currently solving")
