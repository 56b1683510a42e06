import pytest

from inikit import ParseError, loads

SAMPLE = """
; global settings
[server]
host = example.org
port: 8080

# the cluster
[cluster]
hosts =
    a.example.org
    b.example.org
"""


def test_sections_in_file_order():
    cfg = loads(SAMPLE)
    assert cfg.sections() == ["server", "cluster"]


def test_both_separators():
    cfg = loads(SAMPLE)
    assert cfg["server"]["host"] == "example.org"
    assert cfg["server"]["port"] == "8080"


def test_continuation_lines():
    cfg = loads(SAMPLE)
    assert cfg["cluster"]["hosts"] == "a.example.org\nb.example.org"


def test_pair_before_section_is_an_error():
    with pytest.raises(ParseError) as info:
        loads("key = value\n[s]\n")
    assert info.value.lineno == 1


def test_duplicate_key_reports_line():
    with pytest.raises(ParseError, match="line 3"):
        loads("[s]\na = 1\na = 2\n")


def test_garbage_line():
    with pytest.raises(ParseError, match="cannot parse"):
        loads("[s]\nthis is not ini\n")


def test_value_may_contain_separator():
    cfg = loads("[db]\nurl = postgres://u:p@h/db?x=1\n")
    assert cfg["db"]["url"] == "postgres://u:p@h/db?x=1"
