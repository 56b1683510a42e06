"""The `swe-srl` command tree. Thin: parse flags, call a recipe or component, print with rich."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Callable

from rich.console import Console

from swe_srl.errors import SweSrlError
from swe_srl.tables import collect_table, data_table, eval_table, import_table, synthesis_table

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
    from swe_srl.demo import run_demo
    from swe_srl.tables import curve_table

    result = run_demo(Path(args.workdir), say=lambda line: console.print(f"[bold cyan]{line}[/]"))
    console.print(collect_table(result.collected, "1. expert runs replayed in the sandboxes, graded by swebench"))
    console.print(data_table(result.data, "2. step-wise SRL data"))
    if result.sft_loss:
        console.print(f"3. SFT loss {result.sft_loss[0]:.3f} -> {result.sft_loss[1]:.3f}")
    console.print(curve_table(result.srl_history, "3. SRL reward curve (GRPO, tiny model)"))
    console.print(eval_table(result.evaluation, "4. tiny-srl on the bundled tasks: resolve rate"))
    console.print(f"outputs in {args.workdir}")
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
    console.print(import_table(report, f"imported into {args.out}"))
    for line in report.errors:
        console.print(f"  [yellow]{line}[/]")
    return 0


def _agent_config(args: argparse.Namespace):
    from swe_srl.agent.loop import AgentConfig
    from swe_srl.stepwise import StepwiseConfig

    context = args.context_steps if args.context_steps == "all" else int(args.context_steps)
    return AgentConfig(max_steps=args.max_steps, max_tokens=args.max_run_tokens, max_cost=args.max_cost,
                       stepwise=StepwiseConfig(context_steps=context, max_prompt_tokens=args.max_prompt_tokens))


def _client_factory(args: argparse.Namespace):
    from swe_srl.agent.factory import client_factory

    return client_factory(args.model, base_url=args.base_url, temperature=args.temperature,
                          max_new_tokens=args.max_new_tokens, timeout=args.timeout,
                          native_tools={"auto": "auto", "on": True, "off": False}[args.native_tools],
                          price_prompt=args.price_prompt, price_completion=args.price_completion)


def _batch_progress(bar, task_id):
    def update(p) -> None:
        bar.update(task_id, total=p.total, completed=p.done, description=f"{p.key}: {'ok' if p.ok else '[red]failed[/]'}")

    return update


def _collect(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from swe_srl.collect import agent_teacher, collect, replay_teacher, scripted_teacher
    from swe_srl.tasks.bundled import bundled_tasks
    from swe_srl.tasks.load import load_tasks

    tasks = load_tasks(args.tasks) if args.tasks else bundled_tasks()
    if args.teacher == "scripted":
        teacher = scripted_teacher()
    elif args.teacher == "replay":
        from swe_srl.formats.importing import import_paths

        teacher = replay_teacher(import_paths([args.trajectories]))
    else:
        if not args.model:
            console.print("[bold red]error:[/] --teacher openai needs --model (and --base-url)")
            return 2
        teacher = agent_teacher(_client_factory(args), _agent_config(args))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task_id = bar.add_task("collecting", total=len(tasks) * len(args.seeds))
        summary = collect(tasks, teacher, args.out, samples=args.seeds, workers=args.workers,
                          progress=_batch_progress(bar, task_id))
    console.print(collect_table(summary, f"collected into {args.out}"))
    console.print(f"rows: {summary.path}")
    return 1 if summary.failed else 0


def _eval(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from swe_srl.evaluate.datasets import load_eval_tasks
    from swe_srl.evaluate.oracle import END_TO_END, ORACLE
    from swe_srl.evaluate.run_eval import evaluate

    tasks = load_eval_tasks(args.dataset)
    if args.instances:
        wanted = set(args.instances)
        tasks = [t for t in tasks if t.instance_id in wanted]
    if args.limit:
        tasks = tasks[: args.limit]
    settings = [{"end-to-end": END_TO_END, "oracle": ORACLE}[s] for s in args.settings]
    make_client = _client_factory(args)
    model = make_client().name
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        ids = {s: bar.add_task(s, total=len(tasks)) for s in settings}
        report = evaluate(tasks, make_client, args.out, model=model, dataset=args.dataset, settings=settings,
                          config=_agent_config(args), workers=args.workers,
                          progress=lambda s, p: _batch_progress(bar, ids[s])(p))
    console.print(eval_table(report, f"{model} on {args.dataset}: resolve rate"))
    console.print(f"report: {args.out / 'report.json'}, {args.out / 'report.html'}")
    return 0


def _data_build(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from swe_srl.dataset import build_dataset
    from swe_srl.stepwise import StepwiseConfig

    context = args.context_steps if args.context_steps == "all" else int(args.context_steps)
    config = StepwiseConfig(
        context_steps=context,
        max_prompt_tokens=args.max_prompt_tokens,
        keep_ungraded=args.keep_ungraded,
        keep_unresolved=args.keep_unresolved,
        max_steps_per_trajectory=args.max_steps_per_trajectory,
    )
    columns = (TextColumn("building"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("build", total=None)
        summary = build_dataset(
            args.traj_dir, args.out, args.tokenizer, config, strict=args.strict,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(data_table(summary, f"step-wise dataset in {args.out}"))
    return 0


def _train(args: argparse.Namespace, run, describe) -> int:
    """Load the config (``--resume`` included), run a training recipe under a progress bar."""
    from dataclasses import replace

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from swe_srl.config import load_config

    config = load_config(args.config, args.overrides)
    if args.resume:
        config = replace(config, run=replace(config.run, resume=True))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    main_process = os.environ.get("RANK", "0") == "0"  # under torchrun / accelerate launch, rank 0 reports
    with Progress(*columns, console=console, disable=not main_process) as bar:
        task = bar.add_task("training", total=None)

        def on_step(record: dict) -> None:
            description, total = describe(config, record)
            bar.update(task, completed=record["step"], total=total, description=description)

        result = run(config, on_step=on_step)
    if main_process:
        console.print(f"trained {result.steps} steps; model in {result.final_model}; metrics in {result.output_dir}")
    return 0


def _train_srl(args: argparse.Namespace) -> int:
    from swe_srl.recipes.train_srl import run

    def describe(config, record: dict) -> tuple[str, int]:
        text = f"SRL reward {record['reward_mean']:+.3f} format-fail {record['format_failure_rate']:.2f}"
        return text, config.run.steps

    return _train(args, run, describe)


def _train_sft(args: argparse.Namespace) -> int:
    from swe_srl.recipes.train_sft import run

    def describe(config, record: dict) -> tuple[str, int]:
        loss = "skipped" if record["loss"] is None else f"{record['loss']:.4f}"
        return f"SFT ({config.sft.mode}) loss {loss} {record['tokens_per_s']:.0f} tok/s", record["total_steps"]

    return _train(args, run, describe)


def _tasks_synthesize(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from swe_srl.factory.synthesize import SynthConfig, synthesize

    config = SynthConfig(out=args.out, max_per_package=args.max_per_package, workers=args.workers,
                         suite_timeout=args.suite_timeout, verify=args.verify,
                         kinds=tuple(args.kinds) if args.kinds else None,
                         rewrite_model=args.rewrite_model, rewrite_base_url=args.rewrite_base_url)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        bar_task = bar.add_task("synthesizing", total=None)
        _, report = synthesize(args.packages, config,
                               progress=lambda what, done, total: bar.update(bar_task, description=what,
                                                                             completed=done, total=total))
    console.print(synthesis_table(report, f"synthesized into {args.out}"))
    for package in report.packages:
        status = f"[red]failed ({package.stage})[/]" if package.error else f"{sum(package.kept.values())} kept"
        console.print(f"  {package.spec}: {status} in {package.seconds:.0f}s")
        if package.error:
            console.print(f"    [yellow]{package.error}[/]")
        if package.rewrites:
            console.print("    statements: " + ", ".join(f"{k}: {n}" for k, n in sorted(package.rewrites.items())))
    return 0 if report.kept else 1


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "env build": _env_build,
    "demo": _demo,
    "trajectories import": _trajectories_import,
    "collect": _collect,
    "eval": _eval,
    "data build": _data_build,
    "train srl": _train_srl,
    "train sft": _train_sft,
    "tasks synthesize": _tasks_synthesize,
}


def _add_agent_flags(parser: argparse.ArgumentParser, *, model_required: bool) -> None:
    parser.add_argument("--model", required=model_required, help="served model name (with --base-url) or a local model folder")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    parser.add_argument("--workers", type=int, default=1, help="parallel sandboxes")
    parser.add_argument("--max-steps", type=int, default=50, help="model calls per run")
    parser.add_argument("--max-run-tokens", type=int, help="prompt + completion tokens per run")
    parser.add_argument("--max-cost", type=float, help="cost per run (from --price-*)")
    parser.add_argument("--max-new-tokens", type=int, default=1024, help="tokens per reply")
    parser.add_argument("--max-prompt-tokens", type=int, default=16384, help="prompt budget; oldest observations elided past it")
    parser.add_argument("--context-steps", default="2", help="earlier (action, observation) pairs in the prompt: a number or 'all'")
    parser.add_argument("--temperature", type=float, default=0.0, help="0: greedy")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per model request")
    parser.add_argument("--native-tools", choices=["auto", "on", "off"], default="auto", help="native tool calling")
    parser.add_argument("--price-prompt", type=float, default=0.0, help="cost per million prompt tokens")
    parser.add_argument("--price-completion", type=float, default=0.0, help="cost per million completion tokens")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="swe-srl", description="Train software-engineering agents with Supervised Reinforcement Learning."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each stage does (sandboxes, images, grading)")
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

    data = sub.add_parser("data", help="step-wise SRL data").add_subparsers(dest="subcommand", required=True)
    dbuild = data.add_parser("build", help="turn imported trajectories into step-wise examples")
    dbuild.add_argument("traj_dir", type=Path, help="a trajectories.jsonl store or a folder of them (from `trajectories import`)")
    dbuild.add_argument("--out", type=Path, required=True, help="folder for dataset/, examples.parquet, summary.json")
    dbuild.add_argument("--tokenizer", required=True, help="tokenizer name or path; budgets are counted in its tokens")
    dbuild.add_argument("--context-steps", default="2", help="earlier expert steps in each prompt: a number (2 = the paper) or 'all'")
    dbuild.add_argument("--max-prompt-tokens", type=int, default=16384, help="prompt budget; oldest observations are elided first")
    dbuild.add_argument("--max-steps-per-trajectory", type=int, help="keep at most this many evenly spaced steps per run")
    dbuild.add_argument("--keep-ungraded", action="store_true", help="use runs never graded (e.g. SWE-smith rows, resolved by construction)")
    dbuild.add_argument("--keep-unresolved", action="store_true", help="use runs graded as failing too")
    dbuild.add_argument("--strict", action="store_true", help="fail on the first bad line instead of counting it")

    train = sub.add_parser("train", help="training recipes").add_subparsers(dest="subcommand", required=True)
    srl = train.add_parser("srl", help="SRL: GRPO on the step-wise similarity reward")
    srl.add_argument("--config", required=True, help="a preset name (tiny-cpu, qwen2.5-coder-7b, ...) or a YAML file")
    srl.add_argument("overrides", nargs="*", help="section.field=value overrides, e.g. run.steps=50 data.path=runs/data/dataset")
    srl.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in run.output_dir")
    sft = train.add_parser("sft", help="SFT baseline on the same step-wise data (loss on the expert's turns only)")
    sft.add_argument("--config", required=True, help="a preset name (sft-tiny-cpu, sft-qwen2.5-coder-7b) or a YAML file")
    sft.add_argument("overrides", nargs="*", help="section.field=value overrides, e.g. sft.mode=trajectory data.path=...")
    sft.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in run.output_dir")

    collect = sub.add_parser("collect", help="run a teacher on tasks in sandboxes and store graded trajectories")
    collect.add_argument("--teacher", choices=["scripted", "replay", "openai"], default="scripted",
                         help="who acts (scripted: a known-fix route; openai: --model behind --base-url, or a local model folder)")
    collect.add_argument("--tasks", type=Path, help="task file (JSON, JSONL, parquet); default: the bundled tasks")
    collect.add_argument("--trajectories", type=Path, default=Path("trajectories"),
                         help="with --teacher replay: recorded runs to re-execute (any importable format)")
    collect.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="one run per seed (sample) and task")
    collect.add_argument("--out", type=Path, required=True, help="folder for the runs and the SWE-Gym-format rows")
    _add_agent_flags(collect, model_required=False)

    ev = sub.add_parser("eval", help="run a model as an agent on a benchmark and report the resolve rate")
    ev.add_argument("--dataset", default="bundled", help="swe-bench-verified, bundled, or a task file (JSON, JSONL, parquet)")
    ev.add_argument("--settings", nargs="+", choices=["end-to-end", "oracle"], default=["end-to-end", "oracle"],
                    help="end-to-end, and oracle file edit (the agent is told the files the gold patch touches)")
    ev.add_argument("--instances", nargs="+", help="only these instance ids")
    ev.add_argument("--limit", type=int, help="only the first N tasks")
    ev.add_argument("--out", type=Path, required=True, help="folder for runs, predictions.jsonl and the report")
    _add_agent_flags(ev, model_required=True)

    tasks = sub.add_parser("tasks", help="task sets").add_subparsers(dest="subcommand", required=True)
    synth = tasks.add_parser("synthesize", help="inject and validate bugs in PyPI packages' own test suites")
    synth.add_argument("packages", nargs="+", help="PACKAGE==VERSION (its sdist must ship tests) or an sdist file")
    synth.add_argument("--out", type=Path, required=True, help="folder for tasks.jsonl and report.json")
    synth.add_argument("--max-per-package", type=int, default=20, help="kept tasks per package")
    synth.add_argument("--workers", type=int, default=1, help="validation containers per package")
    synth.add_argument("--suite-timeout", type=float, default=600.0, help="seconds for one run of a whole suite")
    synth.add_argument("--kinds", nargs="+", help="mutation kinds to use (default: all)")
    synth.add_argument("--verify", action="store_true", help="also grade each gold patch with the swebench harness")
    synth.add_argument("--rewrite-model", help="OpenAI-compatible model that rephrases each kept task's statement")
    synth.add_argument("--rewrite-base-url", help="its endpoint, e.g. http://localhost:8000/v1 ($OPENAI_API_KEY)")

    demo = sub.add_parser("demo", help="run the whole pipeline on the bundled default")
    demo.add_argument("--workdir", default="runs/demo", help="where the demo writes its outputs")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The commands draw their own progress; the hub's and transformers' per-file bars would
    # interleave with them. Read when transformers is first imported, so set before any is.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
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
