"""Read a CSV file into columns."""

import csv


def read_columns(path, delimiter=None, encoding="utf-8"):
    """Column name -> list of raw cell strings. Short rows are padded with empty cells."""
    with open(path, newline="", encoding=encoding) as handle:
        sample = handle.read(4096)
        handle.seek(0)
        if delimiter is None:
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        rows = list(csv.reader(handle, delimiter=delimiter))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    columns = {name: [] for name in header}
    for row in body:
        padded = row + [""] * (len(header) - len(row))
        for name, cell in zip(header, padded):
            columns[name].append(cell)
    return columns
