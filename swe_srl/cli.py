"""The `swe-srl` command tree. Thin: parse flags, call a recipe or component, print with rich."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Callable

from rich.console import Console

from swe_srl.config.collect import CollectConfig
from swe_srl.config.data import DataBuildConfig
from swe_srl.config.evaluate import EvalConfig
from swe_srl.config.loading import presets_in
from swe_srl.config.synthesize import SynthesizeConfig
from swe_srl import __version__
from swe_srl.config.train import PRESETS_DIR, RLVR_SECTIONS, SFT_SECTIONS, SRL_SECTIONS, TrainConfig
from swe_srl.dialects import DEFAULT_DIALECT, DIALECTS
from swe_srl.errors import ConfigError, SweSrlError
from swe_srl.flags import (
    COLLECT_FLAGS, DATA_FLAGS, EVAL_FLAGS, SYNTHESIZE_FLAGS, add_config_flags, config_from_args, fields_help,
)
from swe_srl.tables import collect_table, data_table, eval_table, import_table, plan_table, synthesis_table

console = Console(stderr=False)
RAW = argparse.RawDescriptionHelpFormatter  # keeps the field list's lines


def _env_build(args: argparse.Namespace) -> int:
    from swe_srl.images.base import ensure_base_image
    from swe_srl.images.task_image import ensure_task_image
    from swe_srl.sandbox.backends import backend
    from swe_srl.tasks.bundled import bundled_tasks
    from swe_srl.tasks.load import load_tasks

    tasks = load_tasks(args.tasks) if args.tasks else bundled_tasks()
    client = backend(args.sandbox).connect(None)  # the engine whose store gets the images
    with console.status("base image (debootstrap on first use, about a minute)"):
        base = ensure_base_image(client)
    console.print(f"base image [bold]{base}[/]")
    for task in tasks:
        with console.status(f"image for {task.instance_id}"):
            image = ensure_task_image(task, client)
        console.print(f"  {task.instance_id}: {image}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from swe_srl.recipes.demo import RULE_FORMAT_FAILURES, RULE_RISE, RULE_WINDOW, run_demo
    from swe_srl.tables import curve_table

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        stages: dict[str, int] = {}  # one bar per stage, added when the stage starts

        def progress(stage: str, done: int, total: int | None, note: str) -> None:
            if stage not in stages:
                stages[stage] = bar.add_task(stage, total=total)
            bar.update(stages[stage], completed=done, total=total, description=f"{stage}: {note}")

        result = run_demo(Path(args.workdir), say=lambda line: bar.console.print(f"[bold cyan]{line}[/]"),
                          progress=progress)
    student = result.student
    console.print(collect_table(result.collected, "1. expert runs replayed in the sandboxes, graded by swebench"))
    console.print(data_table(student.data, "2. step-wise SRL data"))
    if student.sft_loss:
        console.print(f"3. SFT loss {student.sft_loss[0]:.3f} -> {student.sft_loss[1]:.3f}")
    console.print(curve_table(student.srl_history, "3. SRL reward curve (GRPO, tiny model)"))
    check = student.check
    rule = (f"reward mean of the last {RULE_WINDOW} steps at least {RULE_RISE} above that of the first "
            f"{RULE_WINDOW}, their format failures below {RULE_FORMAT_FAILURES}")
    if check is None:
        console.print(f"SRL check: too few steps logged for the rule ({rule})")
    else:
        verdict = "[bold green]met[/]" if check.met else "[bold red]not met[/]"
        console.print(f"SRL check ({rule}): reward {check.first_reward:+.3f} -> {check.last_reward:+.3f} "
                      f"(rise {check.rise:+.3f}), format failures {check.first_format_failures:.2f} -> "
                      f"{check.last_format_failures:.2f}: {verdict}")
    console.print(eval_table(result.evaluation, "4. tiny-srl on the bundled tasks: resolve rate"))
    console.print("These are the tasks the student trained on, and a model of a quarter million parameters is not "
                  "expected to resolve any end to end: the eval shows the agent loop and the grading at work.")
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

        report = import_to_store(args.paths, args.out, format=args.format, strict=args.strict, progress=progress,
                                dialect=args.dialect)
    console.print(import_table(report, f"imported into {args.out}"))
    for line in report.errors:
        console.print(f"  [yellow]{line}[/]")
    return 0


def _agent_config(config):
    """The agent's limits and prompt: the model's prompt recipe, with what the user asked for (checked first)."""
    from dataclasses import asdict

    from swe_srl.agent.loop import AgentConfig

    return AgentConfig(**asdict(config.agent), stepwise=config.prompt.for_model(config.client.model))


def _batch_progress(bar, task_id):
    def update(p) -> None:
        bar.update(task_id, total=p.total, completed=p.done, description=f"{p.key}: {'ok' if p.ok else '[red]failed[/]'}")

    return update


def _collect(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from swe_srl.recipes.collect import agent_teacher, collect, recorded_dialect, replay_teacher, scripted_teacher
    from swe_srl.tasks.bundled import bundled_tasks
    from swe_srl.tasks.load import load_tasks

    config = config_from_args(args, CollectConfig, "collect", COLLECT_FLAGS)
    settings = config.collect
    tasks = load_tasks(settings.tasks) if settings.tasks else bundled_tasks()
    source = str(settings.tasks) if settings.tasks else "bundled tasks"
    dialect = config.prompt.observation_dialect or DEFAULT_DIALECT
    if settings.teacher == "scripted":
        teacher = scripted_teacher()
    elif settings.teacher == "replay":
        from swe_srl.formats.importing import import_paths

        runs = list(import_paths([settings.trajectories]))
        teacher = replay_teacher(runs)
        # replayed in the dialect the runs were recorded in, so their observations compare like with like
        dialect = config.prompt.observation_dialect or recorded_dialect(runs) or DEFAULT_DIALECT
    else:
        from swe_srl.agent.factory import client_factory
        from swe_srl.agent.identity import model_identity

        identity = model_identity(config.client)  # a mistyped folder stops here
        agent = _agent_config(config)  # checked against the model's prompt recipe before the model loads
        teacher = agent_teacher(client_factory(config.client), identity.key, agent)
        dialect = agent.stepwise.observation_dialect
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task_id = bar.add_task("collecting", total=len(tasks) * len(settings.seeds))
        summary = collect(tasks, teacher, settings.out, samples=settings.seeds, workers=settings.workers,
                          progress=_batch_progress(bar, task_id), backend=config.sandbox.backend,
                          skip_ungradable=settings.skip_ungradable, source=source, dialect=dialect,
                          cluster=config.cluster)
    console.print(collect_table(summary, f"collected into {settings.out}"))
    console.print(f"rows: {summary.path}")
    if summary.infra_failed:
        console.print(f"[yellow]{summary.infra_failed} runs lost to the cluster (a node or worker died past the "
                      "retries): not counted; run the same command again to retry them[/]")
    return 1 if summary.failed or summary.infra_failed else 0


def _eval(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from swe_srl.agent.factory import client_factory
    from swe_srl.agent.identity import model_identity
    from swe_srl.evaluate.datasets import load_eval_tasks
    from swe_srl.evaluate.oracle import END_TO_END, ORACLE
    from swe_srl.recipes.evaluate import evaluate

    config = config_from_args(args, EvalConfig, "eval", EVAL_FLAGS)
    identity = model_identity(config.client)  # a mistyped folder stops here
    agent = _agent_config(config)  # a prompt setting the model's recipe contradicts stops here, before any work
    run = config.eval
    dataset = load_eval_tasks(run.dataset, revision=run.revision)
    tasks = list(dataset.tasks)
    if run.instances:
        wanted = set(run.instances)
        tasks = [t for t in tasks if t.instance_id in wanted]
    if run.limit:
        tasks = tasks[: run.limit]
    settings = [{"end-to-end": END_TO_END, "oracle": ORACLE}[s] for s in run.settings]
    make_client = client_factory(config.client)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        ids = {s: bar.add_task(s, total=len(tasks)) for s in settings}
        report = evaluate(tasks, make_client, run.out, model=identity, dataset=dataset.name, settings=settings,
                          config=agent, workers=run.workers, progress=lambda s, p: _batch_progress(bar, ids[s])(p),
                          backend=config.sandbox.backend, revision=dataset.revision,
                          skip_ungradable=run.skip_ungradable, cluster=config.cluster)
    console.print(eval_table(report, f"{identity.name} on {run.dataset}: resolve rate"))
    for line in report.skipped:
        console.print(f"  [yellow]skipped, cannot be graded: {line}[/]")
    for setting, outcome in report.settings.items():
        for instance, error in outcome.failed.items():
            console.print(f"  [red]{setting} {instance} did not finish: {error}[/]")
    console.print(f"report: {run.out / 'report.json'}, {run.out / 'report.html'}")
    if report.failed:
        console.print(f"[bold red]{report.failed} runs did not finish[/] and count in no rate; rerun the same "
                      "command to run them again")
    return 1 if report.failed else 0


def _data_build(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from swe_srl.dataset import build_dataset
    from swe_srl.prompt_recipe import RECIPE_FILE

    config = config_from_args(args, DataBuildConfig, "data", DATA_FLAGS)
    out = config.build.out
    columns = (TextColumn("building"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("build", total=None)
        summary = build_dataset(
            args.traj_dir, out, config.build.tokenizer, config.stepwise, strict=config.build.strict,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(data_table(summary, f"step-wise dataset in {out}"))
    console.print(f"prompt recipe: {out / RECIPE_FILE} (training carries it to the model)")
    return 0


def _train(args: argparse.Namespace, run, describe) -> int:
    """Load the config (``--resume`` included), run a training recipe under a progress bar."""
    from dataclasses import replace

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from swe_srl.config.train import load_config, with_dataset_budget

    config = with_dataset_budget(load_config(args.config, args.overrides))
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


def _train_rlvr(args: argparse.Namespace) -> int:
    from swe_srl.recipes.train_rlvr import run

    def describe(config, record: dict) -> tuple[str, int]:
        text = (f"RLVR reward {record['reward_mean']:.3f} resolved {record['resolve_rate']:.2f} "
                f"masked {record['masked_fraction']:.2f}")
        return text, config.run.steps

    return _train(args, run, describe)


def _plan(args: argparse.Namespace) -> int:
    from swe_srl.recipes.plan import run

    plan = run(args.config, args.overrides, gpu=args.gpu, gpus=args.gpus)
    console.print(plan_table(plan, f"memory plan of {args.config} (train srl), per GPU"))
    if not plan.fits:
        raise ConfigError("; ".join(plan.problems))
    return 0


def _tasks_synthesize(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from swe_srl.recipes.synthesize import synthesize

    config = config_from_args(args, SynthesizeConfig, "synthesize", SYNTHESIZE_FLAGS)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        bar_task = bar.add_task("synthesizing", total=None)
        _, report = synthesize(args.packages, config.synthesize,
                               progress=lambda what, done, total: bar.update(bar_task, description=what,
                                                                             completed=done, total=total),
                               cluster=config.cluster)
    console.print(synthesis_table(report, f"synthesized into {config.synthesize.out}"))
    for package in report.packages:
        status = f"[red]failed ({package.stage})[/]" if package.error else f"{sum(package.kept.values())} kept"
        console.print(f"  {package.spec}: {status} in {package.seconds:.0f}s")
        if package.error:
            console.print(f"    [yellow]{package.error}[/]")
        if package.rewrites:
            console.print("    statements: " + ", ".join(f"{k}: {n}" for k, n in sorted(package.rewrites.items())))
    return 0 if report.kept else 1


def _tasks_check(args: argparse.Namespace) -> int:
    from swe_srl.tasks.gradable import check_rows
    from swe_srl.tasks.load import load_tasks

    bad = 0
    for path in args.files:
        checked = check_rows(load_tasks(path), str(path), skip_ungradable=True)
        for row in checked.skipped:
            console.print(f"[red]{row.line(str(path))}[/]")
        bad += len(checked.skipped)
        console.print(f"{path}: {len(checked.tasks)} gradable, {len(checked.skipped)} not")
    if bad:
        console.print("convert them with `swe-srl tasks convert FILE... --out CONVERTED.jsonl`")
    return 1 if bad else 0


def _report(args: argparse.Namespace) -> int:
    """Training runs (metrics.jsonl) -> their curves; evaluation folders (report.json) -> one evaluation page."""
    from swe_srl.evaluate.runs import REPORT_FILE

    evals = [folder for folder in args.run_dirs if (folder / REPORT_FILE).is_file()]
    if evals and len(evals) < len(args.run_dirs):
        others = [str(f) for f in args.run_dirs if f not in evals]
        raise ConfigError(f"{', '.join(others)}: no {REPORT_FILE} here, while {evals[0]} is an evaluation; "
                          "draw training runs and evaluations in separate `swe-srl report` calls")
    out = args.out if args.out else args.run_dirs[0]
    if evals:
        from swe_srl.evaluate.chart import write_chart
        from swe_srl.evaluate.runs import EvalRun

        page = write_chart([EvalRun.read(folder) for folder in evals], out)
        console.print(f"{len(evals)} evaluation(s) drawn: {page}")
        return 0
    from swe_srl.train.curves import RunCurves, write_report

    runs = [RunCurves.read(run_dir) for run_dir in args.run_dirs]
    png, page = write_report(runs, out)
    console.print(f"{len(runs)} run(s) drawn: {png} and {page}")
    return 0


def _tasks_export(args: argparse.Namespace) -> int:
    from swe_srl.evaluate.export import export_swebench
    from swe_srl.evaluate.predictions import read_predictions
    from swe_srl.tasks.bundled import bundled_tasks
    from swe_srl.tasks.load import load_tasks

    tasks = [task for path in args.files for task in load_tasks(path)] if args.files else bundled_tasks()
    predictions = read_predictions(args.predictions) if args.predictions else []
    done = export_swebench(tasks, args.out, predictions)
    console.print(f"{len(tasks)} rows into {done.dataset}" + (f", {len(predictions)} predictions into "
                                                                f"{done.predictions}" if done.predictions else ""))
    for instance_id, aside in done.set_aside.items():
        console.print(f"  {instance_id}: set aside as swe-srl grades it: {', '.join(sorted(aside))}")
    if done.predictions:
        console.print(f"grade them with swebench alone: python -m swebench.harness.run_evaluation --dataset_name "
                      f"{done.dataset} --predictions_path {done.predictions} --run_id RUN_ID")
    return 0


def _tasks_convert(args: argparse.Namespace) -> int:
    from swe_srl.atomic import write_text_atomic
    from swe_srl.tasks.convert import convert_files, write_rows

    result = convert_files(args.files, args.reference)
    write_text_atomic(args.out, write_rows(result.rows))
    console.print(f"{len(result.rows)} rows into {args.out}: {result.kept} already gradable, "
                  f"{result.from_reference} joined from the reference, {result.from_table} from the repository table")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "env build": _env_build,
    "demo": _demo,
    "report": _report,
    "tasks export": _tasks_export,
    "trajectories import": _trajectories_import,
    "collect": _collect,
    "eval": _eval,
    "data build": _data_build,
    "train srl": _train_srl,
    "train sft": _train_sft,
    "train rlvr": _train_rlvr,
    "plan": _plan,
    "tasks synthesize": _tasks_synthesize,
    "tasks check": _tasks_check,
    "tasks convert": _tasks_convert,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="swe-srl", description="Train software-engineering agents with Supervised Reinforcement Learning."
    )
    parser.add_argument("--version", action="version", version=f"swe-srl {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each stage does (sandboxes, images, grading)")
    sub = parser.add_subparsers(dest="command", required=True)

    env = sub.add_parser("env", help="sandbox images").add_subparsers(dest="subcommand", required=True)
    build = env.add_parser("build", help="build the base image and the task images")
    build.add_argument("--tasks", type=Path, help="task file (JSON, JSONL, parquet); default: the bundled tasks")
    build.add_argument("--sandbox", choices=("docker", "podman"), default="docker",
                       help="the backend whose engine stores the images (podman: its service, see README)")

    traj = sub.add_parser("trajectories", help="teacher trajectories").add_subparsers(dest="subcommand", required=True)
    imp = traj.add_parser("import", help="import trajectory files or folders (format auto-detected)")
    imp.add_argument("paths", nargs="+", type=Path, help="files or folders of .json, .jsonl, .traj")
    imp.add_argument("--out", type=Path, required=True, help="folder for trajectories.jsonl and import_report.json")
    imp.add_argument("--format", help="force a format instead of detecting it")
    imp.add_argument("--dialect", help="the observation dialect the runs were recorded in (default: the format's): "
                     + ", ".join(DIALECTS))
    imp.add_argument("--strict", action="store_true", help="fail on the first bad record instead of counting it")

    data = sub.add_parser("data", help="step-wise SRL data").add_subparsers(dest="subcommand", required=True)
    dbuild = data.add_parser("build", help="turn imported trajectories into step-wise examples and their prompt recipe")
    dbuild.add_argument("traj_dir", type=Path, help="a trajectories.jsonl store or a folder of them (from `trajectories import`)")
    add_config_flags(dbuild, DataBuildConfig, "data", DATA_FLAGS)

    train = sub.add_parser("train", help="training recipes").add_subparsers(dest="subcommand", required=True)
    srl = train.add_parser("srl", help="SRL: GRPO on the step-wise similarity reward",
                           epilog=fields_help(TrainConfig, SRL_SECTIONS), formatter_class=RAW)
    srl.add_argument("--config", required=True, help=f"a preset ({', '.join(presets_in(PRESETS_DIR))}) or a YAML file")
    srl.add_argument("overrides", nargs="*", help="section.field=value overrides, e.g. run.steps=50 data.path=runs/data/dataset")
    srl.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in run.output_dir")
    sft = train.add_parser("sft", help="SFT baseline on the same step-wise data (loss on the expert's turns only)",
                           epilog=fields_help(TrainConfig, SFT_SECTIONS), formatter_class=RAW)
    sft.add_argument("--config", required=True, help=f"a preset ({', '.join(presets_in(PRESETS_DIR))}) or a YAML file")
    sft.add_argument("overrides", nargs="*", help="section.field=value overrides, e.g. sft.mode=trajectory data.path=...")
    sft.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in run.output_dir")
    rlvr = train.add_parser("rlvr", help="RLVR after SRL: GRPO over whole episodes in sandboxes, rewarded by the tests",
                            epilog=fields_help(TrainConfig, RLVR_SECTIONS), formatter_class=RAW)
    rlvr.add_argument("--config", required=True, help=f"a preset ({', '.join(presets_in(PRESETS_DIR))}) or a YAML file")
    rlvr.add_argument("overrides", nargs="*", help="section.field=value overrides, e.g. model.path=runs/srl/final "
                      "rlvr.tasks=tasks.jsonl")
    rlvr.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in run.output_dir")

    plan = sub.add_parser("plan", help="per-GPU memory of a `train srl` config, and whether it fits a GPU",
                          epilog=fields_help(TrainConfig, SRL_SECTIONS), formatter_class=RAW)
    plan.add_argument("--config", required=True, help=f"a preset ({', '.join(presets_in(PRESETS_DIR))}) or a YAML file")
    plan.add_argument("overrides", nargs="*", help="section.field=value overrides, as `train srl` takes them")
    plan.add_argument("--gpu", default="H100", help="the GPU to fit: H100, H200, A100, 80GB, 141GB or a size "
                      "such as 96GiB (default: H100)")
    plan.add_argument("--gpus", type=int, help="GPUs the FSDP state is sharded over (default: WORLD_SIZE, else 8 "
                      "under run.distributed=fsdp, else 1)")

    collect = sub.add_parser("collect", help="run a teacher on tasks in sandboxes and store graded trajectories")
    add_config_flags(collect, CollectConfig, "collect", COLLECT_FLAGS)
    ev = sub.add_parser("eval", help="run a model as an agent on a benchmark and report the resolve rate")
    add_config_flags(ev, EvalConfig, "eval", EVAL_FLAGS)

    tasks = sub.add_parser("tasks", help="task sets").add_subparsers(dest="subcommand", required=True)
    synth = tasks.add_parser("synthesize", help="inject and validate bugs in PyPI packages' own test suites")
    synth.add_argument("packages", nargs="+", help="PACKAGE==VERSION (its sdist must ship tests) or an sdist file")
    add_config_flags(synth, SynthesizeConfig, "synthesize", SYNTHESIZE_FLAGS)
    check = tasks.add_parser("check", help="check that every row can be graded (exit 1 naming each row that cannot)")
    check.add_argument("files", nargs="+", type=Path, help="task files (JSON, JSONL, parquet)")
    convert = tasks.add_parser("convert", help="fill image, eval_script, log_parser, eval_type in older "
                               "SWE-bench Verified and SWE-Gym rows")
    convert.add_argument("files", nargs="+", type=Path, help="task files (JSON, JSONL, parquet)")
    convert.add_argument("--out", type=Path, required=True, help="the converted rows (JSONL)")
    convert.add_argument("--reference", type=Path, help="a swebench 5 dataset (parquet, JSON, JSONL or a "
                         "save_to_disk folder) to join on instance_id; rows not in it use the repository table")

    report = sub.add_parser("report", help="draw training runs' curves on shared axes, or several evaluations on "
                            "one page (report.html)")
    report.add_argument("run_dirs", nargs="+", type=Path, help="output folders of training runs (with metrics.jsonl) "
                        "or of `swe-srl eval` (with report.json)")
    report.add_argument("--out", type=Path, help="where report.html (and a run's report.png) go; default: the first "
                        "folder")

    export = tasks.add_parser("export", help="write rows (and predictions, as swe-srl grades them) that swebench's "
                              "own harness reads")
    export.add_argument("files", nargs="*", type=Path, help="task files (JSON, JSONL, parquet); default: the bundled tasks")
    export.add_argument("--format", choices=["swebench"], default="swebench", help="the harness to write for")
    export.add_argument("--predictions", type=Path, help="a predictions.jsonl (e.g. eval's out/<setting>/predictions.jsonl)")
    export.add_argument("--out", type=Path, required=True, help="folder for dataset.jsonl and predictions.jsonl")

    demo = sub.add_parser("demo", help="run the whole pipeline on the bundled default")
    demo.add_argument("--workdir", default="runs/demo", help="where the demo writes its outputs")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The commands draw their own progress; the hub's and transformers' per-file bars would
    # interleave with them. transformers reads this when first imported, so it is set before any
    # is; a model download turns the hub's bars on for itself (host/hub.py), which the variable
    # HF_HUB_DISABLE_PROGRESS_BARS would forbid.
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()
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
