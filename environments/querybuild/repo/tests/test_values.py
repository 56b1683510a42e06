import datetime
import enum

from querybuild.values import to_text


class Color(enum.Enum):
    RED = "red"


def test_scalars():
    assert to_text(True) == "true"
    assert to_text(3) == "3"
    assert to_text(2.0) == "2"
    assert to_text(2.5) == "2.5"
    assert to_text(b"caf\xc3\xa9") == "café"


def test_dates_and_enums():
    assert to_text(datetime.date(2024, 2, 29)) == "2024-02-29"
    assert to_text(Color.RED) == "red"
