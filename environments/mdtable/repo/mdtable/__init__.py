"""mdtable: Markdown tables."""

from mdtable.records import from_dicts
from mdtable.table import Table

__all__ = ["Table", "from_dicts"]
