"""The evaluation page: one self-contained ``report.html`` for one evaluation folder or several.

A matplotlib bar chart (resolve rate overall and per repository, one bar per model and setting,
with axes and a legend) inlined as PNG, a table of the rates, and a row per task run: its status,
why it failed where known, turns, tokens, cost, and a link to the stored run with its trajectory.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Sequence

from swe_srl.atomic import write_text_atomic
from swe_srl.evaluate.resolve_rate import RepoRate
from swe_srl.evaluate.runs import EvalRun, TaskRow
from swe_srl.pictures import figure_png, html_page, png_img

OVERALL = "overall"


def _groups(runs: Sequence[EvalRun]) -> list[str]:
    repos = {repo for run in runs for s in run.report.settings.values() for repo in s.per_repo}
    return [OVERALL, *sorted(repos)]


def _run_labels(runs: Sequence[EvalRun]) -> list[str]:
    """Each run's model, with its folder where two runs share a model name."""
    names = [run.name for run in runs]
    return [f"{run.name} ({run.folder})" if names.count(run.name) > 1 else run.name for run in runs]


def _series(runs: Sequence[EvalRun]) -> list[tuple[str, dict[str, RepoRate]]]:
    """One bar series per (model, setting): its label and its rate per group."""
    out = []
    for run, run_label in zip(runs, _run_labels(runs)):
        for name, setting in run.report.settings.items():
            label = f"{run_label} · {name}" if len(runs) > 1 else name
            out.append((label, {OVERALL: setting.overall, **setting.per_repo}))
    return out


def draw_png(runs: Sequence[EvalRun]) -> bytes:
    """Grouped bars: resolve rate (%) per group (overall, each repository), one bar per model and setting."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    groups, series = _groups(runs), _series(runs)
    width = 0.8 / max(1, len(series))
    figure, ax = plt.subplots(figsize=(min(14.0, 4 + 0.6 * len(groups) * len(series) ** 0.5), 5))
    for index, (label, rates) in enumerate(series):
        xs = [g + (index - (len(series) - 1) / 2) * width for g, name in enumerate(groups) if name in rates]
        ys = [100 * rates[name].rate for name in groups if name in rates]
        bars = ax.bar(xs, ys, width, label=label, color=f"C{index % 10}")
        ax.bar_label(bars, labels=[f"{rates[n].resolved}/{rates[n].total}" for n in groups if n in rates], fontsize=7)
    ax.set_xticks(range(len(groups)), groups, rotation=30, ha="right")
    ax.set_xlabel("repository")
    ax.set_ylabel("resolved (%)")
    ax.set_ylim(0, 105)
    ax.set_title("Resolve rate per setting")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), title="model · setting" if len(runs) > 1 else "setting")
    figure.tight_layout()
    return figure_png(figure)


def _rates_table(runs: Sequence[EvalRun]) -> str:
    """A row per group (overall, each repository), a column per model and setting."""
    series = _series(runs)
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _ in series)
    rows = []
    for group in _groups(runs):
        cells = "".join(f"<td>{100 * rates[group].rate:.1f}% ({rates[group].resolved}/{rates[group].total})</td>"
                        if group in rates else "<td>–</td>" for _, rates in series)
        rows.append(f"<tr><th style='text-align:left'>{html.escape(group)}</th>{cells}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def _cell(value: object, left: bool = False) -> str:
    align = " style='text-align:left'" if left else ""
    return f"<td{align}>{'–' if value is None else html.escape(str(value))}</td>"


def _task_row(row: TaskRow, page_dir: Path) -> str:
    link = "–" if row.record is None else (
        f"<a href='{html.escape(Path(os.path.relpath(row.record, page_dir)).as_posix(), quote=True)}'>run</a>")
    cost = None if row.cost is None else f"{row.cost:.4f}"
    cells = [_cell(row.instance_id, left=True), _cell(row.setting), _cell(row.status),
             _cell(row.cause or None, left=True), _cell(row.turns), _cell(row.tokens), _cell(cost), f"<td>{link}</td>"]
    return f"<tr class='task {row.status.replace(' ', '-')}'>{''.join(cells)}</tr>"


def _tasks_table(run: EvalRun, page_dir: Path) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("instance", "setting", "status", "failure cause", "turns", "tokens",
                                             "cost", "trajectory"))
    rows = "".join(_task_row(row, page_dir) for row in run.rows)
    return f"<table><tr>{head}</tr>{rows}</table>"


def _run_section(run: EvalRun, label: str, page_dir: Path) -> str:
    report = run.report
    revision = f" at {report.revision}" if report.revision else ""
    unfinished = (f"<p>{report.failed} runs did not finish; they count in no rate until a rerun of the same "
                  "command finishes them.</p>" if report.failed else "")
    return (f"<h3>{html.escape(label)} on {html.escape(report.dataset + revision)}</h3>{unfinished}"
            f"{_tasks_table(run, page_dir)}")


def render_html(runs: Sequence[EvalRun], page_dir: Path) -> str:
    """The page for ``runs``, its links relative to ``page_dir`` (where it is written)."""
    labels = _run_labels(runs)
    names = ", ".join(labels)
    body = (f"<h1>Resolve rate: {html.escape(names)}</h1>{png_img(draw_png(runs), 'resolve rate per setting')}"
            f"{_rates_table(runs)}<h2>Task runs</h2>{''.join(_run_section(r, label, page_dir) for r, label in zip(runs, labels))}")
    return html_page(f"swe-srl evaluation: {names}", body)


def write_chart(runs: Sequence[EvalRun], out_dir: Path) -> Path:
    """Write ``report.html`` for ``runs`` into ``out_dir``; returns its path."""
    page = Path(out_dir) / "report.html"
    write_text_atomic(page, render_html(runs, Path(out_dir)))
    return page
