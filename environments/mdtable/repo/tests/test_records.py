from mdtable import from_dicts


def test_explicit_columns_and_missing_values():
    table = from_dicts([{"a": 1}, {"b": 2}], columns=["a", "b"], missing="-")
    assert table.headers == ["a", "b"]
    assert table.rows == [[1, "-"], ["-", 2]]
    assert table.render().splitlines()[2:] == ["| 1   | -   |", "| -   | 2   |"]
