"""execute / ToolRunner: observation text for bash, the editor and submit, through the local backend."""

from __future__ import annotations

import pytest

from swe_srl.actions import Action, parse_action
from swe_srl.dialects import get_dialect
from swe_srl.dialects.styles import NO_OUTPUT
from swe_srl.sandbox.base import Observation, SandboxLimits
from swe_srl.sandbox.execute import (
    NO_RUNNING_INPUT, NO_RUNNING_OUTPUT, ToolRunner, bash_observation, execute, python_command,
)
from swe_srl.sandbox.local import LocalSandbox
from tests.sandbox.local_helpers import make_repo, make_task, require_bwrap


# ---- pure ------------------------------------------------------------------------------------


def test_bash_observation_notes():
    assert bash_observation(Observation("hi\n", 0)) == "hi\n"
    assert bash_observation(Observation("", 0)) == NO_OUTPUT
    assert bash_observation(Observation("boom", 2)) == "boom\n[The command exited with code 2.]"
    assert bash_observation(Observation("", 1)) == "[The command exited with code 1.]"
    timed = bash_observation(Observation("partial\n", None, timed_out=True), timeout=30)
    assert timed == "partial\n[The command timed out after 30 seconds and was killed with every process it started.]"
    cut = bash_observation(Observation("x" * 10, 0, truncated=True), output_cap=10)
    assert cut.endswith("[Output truncated: the command printed more than the cap of 10 bytes.]")


def test_bash_observation_does_not_repeat_the_sessions_notes():
    text = "x\n[command timed out after 5 seconds; its processes were killed]\n"
    assert bash_observation(Observation(text, None, timed_out=True), timeout=5) == text
    text = "a\n[... 900 bytes of output omitted (limit 100) ...]\nb"
    assert bash_observation(Observation(text, 0, truncated=True)) == text


def test_python_command_picks_an_end_word_no_line_of_the_code_is():
    assert python_command("print(1)") == "python3 - <<'PYTHON_CELL'\nprint(1)\nPYTHON_CELL"
    assert python_command("PYTHON_CELL\nPYTHON_CELL_").endswith("\nPYTHON_CELL__")


class NothingRuns:
    """A sandbox that fails the test if a command reaches it."""

    def run(self, command: str, timeout: float | None = None) -> Observation:
        raise AssertionError(f"ran {command!r}")


def test_nothing_outlives_its_call_so_reads_and_input_find_no_process():
    runner = ToolRunner(NothingRuns())  # type: ignore[arg-type]
    assert runner(Action.bash("")) == NO_RUNNING_OUTPUT
    assert runner(Action.make("bash", {"command": "C-c", "is_input": True})) == NO_RUNNING_INPUT


# ---- through the local sandbox ---------------------------------------------------------------


@pytest.fixture
def sandbox(tmp_path):
    require_bwrap()
    path, sha = make_repo(tmp_path)
    box = LocalSandbox.start(make_task(sha), SandboxLimits(timeout=20), repo_dir=path)
    yield box
    box.close()


def test_bash_actions(sandbox):
    runner = ToolRunner(sandbox)
    assert runner(Action.bash("cd pkg")) == NO_OUTPUT
    assert runner(Action.bash("pwd")) == "/testbed/pkg\n"
    failed = runner(Action.bash("ls nothing-here"))
    assert "No such file" in failed and failed.endswith("[The command exited with code 2.]")


def test_bash_results_are_framed_in_the_runners_dialect(sandbox):
    openhands = ToolRunner(sandbox, dialect=get_dialect("openhands"))
    assert openhands(Action.bash("cd pkg && echo hi")) == (
        "hi\n[The command completed with exit code 0.]\n[Current working directory: /testbed/pkg]\n"
        "[Command finished with exit code 0]")
    swe_agent = ToolRunner(sandbox, dialect=get_dialect("swe-agent"))
    assert swe_agent(Action.bash("printf 'a\\nb\\n\\n'; false")) == "a\r\nb"  # a terminal's lines, no exit code
    assert swe_agent(Action.bash("false")) == NO_OUTPUT
    assert swe_agent(Action.editor("view", "/testbed/nothing")) == "The path /testbed/nothing does not exist. " \
        "Please provide a valid path."
    assert openhands(Action.editor("view", "/testbed/nothing")) == "ERROR:\nInvalid `path` parameter: " \
        "/testbed/nothing. The path /testbed/nothing does not exist. Please provide a valid path."
    listing = openhands(Action.editor("view", "/testbed/pkg"))
    assert listing.startswith("Here's the files and directories up to 2 levels deep in /testbed/pkg, excluding "
                              "hidden items:\n/testbed/pkg/\n/testbed/pkg/") and not listing.endswith("\n")


