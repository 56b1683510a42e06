"""Agent-skills cells: which calls are read, which windows are trusted, when a mapping is refused."""

from __future__ import annotations

import pytest

from swe_srl.actions import Action
from swe_srl.formats.agent_skills import map_cells
from swe_srl.formats.drafts import Draft
from swe_srl.formats.ipython_cells import helper_call, kernel_output, parse_window

WINDOW = "[File: /w/a.py (3 lines total)]\n(this is the beginning of the file)\n1|x = 1\n2|  y = 2\n3|z = 3\n(this is the end of the file)"


def edited(line_2: str) -> str:
    """What edit_file_by_replace prints once a.py's line 2 reads ``line_2``."""
    return WINDOW.replace("3 lines total", "3 lines total after edit").replace("2|  y = 2", f"2|{line_2}")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("open_file('/w/a.py')", ("open_file", {"path": "/w/a.py", "line_number": 1, "context_lines": 100})),
        ("goto_line(line_number=7)", ("goto_line", {"line_number": 7})),
        ("edit_file_by_replace('/a', new_content='b', to_replace='a')",
         ("edit_file_by_replace", {"file_name": "/a", "to_replace": "a", "new_content": "b"})),
        ("open_file(path)", None),  # not a literal
        ("open_file('/a', colour=1)", None),  # no such parameter
        ("open_file('/a', path='/b')", None),  # given twice
        ("open_file()", None),  # missing its path
        ("scroll_down()\nscroll_down()", None),  # two calls: their outputs run together
        ("print(open_file('/a'))", None),
        ("os.system('ls')", None),
        ("def f(:", None),
    ],
)
def test_only_one_literal_helper_call_is_read(code: str, expected: object) -> None:
    assert helper_call(code) == expected


def test_a_window_must_be_whole_and_consecutive() -> None:
    window, after = parse_window(WINDOW + "\n[Use `scroll_down` to view the next 100 lines of the file!]")
    assert (window.path, window.first, window.last, window.lines[1]) == ("/w/a.py", 1, 3, "  y = 2")
    assert after == ["[Use `scroll_down` to view the next 100 lines of the file!]"]
    cut = WINDOW.replace("2|  y = 2\n", "[... Observation truncated ...]\n")
    assert parse_window(cut) == (None, cut.split("\n"))
    assert parse_window(WINDOW.replace("3 lines total", "9 lines total"))[0] is None  # the end marker disagrees
    assert parse_window(WINDOW.replace("x = 1", "x = 1\x0c"))[0] is None  # the helper split a line we would not
    assert kernel_output("out\n[Jupyter current working directory: /w]\n[Jupyter Python interpreter: /py]\n") == ("out", "/w")


def draft(code: str, observation: str) -> Draft:
    return Draft(Action.python(code), "", {}, observation)


def test_an_edit_needs_the_files_lines_from_a_window_nothing_touched_since() -> None:
    edit = "edit_file_by_replace('/w/a.py', 'y = 2', 'y = 4')"
    drafts = [draft("open_file('/w/a.py')", WINDOW), draft(edit, edited("y = 4"))]
    map_cells(drafts)
    assert drafts[1].action == Action.editor("str_replace", "/w/a.py", old_str="  y = 2", new_str="y = 4")

    between = [draft("open_file('/w/a.py')", WINDOW), Draft(Action.bash("sed -i s/y/w/ a.py"), "", {}),
               draft(edit, edited("y = 4"))]
    map_cells(between)
    assert between[2].action.tool == "python"  # the shell may have changed the file

    unseen = [draft(edit, edited("y = 4"))]
    map_cells(unseen)
    assert unseen[0].action.tool == "python"


def test_an_edit_the_printed_window_contradicts_is_kept_as_a_cell() -> None:
    # The header says 3 lines after the edit, but the new text is not where the match was.
    drafts = [draft("open_file('/w/a.py')", WINDOW),
              draft("edit_file_by_replace('/w/a.py', 'y = 2', 'y = 4')", edited("y = 5"))]
    map_cells(drafts)
    assert drafts[1].action.tool == "python"


def test_an_insert_glued_onto_a_last_line_without_newline_is_kept_as_a_cell() -> None:
    # insert_content_at_line past the end of "x = 1" (no final newline) prints "1|x = 1z": no line "z".
    glued = "[File: /w/a.py (1 lines total after edit)]\n(this is the beginning of the file)\n1|x = 1z\n(this is the end of the file)"
    drafts = [draft("insert_content_at_line('/w/a.py', 2, 'z')", glued)]
    map_cells(drafts)
    assert drafts[0].action.tool == "python"


def test_relative_paths_need_the_kernels_directory() -> None:
    found = '[Found 1 matches for "x" in src]\nsrc/a.py (Line 1): x = 1\n[End of matches for "x" in src]'
    with_cwd, without = [draft("search_dir('x', 'src')", found + "\n[Jupyter current working directory: /w]")], [
        draft("search_dir('x', 'src')", found)]
    map_cells(with_cwd)
    map_cells(without)
    assert with_cwd[0].action == Action.bash("grep -rnF --exclude='.*' -- x /w/src")
    assert without[0].action.tool == "python"


def test_find_file_escapes_the_names_glob_characters() -> None:
    drafts = [draft("find_file('a*[1]', '/w')", '[No matches found for "a*[1]" in /w]')]
    map_cells(drafts)
    assert drafts[0].action == Action.bash("find /w -name '*a\\*\\[1]*' ! -xtype d")
