"""The report as a picture: a small self-contained HTML page of bar charts (SVG, no dependencies),
and a PNG too where matplotlib is installed."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from swe_srl.atomic import write_text_atomic
from swe_srl.evaluate.resolve_rate import EvalReport

log = logging.getLogger(__name__)

BAR_HEIGHT = 18
LABEL_WIDTH = 260
BAR_WIDTH = 360
COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")


def _rows(report: EvalReport) -> list[tuple[str, list[tuple[str, float, str]]]]:
    """Groups of bars: "overall" then each repository; one bar per setting."""
    repos = sorted({repo for s in report.settings.values() for repo in s.per_repo})
    groups = []
    for label in ["overall", *repos]:
        bars = []
        for name, setting in report.settings.items():
            rate = setting.overall if label == "overall" else setting.per_repo.get(label)
            if rate is not None:
                bars.append((name, rate.rate, f"{100 * rate.rate:.1f}% ({rate.resolved}/{rate.total})"))
        groups.append((label, bars))
    return groups


def render_html(report: EvalReport) -> str:
    """The page: a title, a legend and one horizontal bar per (group, setting)."""
    names = list(report.settings)
    colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(names)}
    parts = []
    y = 10
    for label, bars in _rows(report):
        parts.append(f'<text x="0" y="{y + 13}" font-weight="bold">{html.escape(label)}</text>')
        y += BAR_HEIGHT
        for name, rate, text in bars:
            width = max(1.0, rate * BAR_WIDTH)
            parts.append(f'<text x="12" y="{y + 13}">{html.escape(name)}</text>'
                         f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{width:.1f}" height="{BAR_HEIGHT - 4}" '
                         f'fill="{colour[name]}"/>'
                         f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 13}">{html.escape(text)}</text>')
            y += BAR_HEIGHT
        y += 6
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_WIDTH + BAR_WIDTH + 160}" height="{y + 10}" '
           f'font-family="sans-serif" font-size="12">{"".join(parts)}</svg>')
    title = f"Resolve rate: {report.model} on {report.dataset}"
    unfinished = (f"<p>{report.failed} runs did not finish (listed in report.json); they count in no rate "
                  "until a rerun finishes them.</p>\n" if report.failed else "")
    return (f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>\n"
            f"<body><h2>{html.escape(title)}</h2>\n{unfinished}{svg}\n</body></html>\n")


def write_png(report: EvalReport, dest: Path) -> bool:
    """A PNG bar chart with matplotlib; False (and nothing written) where matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib is not installed: the report picture is HTML only")
        return False
    groups = _rows(report)
    names = list(report.settings)
    fig, ax = plt.subplots(figsize=(max(4, 1.2 * len(groups) * max(1, len(names))), 4))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        xs, ys = [], []
        for g, (_, bars) in enumerate(groups):
            for bar_name, rate, _ in bars:
                if bar_name == name:
                    xs.append(g + i * width)
                    ys.append(100 * rate)
        ax.bar(xs, ys, width, label=name, color=COLOURS[i % len(COLOURS)])
    ax.set_xticks([g + width * (len(names) - 1) / 2 for g in range(len(groups))])
    ax.set_xticklabels([label for label, _ in groups], rotation=30, ha="right")
    ax.set_ylabel("resolved (%)")
    ax.set_title(f"{report.model} on {report.dataset}")
    ax.legend()
    fig.tight_layout()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(dest, dpi=100)
    plt.close(fig)
    return True


def write_chart(report: EvalReport, out_dir: Path) -> list[Path]:
    """Write report.html (always) and report.png (with matplotlib); returns the files written."""
    page = Path(out_dir) / "report.html"
    write_text_atomic(page, render_html(report))
    written = [page]
    png = Path(out_dir) / "report.png"
    if write_png(report, png):
        written.append(png)
    return written
