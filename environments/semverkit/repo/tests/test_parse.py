import pytest

from semverkit import InvalidVersion, Version, parse


def test_full_version():
    v = parse("1.2.3-beta.2+exp.sha.5114f85")
    assert (v.major, v.minor, v.patch) == (1, 2, 3)
    assert v.prerelease == ("beta", "2")
    assert v.build == ("exp", "sha", "5114f85")


def test_str_round_trip():
    for text in ["0.0.1", "10.20.30", "1.0.0-alpha.1", "1.0.0+20130313144700"]:
        assert str(parse(text)) == text


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-", "1.2.3-01", "v1.2.3"])
def test_invalid(text):
    with pytest.raises(InvalidVersion):
        parse(text)


def test_bumps():
    v = Version(1, 2, 3)
    assert str(v.bump_major()) == "2.0.0"
    assert str(v.bump_minor()) == "1.3.0"
    assert str(v.bump_patch()) == "1.2.4"
    assert str(v.bump_prerelease()) == "1.2.4-rc.1"
    assert str(parse("1.2.4-rc.1").bump_prerelease()) == "1.2.4-rc.2"
    assert str(parse("1.2.4-rc.1").bump_patch()) == "1.2.4"