def test_python_cells_run_as_python3_scripts_in_the_shells_directory(sandbox):
    runner = ToolRunner(sandbox)
    runner(Action.bash("cd pkg"))
    assert runner(Action.python("import os\nprint(os.getcwd())")) == "/testbed/pkg\n"
    # A line equal to the here-document's end word does not end the code early.
    assert runner(Action.python('s = """\nPYTHON_CELL\n"""\nprint(len(s))')) == "13\n"
    failed = runner(Action.python("raise SystemExit(3)"))
    assert failed == "[The command exited with code 3.]"


def test_bash_timeout_is_reported_once(sandbox):
    sandbox.limits = SandboxLimits(timeout=1)
    text = execute(sandbox, Action.bash("echo started; sleep 30"))
    assert text.startswith("started\n") and text.count("timed out") == 1
    assert execute(sandbox, Action.bash("echo next")) == "next\n"


def test_editor_actions_and_errors_are_text(sandbox):
    path = "/testbed/pkg/__init__.py"
    view = execute(sandbox, Action.editor("view", path))
    assert view == f"Here's the result of running `cat -n` on {path}:\n     1\tdef add(a, b):\n     2\t    return a - b\n"
    missing = execute(sandbox, Action.editor("str_replace", path, old_str="return a * b", new_str="x"))
    assert missing == f"No replacement was performed, old_str `return a * b` did not appear verbatim in {path}."
    edited = execute(sandbox, Action.editor("str_replace", path, old_str="a - b", new_str="a + b"))
    assert "has been edited" in edited and "     2\t    return a + b" in edited
    assert sandbox.run("python3 -m pytest -q tests | tail -1").output.strip().startswith("1 passed")
    assert "does not exist" in execute(sandbox, Action.editor("view", "/testbed/nope.py"))
    assert "not an absolute path" in execute(sandbox, Action.editor("view", "pkg"))
    listing = execute(sandbox, Action.editor("view", "/testbed"))
    assert "/testbed/pkg/__init__.py" in listing and "/testbed/.git" not in listing


def test_undo_history_survives_separate_execute_calls(sandbox):
    path = "/testbed/pkg/__init__.py"
    execute(sandbox, Action.editor("insert", path, insert_line=0, new_str="# header"))
    assert sandbox.read_file(path).startswith("# header\n")
    assert "undone successfully" in execute(sandbox, Action.editor("undo_edit", path))
    assert sandbox.read_file(path) == "def add(a, b):\n    return a - b\n"
    assert execute(sandbox, Action.editor("undo_edit", path)) == f"No edit history found for {path}."


def test_submit_gives_the_patch_and_reset_clears_history(sandbox):
    runner = ToolRunner(sandbox)
    assert runner(Action.submit()) == ""
    runner(Action.editor("create", "/testbed/pkg/extra.py", file_text="X = 1\n"))
    runner(parse_action("<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n"
                        "<parameter=path>/testbed/pkg/__init__.py</parameter>\n<parameter=old_str>a - b</parameter>\n"
                        "<parameter=new_str>a + b</parameter>\n</function>"))
    patch = runner(Action.submit())
    assert patch == sandbox.diff()
    assert "+++ b/pkg/extra.py" in patch and "+    return a + b" in patch
    runner.reset()
    assert runner(Action.submit()) == ""
    assert runner(Action.editor("undo_edit", "/testbed/pkg/__init__.py")).startswith("No edit history found")
