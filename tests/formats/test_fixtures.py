"""Hand-written fixtures, one per format, each holding that format's quirks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from swe_srl.actions import Action
from swe_srl.dialects import edit_text
from swe_srl.formats import ImportResult, detect_format, get_format
from swe_srl.formats.toolcalls import Thought, ToolCallError, convert_call

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str, expect_format: str) -> list[ImportResult]:
    fmt = detect_format(FIXTURES / name)
    assert fmt.name == expect_format
    return list(fmt.read(FIXTURES / name))


def reasons(result: ImportResult) -> Counter:
    return Counter(s.reason for s in result.skipped)


def test_openhands_pairs_codeact_era_events() -> None:
    [result] = read("openhands_pairs.jsonl", "openhands")
    t = result.trajectory
    assert [s.action for s in t.steps] == [
        Action.bash("ls /workspace"),
        Action.editor("view", "/workspace/calc.py", view_range=[10, 20]),  # start/end of an older read
        Action.editor("str_replace", "/workspace/calc.py", old_str="a - b", new_str="a + b"),  # "None" fillers dropped
        Action.python("print(1)"),  # a plain IPython cell is kept as a python action
        Action.submit(),
    ]
    assert t.steps[2].thought == "The sign is wrong.\n\nFix it."  # the think call carried forward
    assert t.steps[3].observation == "1"
    assert t.steps[0].observation == "calc.py\r\ntest_calc.py"
    assert (t.task_id, t.problem_statement, t.resolved, t.metadata["model"]) == ("calc__calc-1", "add() subtracts", True, "teacher-1")
    assert reasons(result) == Counter({
        "system prompt": 1, "task prompt": 1, "recall": 1, "recall result": 1, "think call": 1, "think result": 1,
        "assistant message without action": 1, "nudge": 1, "invalid tool call": 1,
    })
    assert result.units == 18 and all(s.error is None for s in result.skipped)


def test_openhands_resolver_flat_events_without_args_ids_or_causes() -> None:
    [result] = read("openhands_resolver_flat.jsonl", "openhands")
    t = result.trajectory
    assert [s.action for s in t.steps] == [
        Action.bash("ls /workspace"),
        Action.python("import ast\nprint(ast.literal_eval('[1, 2]'))"),
        Action.bash("echo '__version__ = \"1.0\"' > src/version.py"),
        Action.submit(),
    ]
    assert [s.observation[:6] for s in t.steps[:2]] == ["setup.", "[1, 2]"]  # each answers the event before it
    assert [s.thought for s in t.steps] == ["Look at the repository first.", "Check the parser.", "", "The version is added."]
    assert (t.task_id, t.patch) == ("acme__widgets-7", "diff --git a/src/version.py b/src/version.py\n")
    assert t.problem_statement.startswith("Please fix the following issue")
    assert reasons(result) == Counter({"task prompt": 1, "assistant message without action": 1})


def test_agent_skills_helpers_become_the_editor_or_shell_call_that_does_the_same() -> None:
    [result] = read("openhands_agent_skills.jsonl", "openhands")
    steps = result.trajectory.steps
    calc, notes = "/workspace/calc.py", "/workspace/notes.txt"
    assert [s.action for s in steps] == [
        Action.editor("view", calc),  # the window was the whole file
        Action.editor("view", calc, view_range=[4, 5]),
        # The helper rewrites the whole line the match touches: its indentation goes too.
        Action.editor("str_replace", calc, old_str="    return a - b", new_str="return a + b"),
        Action.editor("str_replace", calc, old_str="return a + b", new_str="    return a + b"),
        Action.editor("insert", calc, insert_line=0, new_str="import math"),
        Action.editor("insert", calc, insert_line=6, new_str="print(add(1, 2))"),
        Action.editor("create", notes, file_text="\n"),
        Action.bash("printf '%s' 'check add\n' > /workspace/notes.txt"),  # a blank file is replaced
        Action.bash("grep -rnF --exclude='.*' -- 'def add' /workspace"),  # ./ is the kernel's directory
        Action.bash("grep -nF -- check /workspace/notes.txt"),  # the open file, as the output names it
        Action.bash("find /workspace -name '*calc*' ! -xtype d"),
        Action.python("edit_file_by_replace('/workspace/calc.py', to_replace='    return a + b', new_content='    return a +')"),
        Action.editor("str_replace", calc, old_str="a * b", new_str="a + b"),  # no match: both change nothing
        Action.python("print(2 + 2)"),
        Action.submit(),
    ]
    assert steps[2].metadata["ipython_code"].startswith("edit_file_by_replace(") and "ipython_code" not in steps[11].metadata
    assert steps[0].observation.endswith("[Jupyter current working directory: /workspace]")  # kept as printed
    assert reasons(result) == Counter({"task prompt": 1})


def test_the_mapped_edits_leave_the_file_the_helpers_left() -> None:
    [result] = read("openhands_agent_skills.jsonl", "openhands")
    text = '"""Tiny calculator."""\n\n\ndef add(a, b):\n    return a - b\n'
    for step in result.trajectory.steps[2:6]:
        action = step.action
        if action.get("command") == "str_replace":
            text = edit_text.str_replace(action.get("path"), text, action.get("old_str"), action.get("new_str")).text
        else:
            text = edit_text.insert(action.get("path"), text, action.get("insert_line"), action.get("new_str")).text
    last_window = result.trajectory.steps[5].observation.split("\n")[2:9]  # what append_file printed
    assert text.splitlines() == [line.split("|", 1)[1] for line in last_window]


def test_ipython_cells_in_native_calls() -> None:
    [result] = read("ipython_chat.json", "openai-chat")
    steps = result.trajectory.steps
    assert [s.action for s in steps] == [Action.editor("view", "/w/a.py"), Action.python("x = 1\nprint(x + 1)"), Action.submit()]
    assert steps[1].observation.startswith("2\n")


def test_openhands_replay_translated_code_and_parallel_calls() -> None:
    [result] = read("openhands_replay.json", "openhands")
    steps = result.trajectory.steps
    assert steps[0].action == Action.editor("create", "/w/hello.py", file_text="print('hi')\n")
    assert steps[1].action == Action.bash("cat a.py") and steps[1].observation == "A"
    assert steps[2].action == Action.editor("view", "/w/b.py", view_range=[1, 5]) and steps[2].observation == "B"
    assert result.trajectory.task_id == "openhands_replay"


def test_openhands_reads_of_more_output_and_input_to_a_running_process_are_actions() -> None:
    [result] = read("openhands_running_process.json", "openhands")
    steps = result.trajectory.steps
    assert [s.action.render() for s in steps] == [
        Action.bash("python server.py").render(),
        "<function=bash>\n<parameter=command></parameter>\n</function>",
        "<function=bash>\n<parameter=command>C-c</parameter>\n<parameter=is_input>true</parameter>\n</function>",
        "<function=bash>\n<parameter=command></parameter>\n</function>",  # empty input: a read too
        Action.submit().render(),
    ]
    assert [s.observation for s in steps[1:3]] == ["GET / 200", "^C"]
    assert reasons(result) == Counter({"task prompt": 1})


def test_published_openhands_trajectory_sets_nebius_and_nvidia_rows() -> None:
    rebench, hero = read("openhands_trajectories.jsonl", "openhands-trajectories")
    t = rebench.trajectory
    assert (t.task_id, t.trajectory_id, t.resolved, t.patch) == ("acme__calc-12", "chatcmpl-0a1b2c", True, "diff --git a/calc.py b/calc.py\n")
    assert (t.metadata["repo"], t.metadata["exit_status"]) == ("acme/calc", "submit")
    assert [s.action.render() for s in t.steps] == [
        Action.bash("cd /workspace/acme__calc__1.0 && python -m pytest -q").render(),
        Action.editor("str_replace", "/workspace/acme__calc__1.0/calc.py", old_str="a - b", new_str="a + b").render(),
        Action.bash("").render(),  # a read of more output
        Action.submit().render(),
    ]
    assert t.steps[1].thought == "add() uses the wrong operator."
    assert reasons(rebench) == Counter({"system prompt": 1, "task prompt": 1, "think call": 1, "think result": 1})
    h = hero.trajectory
    assert (h.task_id, h.trajectory_id, h.resolved, h.metadata["dataset"]) == ("acme__calc-13", "hero-000013", None, "SWE-Gym")
    assert [s.observation[:5] for s in h.steps[:2]] == ["3:def", "     "]  # no call ids: answered in order
    assert [s.action.tool for s in h.steps] == ["bash", "str_replace_editor", "submit"]


def test_nemotron_sft_rows_json_string_calls_reasoning_and_no_verdict() -> None:
    openhands, sweagent, broken, v1 = read("nemotron_swe_rows.jsonl", "nemotron-swe")
    t = openhands.trajectory
    # No instance id and no success label: the uuid names the row, and it stays ungraded.
    assert (t.task_id, t.trajectory_id, t.resolved, t.patch) == ("3c1d9a52-6f4e-4b8a-9d27-0e5b7c1a2f90",) * 2 + (None, "")
    assert t.metadata["license"] == "cc-by-4.0"
    assert [s.action for s in t.steps] == [
        Action.bash("grep -n 'def mul' -A1 /workspace/calc/calc.py"),  # tool_calls was a JSON string
        Action.editor("str_replace", "/workspace/calc/calc.py", old_str="return a + b", new_str="return a * b"),
        Action.submit(),
    ]
    # reasoning_content leads the thought; a think call's text comes before both.
    assert [s.thought for s in t.steps] == [
        "The bug should be in calc.py; find mul first.",
        "The operator is + where * belongs.\n\nOne character to change.\n\nFix the operator.",
        "Done.",
    ]
    assert t.steps[0].observation == "3:def mul(a, b):\n4:    return a + b"  # no tool_call_id: answered in order
    assert reasons(openhands) == Counter({"system prompt": 1, "task prompt": 1, "think call": 1, "think result": 1,
                                          "invalid tool call": 1, "invalid tool call result": 1})
    [tracker] = [s for s in openhands.skipped if s.error is not None]  # a tool we do not run, named
    assert tracker.index == 8 and tracker.error.field == "messages[8].tool_calls[0].function.name"
    assert "task_tracker" in tracker.error.message and tracker.error.line == 1
    s = sweagent.trajectory
    assert [st.action.tool for st in s.steps] == ["str_replace_editor", "bash", "submit"]
    assert s.steps[0].observation.endswith("return a // b") and s.resolved is None
    [bad] = [sk for sk in broken.skipped if sk.error is not None]
    assert (bad.reason, bad.error.field, bad.error.line) == ("invalid tool call", "messages[2].tool_calls", 3)
    assert reasons(broken)["invalid tool call result"] == 1  # its tool message is accounted for too
    assert [st.action for st in broken.trajectory.steps] == [Action.submit()]
    w = v1.trajectory
    assert (w.metadata["dataset"], w.metadata["repo"], w.metadata["license"]) == ("R2E-Gym/R2E-Gym-Subset", "acme/calc", "MIT")
    assert [st.action.tool for st in w.steps] == ["bash", "str_replace_editor", "submit"]
    assert w.steps[0].thought == "Start from the code.\n\nCheck the function." and w.steps[1].thought == ""
    assert w.steps[1].observation.endswith("return a")


def test_open_swe_traces_rows_chat_of_two_harnesses_with_their_verdicts() -> None:
    openhands, sweagent, failed = read("open_swe_traces.jsonl", "open-swe-traces")
    t = openhands.trajectory
    assert (t.task_id, t.trajectory_id, t.resolved) == ("acme__calc-21", "0b6f2d1e-4c8a-4f37-9e15-a2d7c3b8e604", True)
    assert (t.metadata["language"], t.metadata["hf_dataset_name"]) == ("python", "nebius/SWE-rebench-V2")
    assert [s.thought for s in t.steps[:2]] == ["Find neg().", "Return -a.\n\nNegate it."]
    assert t.steps[1].action == Action.editor(
        "str_replace", "/workspace/calc/calc.py", old_str="    return a\n", new_str="    return -a\n")
    # resolved is 1, 0, or -1 where the run was not graded: -1 is no verdict, never a failure.
    assert (sweagent.trajectory.resolved, failed.trajectory.resolved) == (None, False)
    assert [s.action for s in sweagent.trajectory.steps] == [Action.bash("go test ./..."), Action.submit()]
    assert all(reasons(r) == Counter({"system prompt": 1, "task prompt": 1}) for r in (openhands, sweagent, failed))


def test_swe_gym_rows_parallel_calls_think_nudge_and_bad_rows() -> None:
    good, bad_args, broken, missing, empty = read("swe_gym_rows.jsonl", "swe-gym")
    t = good.trajectory
    assert (t.task_id, t.trajectory_id, t.metadata["run_id"]) == ("owner__repo-12", "owner__repo-12_3", "teacher_run_1")
    assert [s.action for s in t.steps] == [
        Action.bash("ls"),
        Action.editor("view", "/workspace/x/a.py", view_range=[1, 3]),
        Action.editor("str_replace", "/workspace/x/a.py", old_str="x = 1", new_str="x = 2"),
    ]
    assert [s.observation for s in t.steps] == ["a.py", "1 x = 1", "edited"]
    assert t.steps[0].thought == "Start by listing." and t.steps[1].thought == ""
    assert reasons(good) == Counter({"system prompt": 1, "task prompt": 1, "think call": 1, "think result": 1,
                                     "assistant message without action": 1, "nudge": 1})
    [invalid] = [s for s in bad_args.skipped if s.error is not None]
    assert invalid.reason == "invalid tool call" and invalid.index == 2
    assert invalid.error.line == 2 and invalid.error.field == "messages[2].tool_calls[0].function.arguments"
    assert [s.action for s in bad_args.trajectory.steps] == [Action.submit()]
    assert broken.error.line == 3 and "malformed JSON" in broken.error.message
    assert missing.error.field == "messages" and missing.error.line == 4
    assert "no actions" in empty.error.message and reasons(empty)["assistant message without action"] == 1


def test_think_calls_join_the_thought_of_the_next_action() -> None:
    text_form, native = read("think_calls.jsonl", "swe-gym")
    [step] = text_form.trajectory.steps  # a stopped <function=think> block, then the action
    assert step.action == Action.bash("cat calc.py") and step.thought == "Plan first.\n\nThe sign in add() is wrong."
    steps = native.trajectory.steps
    assert [s.thought for s in steps] == ["Look.\n\nStart with the source.", "Flip the sign.\n\nEdit."]
    # The last think has no action after it: counted as a think call, the only place it can go.
    assert reasons(native)["think call"] == 3 and reasons(text_form)["think call"] == 1
    assert all(s.error is None for s in native.skipped + text_form.skipped)


def test_openai_chat_bare_list_legacy_function_call_and_content_parts() -> None:
    [result] = read("openai_chat.json", "openai-chat")
    steps = result.trajectory.steps
    assert [s.action for s in steps] == [Action.bash("date"), Action.submit()]
    assert steps[0].observation == "Mon Jan 1" and steps[0].thought == "Run date."
    assert result.trajectory.problem_statement == "Task: print the date."


def test_codeact_in_text_form() -> None:
    [result] = read("codeact_chat.jsonl", "openai-chat")
    steps = result.trajectory.steps
    assert [s.action for s in steps] == [Action.bash("pytest -x"), Action.python("\nprint(1)\n"), Action.submit()]
    assert steps[0].thought == "Let me run the tests." and steps[0].observation == "1 failed\r\n"
    assert steps[1].thought == "Try python." and steps[1].observation == "1"
    assert reasons(result) == Counter({"system prompt": 1, "task prompt": 1})


def test_swe_smith_rows_template_labels_and_unclosed_block() -> None:
    [result] = read("swe_smith_rows.jsonl", "swe-smith")
    steps = result.trajectory.steps
    assert [s.action for s in steps] == [
        Action.editor("view", "/testbed/a.py", view_range=[1, 4]),
        Action.editor("str_replace", "/testbed/a.py", old_str="x = 1", new_str="x = 2\n    y = 3"),
        Action.bash("cd /testbed && python a.py"),
        Action.submit(),
        Action.submit(),
    ]
    assert steps[0].observation.startswith("Here's the result") and "\r\n" in steps[0].observation
    assert steps[1].observation == "The file /testbed/a.py has been edited."  # "Observation:" label
    assert steps[2].observation.startswith("Your command ran")  # no label at all
    assert steps[0].thought == "Look at the file." and steps[4].thought == ""
    [bad] = [s for s in result.skipped if s.error]
    assert bad.index == 10 and bad.error.field == "messages[10].content" and "not closed" in bad.error.message
    assert reasons(result)["invalid tool call result"] == 1


def test_swe_agent_text_traj() -> None:
    [result] = read("swe_agent_text.traj", "swe-agent")
    steps = result.trajectory.steps
    assert [s.action for s in steps] == [
        Action.editor("create", "/repo/repro.py", file_text=""),
        Action.bash("edit 1:1\nprint(1 + 1)\nend_of_edit"),
        Action.bash("open src/calc.py 10"),
        Action.bash('search_dir "add" src'),
        Action.submit(),
    ]
    assert steps[-1].observation.startswith("diff --git")  # from the trajectory: the chat has none
    assert steps[0].thought == "Make a script."
    assert reasons(result) == Counter({"system prompt": 1, "demonstration": 1, "task prompt": 1})
    assert result.trajectory.patch.startswith("diff --git")


def test_swe_agent_function_calling_history_only() -> None:
    [result] = read("swe_agent_fc.traj", "swe-agent")
    steps = result.trajectory.steps
    assert [s.action for s in steps] == [
        Action.bash("find_file m.py"),
        Action.bash("edit 'def f()' 'def f():'"),  # search/replace in the open file: kept as it ran
        Action.editor("view", "/repo/m.py"),
        Action.bash("python m.py"),
        Action.submit(),
    ]
    assert steps[2].observation == "1 def f():" and steps[0].observation == "Found 1 matches"


def test_mini_saved_run_with_format_error() -> None:
    [result] = read("mini_run.traj.json", "mini-swe-agent")
    steps = result.trajectory.steps
    assert [s.action for s in steps] == [Action.bash("cat f | head -n 3"), Action.submit()]
    assert steps[0].observation == "<returncode>0</returncode>\n<output>\nabc\n</output>"
    assert result.trajectory.patch == "diff --git a/f b/f\n"  # info.submission wins
    [bad] = [s for s in result.skipped if s.error]
    assert bad.index == 2 and "2 shell blocks" in bad.error.message
    assert result.trajectory.metadata["exit_status"] == "Submitted"


def test_forcing_a_format_on_the_wrong_file_fails_per_record() -> None:
    results = list(get_format("swe-agent").read(FIXTURES / "swe_gym_rows.jsonl"))
    assert results and all(r.error is not None for r in results)


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("execute_bash", '{"command": "ls", "is_input": "false", "timeout": 5}', Action.bash("ls")),
        ("finish", '{"message": "done"}', Action.submit()),
        ("str_replace_editor", {"command": "view", "path": "/a", "view_range": "None"}, Action.editor("view", "/a")),
        ("str_replace_editor", {"command": "str_replace", "path": "/a", "old_str": "x", "new_str": "None"},
         Action.editor("str_replace", "/a", old_str="x", new_str="None")),
        ("think", '{"thought": "hm"}', Thought("hm")),
        ("execute_bash", '{"command": ""}', Action.bash("")),  # read more output of the running process
        ("execute_bash", '{"command": "y", "is_input": "true"}', Action.make("bash", {"command": "y", "is_input": True})),
    ],
)
def test_tool_call_conversion(name: str, arguments: object, expected: object) -> None:
    assert convert_call(name, arguments) == expected


@pytest.mark.parametrize(
    ("name", "arguments", "field"),
    [
        ("execute_bash", '{"is_input": "true"}', "arguments.command"),
        ("browser", "{}", "name"),
        ("str_replace_editor", '{"command": "delete", "path": "/a"}', "arguments.command"),
        ("str_replace_editor", '{"command": "view", "path": "/a", "colour": 1}', "arguments.colour"),
        ("execute_bash", "[1]", "arguments"),
    ],
)
def test_invalid_tool_calls_name_their_field(name: str, arguments: object, field: str) -> None:
    with pytest.raises(ToolCallError) as caught:
        convert_call(name, arguments)
    assert caught.value.field == field


def test_openhands_text_rows_close_a_stopped_final_block() -> None:
    # OpenHands samples with "</function" as a stop word; its parser closes a lone final block.
    [result] = read("openhands_text_rows.jsonl", "swe-gym")
    steps = result.trajectory.steps
    assert [s.action for s in steps] == [
        Action.bash("ls /workspace"),
        Action.editor("str_replace", "/workspace/calc.py", old_str="a - b", new_str="a + b"),
        Action.submit(),
    ]
    assert steps[0].observation == "calc.py\n[Command finished with exit code 0]"  # label dropped
    assert [s.thought for s in steps] == ["List the files.", "Fix the sign.", "Done."]
    assert reasons(result) == Counter({"system prompt": 1, "task prompt": 1})
