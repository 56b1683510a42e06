"""csvsummary: per-column summaries of CSV data."""

from csvsummary.reader import read_columns
from csvsummary.report import format_report
from csvsummary.summary import ColumnSummary, summarise_column, summarise_columns


def summarise_file(path, delimiter=None, encoding="utf-8"):
    """Summarise every column of the CSV file at ``path``."""
    return summarise_columns(read_columns(path, delimiter=delimiter, encoding=encoding))


__all__ = [
    "ColumnSummary",
    "format_report",
    "read_columns",
    "summarise_column",
    "summarise_columns",
    "summarise_file",
]
