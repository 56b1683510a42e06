"""str_replace_editor: the pure text functions, then the Editor over a plain host folder."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from swe_srl.dialects import edit_text
from swe_srl.sandbox.base import Observation
from swe_srl.dialects.edit_text import EditorError
from swe_srl.sandbox.editor import Editor

TEXT = "".join(f"line {i}\n" for i in range(1, 21))


# ---- pure text -------------------------------------------------------------------------------


def test_split_lines_ignores_final_newline_only():
    assert edit_text.split_lines("") == []
    assert edit_text.split_lines("a\nb\n") == ["a", "b"]
    assert edit_text.split_lines("a\nb") == ["a", "b"]
    assert edit_text.split_lines("a\n\n") == ["a", ""]


def test_view_file_numbers_like_cat_n():
    out = edit_text.view_file("/testbed/a.py", "x = 1\n\tindented\n")
    assert out == "Here's the result of running `cat -n` on /testbed/a.py:\n     1\tx = 1\n     2\t\tindented\n"


def test_view_range_and_open_end():
    out = edit_text.view_file("/f", TEXT, (3, 5))
    assert out.splitlines()[1:] == ["     3\tline 3", "     4\tline 4", "     5\tline 5"]
    tail = edit_text.view_file("/f", TEXT, (19, -1))
    assert tail.splitlines()[1:] == ["    19\tline 19", "    20\tline 20"]


@pytest.mark.parametrize(
    "bad, words",
    [((0, 3), "first element `0`"), ((21, 21), "[1, 20]"), ((5, 4), "second element `4`"), ((1, 21), "`20`")],
)
def test_view_range_errors(bad, words):
    with pytest.raises(EditorError, match="Invalid `view_range`") as err:
        edit_text.view_file("/f", TEXT, bad)
    assert words in str(err.value)


def test_parse_view_range_forms():
    assert edit_text.parse_view_range("[3, 9]") == (3, 9)
    assert edit_text.parse_view_range("[10,-1]") == (10, -1)
    assert edit_text.parse_view_range(None) is None
    with pytest.raises(EditorError, match="list of two integers"):
        edit_text.parse_view_range("[1, 2, 3]")


def test_long_view_is_clipped_with_a_note():
    out = edit_text.view_file("/big", "x" * 100 + "\n" * 0 + "y\n" * 20_000)
    assert out.endswith(edit_text.OURS.clip_note)
    assert len(out) < edit_text.MAX_VIEW_CHARS + len(edit_text.OURS.clip_note) + 2


def test_str_replace_unique_match_with_snippet():
    edit = edit_text.str_replace("/f", TEXT, "line 10\n", "line ten\nline 10.5\n")
    assert "line ten\nline 10.5\nline 11\n" in edit.text and "line 10\n" not in edit.text
    body = edit.message.splitlines()
    assert body[0] == "The file /f has been edited. Here's the result of running `cat -n` on a snippet of /f:"
    # four lines of context before, the two new lines, four after
    assert body[1] == "     6\tline 6" and "    10\tline ten" in body and "    11\tline 10.5" in body
    assert body[-2] == "    15\tline 14" and body[-1] == edit_text.REVIEW_NOTE


def test_str_replace_not_found_names_text_and_path():
    with pytest.raises(EditorError) as err:
        edit_text.str_replace("/testbed/x.py", TEXT, "line 99", "z")
    assert str(err.value) == "No replacement was performed, old_str `line 99` did not appear verbatim in /testbed/x.py."


def test_str_replace_multiple_lists_lines():
    with pytest.raises(EditorError) as err:
        edit_text.str_replace("/f", TEXT, "line 1", "z")  # line 1, 10..19
    message = str(err.value)
    assert "Multiple occurrences of old_str `line 1`" in message
    assert "[1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]" in message


def test_str_replace_overlapping_matches_count_as_several():
    with pytest.raises(EditorError, match="Multiple occurrences"):
        edit_text.str_replace("/f", "aaa\n", "aa", "b")


def test_str_replace_whitespace_is_exact():
    with pytest.raises(EditorError, match="did not appear verbatim"):
        edit_text.str_replace("/f", "    x = 1\n", "  x = 1\n  ", "y")


@pytest.mark.parametrize(
    "old, new, words", [(None, "x", "`old_str` is required"), ("", "x", "empty"), ("line 3\n", "line 3\n", "different")]
)
def test_str_replace_parameter_errors(old, new, words):
    with pytest.raises(EditorError, match=words):
        edit_text.str_replace("/f", TEXT, old, new)


def test_str_replace_missing_new_str_deletes():
    edit = edit_text.str_replace("/f", "a\nb\nc\n", "b\n", None)
    assert edit.text == "a\nc\n"


def test_insert_after_line_and_at_top_and_end():
    assert edit_text.insert("/f", "a\nb\n", 1, "x").text == "a\nx\nb\n"
    assert edit_text.insert("/f", "a\nb\n", 0, "x\ny\n").text == "x\ny\na\nb\n"
    assert edit_text.insert("/f", "a\nb\n", 2, "x").text == "a\nb\nx\n"
    assert edit_text.insert("/f", "a\nb", 2, "x").text == "a\nb\nx"  # keeps the missing final newline
    assert edit_text.insert("/f", "a\nb", 1, "x").text == "a\nx\nb"
    assert edit_text.insert("/f", "", 0, "x").text == "x\n"


def test_insert_message_shows_inserted_lines():
    edit = edit_text.insert("/f", TEXT, "10", "new one\nnew two")
    lines = edit.message.splitlines()
    assert "    11\tnew one" in lines and "    12\tnew two" in lines and "    13\tline 11" in lines
    assert lines[1] == "     7\tline 7" and lines[-1] == edit_text.INSERT_REVIEW_NOTE


@pytest.mark.parametrize("line", [-1, 21, "x"])
def test_insert_line_out_of_range(line):
    with pytest.raises(EditorError, match="Invalid `insert_line` parameter"):
        edit_text.insert("/f", TEXT, line, "z")


def test_insert_range_message_names_bounds():
    with pytest.raises(EditorError, match=r"\[0, 20\]"):
        edit_text.insert("/f", TEXT, 21, "z")


def test_insert_needs_its_parameters():
    with pytest.raises(EditorError, match="`insert_line` is required"):
        edit_text.insert("/f", TEXT, None, "z")
    with pytest.raises(EditorError, match="`new_str` is required"):
        edit_text.insert("/f", TEXT, 3, None)


# ---- the Editor through a Sandbox -----------------------------------------------------------


class HostFolderSandbox:
    """A Sandbox whose filesystem is the host's: enough to drive the Editor for real."""

    task = None

    def __init__(self) -> None:
        self.commands: list[str] = []

    def run(self, command: str, timeout: float | None = None) -> Observation:
        self.commands.append(command)
        start = time.monotonic()
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=timeout)
        return Observation(done.stdout + done.stderr, done.returncode, duration=time.monotonic() - start)

    def read_file(self, path: str) -> str:
        return Path(path).read_text()

    def write_file(self, path: str, content: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(content)


@pytest.fixture
def editor(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(TEXT)
    (tmp_path / "pkg" / "deep").mkdir()
    (tmp_path / "pkg" / "deep" / "deeper").mkdir()
    (tmp_path / "pkg" / "deep" / "deeper" / "hidden_by_depth.py").write_text("")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    (tmp_path / "pkg" / ".env").write_text("x")
    return Editor(HostFolderSandbox())


def test_editor_view_directory_two_levels_no_hidden(editor, tmp_path):
    out = editor.run("view", str(tmp_path))
    assert out.startswith(f"Here's the files and directories up to 2 levels deep in {tmp_path}, excluding hidden items:\n")
    listed = out.splitlines()[1:]
    assert listed == [str(tmp_path), str(tmp_path / "pkg"), str(tmp_path / "pkg/deep"), str(tmp_path / "pkg/mod.py")]


def test_editor_view_file_and_range(editor, tmp_path):
    path = str(tmp_path / "pkg/mod.py")
    assert editor.run("view", path).splitlines()[20] == "    20\tline 20"
    assert editor.run("view", path, view_range="[2, 2]").splitlines()[1:] == ["     2\tline 2"]
    assert "view_range` parameter is not allowed" in editor.run("view", str(tmp_path), view_range="[1, 2]")


def test_editor_path_errors(editor, tmp_path):
    assert "is not an absolute path" in editor.run("view", "pkg/mod.py")
    assert "Maybe you meant /testbed/pkg/mod.py?" in editor.run("view", "./pkg/mod.py")
    assert editor.run("view", str(tmp_path / "nope")) == f"The path {tmp_path / 'nope'} does not exist. Please provide a valid path."
    assert "only the `view` command" in editor.run("str_replace", str(tmp_path / "pkg"), old_str="a", new_str="b")
    assert "Unrecognized command" in editor.run("delete", str(tmp_path / "pkg/mod.py"))


def test_editor_create_refuses_existing_and_undo_removes(editor, tmp_path):
    path = str(tmp_path / "new" / "file.py")
    assert editor.run("create", path) == "Parameter `file_text` is required for command: create."
    assert editor.run("create", path, file_text="print(1)\n") == f"File created successfully at: {path}"
    assert Path(path).read_text() == "print(1)\n"
    assert "File already exists at" in editor.run("create", path, file_text="other")
    assert "File already exists at" in editor.run("create", str(tmp_path / "pkg"), file_text="other")
    assert "undone successfully" in editor.run("undo_edit", path)
    assert not Path(path).exists()


def test_editor_edits_and_undo_in_order(editor, tmp_path):
    path = str(tmp_path / "pkg/mod.py")
    assert "has been edited" in editor.run("str_replace", path, old_str="line 3\n", new_str="LINE 3\n")
    assert "has been edited" in editor.run("insert", path, insert_line="0", new_str="# top")
    after_two = Path(path).read_text()
    assert after_two.startswith("# top\nline 1\nline 2\nLINE 3\n")
    failed = editor.run("str_replace", path, old_str="absent", new_str="x")
    assert failed.startswith("No replacement was performed") and Path(path).read_text() == after_two
    undo = editor.run("undo_edit", path)
    assert undo.startswith(f"Last edit to {path} undone successfully") and "     3\tLINE 3" in undo
    assert Path(path).read_text().startswith("line 1\nline 2\nLINE 3\n")
    editor.run("undo_edit", path)
    assert Path(path).read_text() == TEXT
    assert editor.run("undo_edit", path) == f"No edit history found for {path}."


def test_editor_history_is_per_file(editor, tmp_path):
    a, b = str(tmp_path / "a.txt"), str(tmp_path / "pkg/mod.py")
    editor.run("create", a, file_text="one\n")
    editor.run("str_replace", b, old_str="line 20\n", new_str="")
    editor.run("undo_edit", a)
    assert Path(b).read_text() == TEXT.replace("line 20\n", "")
    editor.clear_history()
    assert editor.run("undo_edit", b) == f"No edit history found for {b}."


def test_editor_reports_non_utf8_file(editor, tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\xff\xfe\x00")
    assert "not UTF-8" in editor.run("view", str(path))


def test_editor_paths_with_spaces_and_quotes(editor, tmp_path):
    path = str(tmp_path / "it's here.py")
    assert "created successfully" in editor.run("create", path, file_text="a\n")
    assert "     1\ta" in editor.run("view", path)
