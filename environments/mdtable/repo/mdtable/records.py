"""Tables from records."""

from mdtable.table import Table


def from_dicts(records, columns=None, align=None, missing=""):
    """A Table from a list of dicts; columns default to keys in first-seen order."""
    if columns is None:
        columns = []
        for record in records:
            for key in record:
                if key not in columns:
                    columns.append(key)
    table = Table(columns, align=align)
    for record in records:
        table.add_row([record.get(key, missing) for key in columns])
    return table
