"""The Table class."""

from mdtable.render import render

ALIGNMENTS = (None, "left", "right", "center")


class Table:
    def __init__(self, headers, rows=[], align=None):
        self.headers = list(headers)
        if not self.headers:
            raise ValueError("a table needs at least one column")
        self.align = list(align) if align is not None else [None] * len(self.headers)
        if len(self.align) != len(self.headers):
            raise ValueError("align must give one alignment per column")
        for value in self.align:
            if value not in ALIGNMENTS:
                raise ValueError(f"unknown alignment {value!r}; use one of {ALIGNMENTS[1:]}")
        self.rows = rows
        for row in rows:
            self._check(row)

    def _check(self, row):
        if len(row) > len(self.headers):
            raise ValueError(f"row has {len(row)} cells but the table has {len(self.headers)} columns")

    def add_row(self, row):
        """Append a row (a list of values; short rows are padded with empty cells)."""
        self._check(row)
        self.rows.append(list(row))
        return self

    def __len__(self):
        return len(self.rows)

    def render(self):
        return render(self.headers, self.rows, self.align)

    def __str__(self):
        return self.render()
