"""Decide what kind of values a column holds."""

MISSING_MARKERS = {"", "na", "n/a", "null", "none", "-"}
_BOOLEANS = {"true", "false", "yes", "no"}


def is_missing(cell):
    """Whether ``cell`` stands for a missing value."""
    return cell in MISSING_MARKERS


def parse_number(cell):
    """An int or float from ``cell``; thousands separators are allowed ("1,250.5")."""
    text = cell.strip().replace(",", "")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"not a number: {cell!r}") from None


def _is_number(cell):
    try:
        parse_number(cell)
    except ValueError:
        return False
    return True


def infer_type(cells):
    """"int", "float", "bool", "str", or "empty" when every cell is missing."""
    present = [c for c in cells if not is_missing(c)]
    if not present:
        return "empty"
    if all(_is_number(c) for c in present):
        numbers = [parse_number(c) for c in present]
        return "int" if all(isinstance(n, int) for n in numbers) else "float"
    if all(c.strip().lower() in _BOOLEANS for c in present):
        return "bool"
    return "str"
