"""Lay out a table as Markdown text."""

from mdtable.cells import cell_text, display_width, pad

_RULE = {"left": (":", "-"), "right": ("-", ":"), "center": (":", ":"), None: ("-", "-")}


def _rule(width, align):
    start, end = _RULE[align]
    return start + "-" * max(1, width - 2) + end if width > 1 else "-"


def render(headers, rows, align):
    """Markdown text for ``headers`` and ``rows`` (lists of values), one line per row."""
    texts = [[cell_text(h) for h in headers]]
    for row in rows:
        cells = [cell_text(v) for v in row]
        cells += [""] * (len(headers) - len(cells))
        texts.append(cells)
    widths = [max(3, *(display_width(line[i]) for line in texts)) for i in range(len(headers))]
    out = []
    for index, line in enumerate(texts):
        padded = [pad(cell, widths[i], align[i] or "left") for i, cell in enumerate(line)]
        out.append("| " + " | ".join(padded) + " |")
        if index == 0:
            out.append("| " + " | ".join(_rule(widths[i], align[i]) for i in range(len(headers))) + " |")
    return "\n".join(out) + "\n"
