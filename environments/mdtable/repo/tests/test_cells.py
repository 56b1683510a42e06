from mdtable.cells import cell_text, display_width, pad


def test_escaping():
    assert cell_text("a|b") == "a\\|b"
    assert cell_text("line1\nline2") == "line1<br>line2"
    assert cell_text(None) == ""


def test_display_width():
    assert display_width("abc") == 3
    assert display_width("日本") == 4
    assert display_width("e\u0301") == 1


def test_pad():
    assert pad("ab", 5, "left") == "ab   "
    assert pad("ab", 5, "right") == "   ab"
    assert pad("ab", 6, "center") == "  ab  "
