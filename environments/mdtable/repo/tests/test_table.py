import pytest

from mdtable import Table


def test_render_with_rows():
    table = Table(["name", "stars"], [["mdtable", 12], ["other", 3400]], align=["left", "right"])
    assert table.render() == (
        "| name    | stars |\n"
        "| :------ | ----: |\n"
        "| mdtable |    12 |\n"
        "| other   |  3400 |\n"
    )


def test_short_rows_are_padded():
    table = Table(["a", "b"], [["x"]])
    assert table.render().splitlines()[-1] == "| x   |     |"


def test_center_alignment_rule():
    table = Table(["col"], [["v"]], align=["center"])
    assert table.render().splitlines()[1] == "| :-: |"


def test_wide_characters_line_up():
    table = Table(["city"], [["東京"], ["Paris"]])
    lines = table.render().splitlines()
    assert lines[2] == "| 東京  |"
    assert lines[3] == "| Paris |"


def test_too_many_cells():
    with pytest.raises(ValueError):
        Table(["a"], [["1", "2"]])


def test_bad_alignment():
    with pytest.raises(ValueError, match="unknown alignment"):
        Table(["a"], [], align=["middle"])


def test_add_row_to_given_rows():
    table = Table(["n"], [[1]])
    table.add_row([2])
    assert len(table) == 2
