import pytest

from inikit import loads


@pytest.fixture
def section():
    return loads("[app]\nworkers = 4\nratio = 0.5\ndebug = Yes\nnames = a, b,\n    c\n")["app"]


def test_get_int(section):
    assert section.get_int("workers") == 4


def test_get_float(section):
    assert section.get_float("ratio") == 0.5


def test_get_bool_is_case_insensitive(section):
    assert section.get_bool("debug") is True


def test_get_list_splits_commas_and_lines(section):
    assert section.get_list("names") == ["a", "b", "c"]


def test_default_when_missing(section):
    assert section.get_int("threads", default=2) == 2


def test_missing_without_default_raises_keyerror(section):
    with pytest.raises(KeyError):
        section.get_int("threads")


def test_bad_bool(section):
    with pytest.raises(ValueError):
        section.get_bool("workers")
