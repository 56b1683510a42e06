"""Training curves as pictures: one PNG and a self-contained HTML page for one run or several.

Each run's ``metrics.jsonl`` (metrics.py) gives a curve per panel that it has numbers for; several
runs (an SFT warm-up, an SRL run, later RLVR) share the axes, one colour each. A panel no run
logs is left out, so SFT's page shows loss and throughput, SRL's the reward as well.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from swe_srl.errors import ConfigError
from swe_srl.pictures import figure_png, html_page, png_img
from swe_srl.train.metrics import read_metrics


@dataclass(frozen=True)
class Panel:
    title: str
    keys: tuple[str, ...]  # the first of these a run logs is drawn
    band: str | None = None  # a key whose value spreads a shaded band around the curve
    log_scale: bool = False


PANELS = (
    Panel("reward mean (± std)", ("reward_mean",), band="reward_std"),
    Panel("resolve rate", ("resolve_rate",)),
    Panel("format failures", ("format_failure_rate",)),
    Panel("groups dropped", ("fraction_dropped",)),
    Panel("loss", ("loss",)),
    Panel("KL to the reference", ("kl",)),
    Panel("clip fraction", ("clip_fraction",)),
    Panel("learning rate", ("lr",)),
    Panel("tokens / s", ("rollout_tokens_per_s", "tokens_per_s"), log_scale=True),
    Panel("gradient norm", ("grad_norm",)),
)


@dataclass(frozen=True)
class RunCurves:
    """One run's metrics, by name (the run folder's name and its parent, e.g. ``a/srl``)."""

    name: str
    records: tuple[dict[str, Any], ...]

    @classmethod
    def read(cls, run_dir: Path) -> "RunCurves":
        run_dir = Path(run_dir)
        if not (run_dir / "metrics.jsonl").is_file():
            raise ConfigError(f"{run_dir}: no metrics.jsonl here; give the output folder of a training run")
        return cls(f"{run_dir.resolve().parent.name}/{run_dir.resolve().name}", tuple(read_metrics(run_dir)))

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """Steps and values of ``key`` where the run logged a finite number."""
        steps, values = [], []
        for record in self.records:
            value = record.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                steps.append(int(record.get("step", len(steps) + 1)))
                values.append(float(value))
        return steps, values


def _drawn_panels(runs: Sequence[RunCurves]) -> list[Panel]:
    return [panel for panel in PANELS if any(run.series(key)[0] for run in runs for key in panel.keys)]


def draw_png(runs: Sequence[RunCurves]) -> bytes:
    """The panels as one PNG: a curve per run, steps on x."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    panels = _drawn_panels(runs)
    if not panels:
        raise ConfigError("no run has numbers to draw in its metrics.jsonl")
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.4 * rows + 0.6), squeeze=False)
    handles: dict[str, Any] = {}  # one legend entry per run, whichever panels it appears in
    for ax, panel in zip(axes.flat, panels):
        for index, run in enumerate(runs):
            key = next((k for k in panel.keys if run.series(k)[0]), None)
            if key is None:
                continue
            steps, values = run.series(key)
            colour = f"C{index % 10}"
            [line] = ax.plot(steps, values, marker="o" if len(steps) < 30 else None, ms=3, color=colour)
            handles.setdefault(run.name, line)
            if panel.band:
                band_steps, spread = run.series(panel.band)
                if band_steps == steps:
                    ax.fill_between(steps, [v - s for v, s in zip(values, spread)],
                                    [v + s for v, s in zip(values, spread)], color=colour, alpha=0.15)
        ax.set_title(panel.title)
        ax.set_xlabel("step")
        if panel.log_scale:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    figure.legend(list(handles.values()), list(handles), loc="upper center", ncol=min(len(handles), 6))
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.6 / figure.get_figheight()))
    return figure_png(figure)


def _last_values_table(runs: Sequence[RunCurves]) -> str:
    panels = _drawn_panels(runs)
    head = "".join(f"<th>{html.escape(p.title)}</th>" for p in panels)
    rows = []
    for run in runs:
        cells = []
        for panel in panels:
            key = next((k for k in panel.keys if run.series(k)[0]), None)
            cells.append(f"<td>{run.series(key)[1][-1]:.4g}</td>" if key else "<td>–</td>")
        steps = len(run.records)
        rows.append(f"<tr><th>{html.escape(run.name)}</th><td>{steps}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>run</th><th>steps</th>{head}</tr>{''.join(rows)}</table>"


def write_report(runs: Sequence[RunCurves], out_dir: Path) -> tuple[Path, Path]:
    """``report.png`` and ``report.html`` (the PNG inlined, and each curve's last value) in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png = draw_png(runs)
    png_path, html_path = out_dir / "report.png", out_dir / "report.html"
    png_path.write_bytes(png)
    names = ", ".join(run.name for run in runs)
    body = (f"<h1>Training curves</h1><p>{html.escape(names)}</p>{png_img(png, 'training curves')}"
            f"<h2>Last logged values</h2>{_last_values_table(runs)}")
    html_path.write_text(html_page(f"swe-srl training: {names}", body))
    return png_path, html_path
