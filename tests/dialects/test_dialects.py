"""Observation dialects: bash framing and editor wording per dialect, the importer's record of them,
and the prompt recipe that carries the dialect from `data build` to eval."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from swe_srl.actions import Action
from swe_srl.dialects import DIALECT_KEY, DIALECTS, dialect_for_format, edit_text, get_dialect
from swe_srl.dialects.bash import BashResult, render_bash
from swe_srl.dialects.edit_text import EditorError
from swe_srl.errors import ConfigError
from swe_srl.formats.openhands_events import seen_text
from swe_srl.formats.seen import as_seen
from swe_srl.prompt import PromptRecipe
from swe_srl.prompt_recipe import RECIPE_FILE, read_recipe, settle, write_recipe
from swe_srl.recipes.collect import recorded_dialect
from swe_srl.trajectory import Step, Trajectory

TEXT = "def f():\n    return 1\n"


def bash(name: str, output: str, code: int | None = 0, **more) -> str:
    return render_bash(get_dialect(name).bash, BashResult(output, code, **more))


def test_our_framing_shows_the_exit_code_only_after_a_failure():
    assert bash("swe-srl", "hi\n") == "hi\n"
    assert bash("swe-srl", "oops", 2) == "oops\n[The command exited with code 2.]"
    assert bash("swe-srl", "") == "Your command ran successfully and did not produce any output."


def test_openhands_frames_every_command_with_exit_code_and_directory():
    assert bash("openhands", "a\nb\n", 1, cwd="/testbed") == (
        "a\nb\n[The command completed with exit code 1.]\n[Current working directory: /testbed]\n"
        "[Command finished with exit code 1]")
    # Empty output shows only the lines; an unknown directory or interpreter is left out.
    empty = bash("openhands", "", 0)
    assert empty == "\n[The command completed with exit code 0.]\n[Command finished with exit code 0]"
    timed = bash("openhands", "partial\n", None, timed_out=True, timeout=5, cwd="/w")
    assert timed == "partial\n[The command timed out after 5 seconds and was killed.]\n[Current working directory: /w]"


def test_swe_agent_strips_trailing_space_shows_no_exit_code_and_names_a_timeout():
    assert bash("swe-agent", "  x\n\n", 3) == "  x"
    assert bash("swe-agent", "a\nb\n") == "a\r\nb"  # SWE-agent's runtime is a terminal
    assert bash("swe-agent", "\n") == "Your command ran successfully and did not produce any output."
    timed = bash("swe-agent", "partial", None, timed_out=True, timeout=30, command="sleep 99")
    assert timed.startswith("The command 'sleep 99' was cancelled because it took more than 30 seconds.")


def test_mini_swe_agent_wraps_return_code_and_output():
    assert bash("mini-swe-agent", "8.2\n") == "<returncode>0</returncode>\n<output>\n8.2\n</output>"
    assert bash("mini-swe-agent", "", 1) == "<returncode>1</returncode>\n<output>\n</output>"


def test_swe_gym_terminal_echoes_the_command_with_crlf_and_cuts_the_middle():
    shown = bash("openhands-2024", "a\nb\n", 0, command="ls", cwd="/w", python="/usr/bin/python")
    assert shown == ("ls\r\na\r\nb[Python Interpreter: /usr/bin/python]\nroot@openhands-workspace:/w # \n"
                     "[Command finished with exit code 0]")
    assert bash("openhands-2024", "", 0, command="true", cwd="/w", python="/p").startswith("true[Python Interpreter")
    long = bash("openhands-2024", "x" * 40_000, 0, command="c", cwd="/w", python="/p")
    head, tail = long.split("\n[... Observation truncated due to length ...]\n")
    assert len(head) == 15_000 and tail.endswith("[Command finished with exit code 0]")


def test_teachers_number_the_empty_line_after_a_final_newline_and_strip_where_they_did():
    ours = edit_text.view_file("/f", TEXT)
    assert ours.endswith("     2\t    return 1\n")
    oh = edit_text.view_file("/f", TEXT, None, get_dialect("openhands").editor)
    assert oh.endswith("     2\t    return 1\n     3\t\n")
    classic = get_dialect("openhands-2024").editor
    stripped = edit_text.finish(edit_text.view_file("/f", TEXT, None, classic), classic)
    assert stripped.endswith("     2\t    return 1\n     3")
    swe_agent = get_dialect("swe-agent").editor  # the same through SWE-agent's terminal
    assert edit_text.finish(edit_text.view_file("/f", TEXT, None, swe_agent), swe_agent).endswith(
        "     1\tdef f():\r\n     2\t    return 1\r\n     3")
    # A range shows no extra line in any dialect.
    assert edit_text.view_file("/f", TEXT, (1, -1), get_dialect("openhands").editor).endswith("return 1\n")


def test_teachers_cut_the_file_before_numbering_so_the_note_ends_its_last_line():
    style = get_dialect("openhands").editor
    text = "".join(f"line {i}\n" for i in range(5000))
    shown = edit_text.view_file("/f", text, None, style)
    assert shown.endswith(style.clip_note + "\n")
    last = shown.rsplit("\n", 2)[-2]
    assert last.split("\t", 1)[1] == text[:edit_text.MAX_VIEW_CHARS].rsplit("\n", 1)[1] + style.clip_note


@pytest.mark.parametrize("name, expected", [
    ("swe-srl", "Invalid `view_range`: [1, 9]. Its second element `9` should be at most the number of lines in the "
                "file: `2`."),
    ("openhands", "ERROR:\nInvalid `view_range` parameter: [1, 9]. Its second element `9` should be smaller than the "
                  "number of lines in the file: `2`."),
    ("openhands-2024", "ERROR:\nInvalid `view_range`: [1, 9]. It's second element `9` should be smaller than the "
                       "number of lines in the file: `2`"),
])
def test_view_range_errors_are_worded_per_dialect(name, expected):
    style = get_dialect(name).editor
    with pytest.raises(EditorError) as error:
        edit_text.view_file("/f", TEXT, (1, 9), style)
    assert edit_text.error_text(str(error.value), style) == expected


def test_snippet_windows_and_inserts_follow_the_dialect():
    text = "".join(f"l{i}\n" for i in range(1, 21))
    firsts = {name: edit_text.str_replace("/f", text, "l10\n", "L10\n", get_dialect(name).editor).message
              .split(":\n", 1)[1].split("\t", 1)[0].strip() for name in ("swe-srl", "openhands", "swe-agent")}
    assert firsts == {"swe-srl": "6", "openhands": "7", "swe-agent": "5"}
    # The teachers split new_str on newlines: text ending in one leaves an empty line after it.
    teacher = edit_text.insert("/f", "a\nb\n", 1, "x\n", get_dialect("openhands-2024").editor)
    assert teacher.text == "a\nx\n\nb\n"
    assert edit_text.insert("/f", "a\nb\n", 1, "x\n").text == "a\nx\nb\n"


def test_every_dialect_is_named_and_formats_map_to_theirs():
    assert set(DIALECTS) == {"swe-srl", "openhands", "openhands-2024", "swe-agent", "mini-swe-agent"}
    assert dialect_for_format("swe-smith") == "swe-agent" and dialect_for_format("swe-gym") == "openhands-2024"
    assert dialect_for_format("openai-chat") is None
    with pytest.raises(ConfigError, match="known: swe-srl"):
        get_dialect("bash-4")


def test_import_records_the_dialect_and_keeps_what_the_model_read():
    run = Trajectory("t", "swe-smith", (Step(Action.bash("ls"), observation="a\r\nb"),))
    seen = as_seen(run, "swe-smith")
    assert seen.steps == run.steps and seen.metadata[DIALECT_KEY] == "swe-agent"
    assert as_seen(replace(run, source_format="swe-gym"), "swe-gym").metadata[DIALECT_KEY] == "openhands-2024"
    assert as_seen(run, "swe-smith", "openhands").metadata[DIALECT_KEY] == "openhands"  # told
    ours = replace(run, metadata={DIALECT_KEY: "openhands"})  # our own store names it already
    assert as_seen(ours, "swe-srl").metadata[DIALECT_KEY] == "openhands"
    assert as_seen(replace(run, metadata={}), "openai-chat").metadata == {}


def test_openhands_run_events_keep_the_lines_its_model_read():
    event = {"observation": "run", "content": "out", "extras": {"metadata": {
        "exit_code": 2, "working_dir": "/w", "py_interpreter_path": "", "prefix": "",
        "suffix": "\n[The command completed with exit code 2.]"}}}
    assert seen_text(event) == ("out\n[The command completed with exit code 2.]\n[Current working directory: /w]\n"
                                "[Command finished with exit code 2]")
    assert seen_text({"observation": "read", "content": "file"}) == "file"


def test_the_recipe_carries_the_dialect_and_a_user_may_override_it(tmp_path: Path):
    write_recipe(tmp_path, PromptRecipe(observation_dialect="openhands"))
    recipe = read_recipe(tmp_path)
    assert recipe is not None and recipe.observation_dialect == "openhands"
    assert settle({}, recipe, "m").observation_dialect == "openhands"
    assert settle({"observation_dialect": "swe-srl"}, recipe, "m").observation_dialect == "swe-srl"
    with pytest.raises(ConfigError, match="contradicts"):  # the other recipe fields are still refused
        settle({"context_steps": 5}, recipe, "m")
    # A recipe written before dialects existed: the model saw this project's own tools.
    data = json.loads((tmp_path / RECIPE_FILE).read_text())
    del data["observation_dialect"]
    (tmp_path / RECIPE_FILE).write_text(json.dumps(data))
    assert read_recipe(tmp_path).observation_dialect == "swe-srl"
    with pytest.raises(ConfigError, match="unknown observation dialect"):
        PromptRecipe(observation_dialect="nope")


def test_a_replayed_collection_speaks_the_dialect_its_runs_were_recorded_in():
    def run(name: str | None) -> Trajectory:
        return Trajectory("t", "x", (), metadata={DIALECT_KEY: name} if name else {})

    assert recorded_dialect([run("openhands"), run("openhands")]) == "openhands"
    assert recorded_dialect([run("openhands"), run("swe-agent")]) is None
    assert recorded_dialect([run(None)]) is None
