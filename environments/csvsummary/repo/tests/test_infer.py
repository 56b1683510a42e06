import pytest

from csvsummary.infer import infer_type, is_missing, parse_number


def test_parse_number_int_and_float():
    assert parse_number("42") == 42
    assert parse_number("-0.5") == -0.5


def test_parse_number_thousands_separator():
    assert parse_number("1,250.5") == 1250.5


def test_parse_number_rejects_text():
    with pytest.raises(ValueError):
        parse_number("abc")


def test_empty_cell_is_missing():
    assert is_missing("")


def test_infer_int_float_bool_str():
    assert infer_type(["1", "2"]) == "int"
    assert infer_type(["1", "2.5"]) == "float"
    assert infer_type(["yes", "No"]) == "bool"
    assert infer_type(["a", "1"]) == "str"


def test_infer_ignores_empty_cells():
    assert infer_type(["", "3", ""]) == "int"
    assert infer_type(["", ""]) == "empty"
