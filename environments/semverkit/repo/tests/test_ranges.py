import pytest

from semverkit import InvalidRange, satisfies


def test_comparators():
    assert satisfies("1.4.2", ">=1.2.0, <2.0.0")
    assert not satisfies("2.0.0", ">=1.2.0, <2.0.0")
    assert satisfies("1.0.0", "!=1.0.1")


def test_caret():
    assert satisfies("1.9.9", "^1.2.3")
    assert not satisfies("2.0.0", "^1.2.3")
    assert not satisfies("0.3.0", "^0.2.3")


def test_tilde_and_wildcards():
    assert satisfies("1.2.9", "~1.2.3")
    assert not satisfies("1.3.0", "~1.2.3")
    assert satisfies("1.2.7", "1.2.x")
    assert satisfies("3.0.0", "*")


def test_bad_range():
    with pytest.raises(InvalidRange):
        satisfies("1.0.0", ">=banana")
