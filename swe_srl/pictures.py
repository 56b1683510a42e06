"""Pictures in pages: a matplotlib figure as PNG bytes, and a self-contained HTML page that inlines them.

Pure: the figure is drawn by the caller (train/curves.py, evaluate/chart.py); this module only
serialises it and wraps the page, so every report page looks alike and opens without its folder.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

PAGE_STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-top:1em}"
              "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}img{max-width:100%}")


def figure_png(figure: Any, dpi: int = 100) -> bytes:
    """``figure`` (a matplotlib Figure) saved as PNG bytes, then closed."""
    from matplotlib import pyplot as plt

    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=dpi)
    plt.close(figure)
    return out.getvalue()


def png_img(png: bytes, alt: str) -> str:
    """An ``<img>`` tag carrying ``png`` inline (a data URI), so the page needs no other file."""
    return f"<img alt='{html.escape(alt, quote=True)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def html_page(title: str, body: str) -> str:
    """A whole page: ``title`` (escaped here) and ``body`` (HTML, escaped by the caller)."""
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{PAGE_STYLE}</style></head><body>{body}</body></html>\n")
