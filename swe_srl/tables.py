"""Rich tables for the summaries that the CLI and the demo print (the presentation layer only)."""

from __future__ import annotations

from typing import Any, Sequence

from rich.table import Table


def _two_columns(title: str) -> Table:
    table = Table(title=title)
    table.add_column("what")
    table.add_column("value", justify="right")
    return table


def import_table(report: Any, title: str) -> Table:
    """An ImportReport: files, trajectories, steps, and every skipped message by reason."""
    table = _two_columns(title)
    table.add_row("files", str(report.files))
    table.add_row("trajectories", str(report.trajectories))
    table.add_row("steps (actions)", str(report.steps))
    for reason, count in sorted(report.skipped.items()):
        table.add_row(f"skipped message: {reason}", str(count))
    for reason, count in sorted(report.failed.items()):
        table.add_row(f"[red]failed record: {reason}[/]", str(count))
    return table


def collect_table(summary: Any, title: str) -> Table:
    """A CollectSummary: runs, resolved share, steps, tokens, cost."""
    table = _two_columns(title)
    table.add_row("trajectories", f"{summary.total} ({summary.runs} run now, {summary.reused} kept)")
    table.add_row("resolved", f"{summary.resolved}/{summary.total} ({100 * summary.resolved_rate:.1f}%)")
    table.add_row("steps", str(summary.steps))
    table.add_row("tokens (prompt + completion)", f"{summary.prompt_tokens} + {summary.completion_tokens}")
    table.add_row("cost", f"{summary.cost:.4f}")
    if summary.failed:
        table.add_row("[red]failed now (rerun to retry)[/]", str(summary.failed))
    return table


def data_table(summary: Any, title: str) -> Table:
    """A BuildSummary: examples kept and dropped by reason, token percentiles."""
    table = _two_columns(title)
    for name in ("files", "trajectories", "steps", "kept"):
        table.add_row(name, str(getattr(summary, name)))
    for reason, count in summary.dropped.items():
        table.add_row(f"dropped: {reason}", str(count))
    for name in ("prompt_tokens", "target_tokens"):
        table.add_row(f"{name} p50/p90/p99/max", "/".join(str(v) for v in getattr(summary, name).values()))
    return table


def eval_table(report: Any, title: str) -> Table:
    """An EvalReport: resolve rate overall and per repository, one column per setting."""
    table = Table(title=title)
    table.add_column("repository")
    for setting in report.settings:
        table.add_column(setting, justify="right")
    repos = sorted({repo for s in report.settings.values() for repo in s.per_repo})
    for label in ["overall", *repos]:
        cells = []
        for s in report.settings.values():
            rate = s.overall if label == "overall" else s.per_repo.get(label)
            shown = rate is not None and rate.total  # no finished run: no rate
            cells.append(f"{100 * rate.rate:.1f}% ({rate.resolved}/{rate.total})" if shown else "-")
        table.add_row(f"[bold]{label}[/]" if label == "overall" else label, *cells)
    if report.failed:
        table.add_row("[red]not finished (rerun to retry)[/]", *(str(len(s.failed)) for s in report.settings.values()))
    return table


def synthesis_table(report: Any, title: str) -> Table:
    """A FactoryReport: candidates tried and kept per mutation kind, and why the rest were dropped."""
    table = Table(title=title)
    for column in ("kind", "tried", "kept", "dropped (reason: count)"):
        table.add_column(column)
    for kind, counts in report.totals().items():
        reasons = ", ".join(f"{r}: {n}" for r, n in sorted(counts.items()) if r not in ("tried", "kept"))
        table.add_row(kind, str(counts.get("tried", 0)), str(counts.get("kept", 0)), reasons)
    return table


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], low: float, high: float) -> str:
    """One character per value, scaled between ``low`` and ``high``."""
    span = (high - low) or 1.0
    return "".join(_BARS[round((min(max(v, low), high) - low) / span * (len(_BARS) - 1))] for v in values)


def curve_table(history: Sequence[dict], title: str) -> Table:
    """Per-step training metrics: reward mean and std, format failures, share dropped, as a curve."""
    table = Table(title=title)
    for column in ("step", "reward mean", "reward std", "format failures", "groups dropped"):
        table.add_column(column, justify="right")
    for record in history:
        table.add_row(
            str(record["step"]),
            f"{record['reward_mean']:+.3f}",
            f"{record['reward_std']:.3f}",
            f"{record['format_failure_rate']:.2f}",
            f"{record.get('fraction_dropped', 0.0):.2f}",
        )
    rewards = [r["reward_mean"] for r in history]
    table.caption = f"reward mean, -1 to 1: {sparkline(rewards, -1.0, 1.0)}"
    return table


def plan_table(plan: Any, title: str) -> Table:
    """A MemoryPlan: GiB per GPU for each part at each prompt length, the two phases' peaks, the verdict."""
    gib = 2**30
    table = Table(title=title, caption=f"model shape: {plan.shape_source}\nprompt lengths: {plan.lengths_source}")
    table.add_column("per GPU (GiB)")
    for column in plan.columns:
        table.add_column(column, justify="right")
    table.add_column("what")
    for row in plan.rows:
        table.add_row(row.name, *(f"{b / gib:.2f}" for b in row.bytes), row.note)
    table.add_row("[bold]update peak[/]", *(f"[bold]{b / gib:.2f}[/]" for b in plan.update_peak),
                  "state, saved activations, the larger of backward's working set and the log-prob peak, mask")
    table.add_row("[bold]rollout peak[/]", *(f"[bold]{plan.rollout_peak / gib:.2f}[/]",) * len(plan.columns),
                  "weights, gradients, optimizer, the rollouts' share, CUDA context")
    if plan.engine_length:
        table.add_row("vLLM KV cache (tokens)", *(str(plan.kv_tokens),) * len(plan.columns),
                      f"max_model_len {plan.engine_length}: {plan.kv_tokens // plan.engine_length} such sequences at once")
    verdict = "[green]fits[/]" if plan.fits else "[red]does not fit[/]"
    ranks = f", FSDP over {plan.world_size} GPUs" if plan.world_size > 1 else ""
    table.add_row(f"{plan.gpu_name} ({plan.gpu_bytes / gib:.1f} GiB){ranks}", *(verdict,) * len(plan.columns), "")
    return table
