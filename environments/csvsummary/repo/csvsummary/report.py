"""Render summaries as an aligned text table."""

_HEADERS = ("column", "type", "count", "missing", "min", "max", "mean")


def _fmt(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_report(summaries):
    rows = [_HEADERS] + [
        (s.name, s.kind, _fmt(s.count), _fmt(s.missing), _fmt(s.minimum), _fmt(s.maximum), _fmt(s.mean))
        for s in summaries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADERS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"
