import pytest

from csvsummary import format_report, summarise_column, summarise_file


def test_numeric_column():
    s = summarise_column("temp", ["11.5", "14", "12.3"])
    assert s.kind == "float"
    assert (s.count, s.missing) == (3, 0)
    assert s.minimum == 11.5 and s.maximum == 14
    assert s.mean == pytest.approx(12.6)


def test_empty_cells_are_missing():
    s = summarise_column("n", ["1", "", "3", ""])
    assert (s.kind, s.count, s.missing) == ("int", 2, 2)
    assert s.mean == 2


def test_text_column_has_no_stats():
    s = summarise_column("station", ["north", "south"])
    assert s.kind == "str"
    assert s.mean is None


def test_summarise_file_sniffs_semicolons(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("station;temp\nnorth;11.5\nsouth;14\neast;\n", encoding="utf-8")
    summaries = summarise_file(path)
    assert [s.name for s in summaries] == ["station", "temp"]
    assert summaries[1].missing == 1
    assert summaries[1].mean == pytest.approx(12.75)


def test_report_layout():
    text = format_report([summarise_column("n", ["1", "3"])])
    assert text.splitlines() == [
        "column  type  count  missing  min  max  mean",
        "n       int   2      0        1    3    2",
    ]
