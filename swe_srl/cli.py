"""The `swe-srl` command tree. Thin: parse flags, call a recipe or component, print with rich."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

from swe_srl.errors import SweSrlError

console = Console(stderr=False)


def _env_build(args: argparse.Namespace) -> int:
    from swe_srl.sandbox.images import ensure_base_image, ensure_task_image
    from swe_srl.tasks.bundled import bundled_tasks
    from swe_srl.tasks.load import load_tasks

    tasks = load_tasks(args.tasks) if args.tasks else bundled_tasks()
    with console.status("base image (debootstrap on first use, about a minute)"):
        base = ensure_base_image()
    console.print(f"base image [bold]{base}[/]")
    for task in tasks:
        with console.status(f"image for {task.instance_id}"):
            image = ensure_task_image(task)
        console.print(f"  {task.instance_id}: {image}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from swe_srl.demo import print_demo, run_demo

    result = run_demo(workdir=Path(args.workdir), console=console)
    print_demo(result, console)
    return 0 if result.ok else 1


def _trajectories_import(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from swe_srl.formats.importing import import_to_store

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task("importing", total=None)

        def progress(update) -> None:
            bar.update(
                task,
                total=update.files_total,
                completed=update.files_done,
                description=f"{update.path.name}: {update.report.trajectories} trajectories",
            )

        report = import_to_store(args.paths, args.out, format=args.format, strict=args.strict, progress=progress)
    table = Table(title=f"imported into {args.out}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("files", str(report.files))
    table.add_row("trajectories", str(report.trajectories))
    table.add_row("steps (actions)", str(report.steps))
    for reason, count in sorted(report.skipped.items()):
        table.add_row(f"skipped message: {reason}", str(count))
    for reason, count in sorted(report.failed.items()):
        table.add_row(f"[red]failed record: {reason}[/]", str(count))
    console.print(table)
    for line in report.errors:
        console.print(f"  [yellow]{line}[/]")
    return 0


def _collect(args: argparse.Namespace) -> int:
    from swe_srl.collect import collect_scripted
    from swe_srl.tasks.bundled import bundled_tasks
    from swe_srl.tasks.load import load_tasks

    tasks = load_tasks(args.tasks) if args.tasks else bundled_tasks()
    with console.status("collecting") as status:
        summary = collect_scripted(tasks, args.seeds, args.out, progress=lambda what: status.update(f"collecting: {what}"))
    total = summary.runs + summary.reused
    console.print(
        f"{total} trajectories in {summary.path} ({summary.runs} run now, {summary.reused} kept): "
        f"{summary.resolved}/{total} resolved, {summary.steps} steps"
    )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "env build": _env_build,
    "demo": _demo,
    "trajectories import": _trajectories_import,
    "collect": _collect,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="swe-srl", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    env = sub.add_parser("env", help="sandbox images").add_subparsers(dest="subcommand", required=True)
    build = env.add_parser("build", help="build the base image and the task images")
    build.add_argument("--tasks", type=Path, help="task file (JSON, JSONL, parquet); default: the bundled tasks")

    traj = sub.add_parser("trajectories", help="teacher trajectories").add_subparsers(dest="subcommand", required=True)
    imp = traj.add_parser("import", help="import trajectory files or folders (format auto-detected)")
    imp.add_argument("paths", nargs="+", type=Path, help="files or folders of .json, .jsonl, .traj")
    imp.add_argument("--out", type=Path, required=True, help="folder for trajectories.jsonl and import_report.json")
    imp.add_argument("--format", help="force a format instead of detecting it")
    imp.add_argument("--strict", action="store_true", help="fail on the first bad record instead of counting it")

    collect = sub.add_parser("collect", help="run a teacher on tasks in sandboxes and store graded trajectories")
    collect.add_argument("--teacher", choices=["scripted"], default="scripted", help="who acts (scripted: a known-fix route)")
    collect.add_argument("--tasks", type=Path, help="task file (JSON, JSONL, parquet); default: the bundled tasks")
    collect.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="one route per seed and task")
    collect.add_argument("--out", type=Path, required=True, help="folder for the SWE-Gym-format rows")

    demo = sub.add_parser("demo", help="run the whole pipeline on the bundled default")
    demo.add_argument("--workdir", default="runs/demo", help="where the demo writes its outputs")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    key = f"{args.command} {args.subcommand}" if getattr(args, "subcommand", None) else args.command
    try:
        return COMMANDS[key](args)
    except SweSrlError as err:
        console.print(f"[bold red]error:[/] {err}")
        return 2
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        return 130


if __name__ == "__main__":
    sys.exit(main())
