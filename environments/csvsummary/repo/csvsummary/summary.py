"""Summaries of single columns."""

from dataclasses import dataclass
from typing import Optional

from csvsummary import stats
from csvsummary.infer import infer_type, parse_number


@dataclass(frozen=True)
class ColumnSummary:
    name: str
    kind: str
    count: int  # cells holding a value
    missing: int
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    mean: Optional[float] = None
    median: Optional[float] = None
    stdev: Optional[float] = None


def summarise_column(name, cells):
    """Summarise one column given as a list of raw cell strings."""
    kind = infer_type(cells)
    present = [c for c in cells if c.strip()]
    missing = len(cells) - len(present)
    if kind not in ("int", "float"):
        return ColumnSummary(name, kind, len(present), missing)
    values = [parse_number(c) for c in present]
    return ColumnSummary(
        name,
        kind,
        len(values),
        missing,
        minimum=min(values),
        maximum=max(values),
        mean=stats.mean(values),
        median=stats.median(values),
        stdev=stats.stdev(values),
    )


def summarise_columns(columns):
    """Summarise a mapping of column name -> cells, keeping column order."""
    return [summarise_column(name, cells) for name, cells in columns.items()]
