"""Command-line flags that set config fields: their types, choices and defaults read from the dataclasses.

Every command that has a config class takes ``--config PRESET_OR_YAML`` (a bundled preset from
its folder in swe_srl/presets/, or the user's own YAML file), its flags, and ``--set
SECTION.FIELD=VALUE`` for any field without a flag. A flag the user does not pass leaves the field
to the file or the default, which the help text shows. The flag tables of the commands follow.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, Sequence, TypeVar, get_args, get_origin

from swe_srl.config.docs import field_docs
from swe_srl.config.loading import (
    PRESETS_ROOT, field_default, field_hint, field_hints, load, presets_in, section_types, union_members,
)
from swe_srl.dialects import DEFAULT_DIALECT, DIALECTS
from swe_srl.prompt import PromptRecipe

C = TypeVar("C")
HELP_KEY_WIDTH = 36  # the field=default column of a command's field list; longer ones put the doc below


@dataclass(frozen=True)
class Flag:
    """One command-line flag and the config field it sets."""

    name: str  # e.g. "--max-steps"
    field: str  # "section.field"
    help: str  # what it does; the default is added from the dataclass

    @property
    def dest(self) -> str:
        """Its attribute on the parsed arguments, e.g. ``max_steps``."""
        return self.name.lstrip("-").replace("-", "_")


def _default_text(cls: type, section: str, name: str) -> str:
    default = field_default(section_types(cls)[section], name)
    if default is dataclasses.MISSING:
        return "required"
    if default is None or default == "" or default == ():
        return "default: unset"
    return "default: " + (" ".join(map(str, default)) if isinstance(default, tuple) else str(default))


def fields_help(cls: type, sections: Sequence[str] | None = None) -> str:
    """Every field of config class ``cls`` (of ``sections``, default all) as ``section.field=default  doc`` lines."""
    rows = []
    for section, section_cls in section_types(cls).items():
        if sections is None or section in sections:
            docs = field_docs(section_cls)
            rows += [(f"{section}.{name}={_default_value(section_cls, name)}", docs[name])
                     for name in field_hints(section_cls)]
    width = min(HELP_KEY_WIDTH, max(len(key) for key, _ in rows))
    lines = [f"  {key}\n  {'':{width}}  {doc}" if len(key) > width and doc else f"  {key:{width}}  {doc}".rstrip()
             for key, doc in rows]
    return "config fields (set as section.field=value, or field=value where the name is unique):\n" + "\n".join(lines)


def _default_value(section_cls: type, name: str) -> str:
    default = field_default(section_cls, name)
    if default is dataclasses.MISSING:
        return "(required)"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, tuple):
        return "[" + ",".join(map(str, default)) + "]"
    return '""' if default == "" else str(default)


def _argument(cls: type, flag: Flag) -> dict[str, Any]:
    """argparse keywords for ``flag``: no default of its own, so only flags the user passed are seen."""
    section, name, hint = field_hint(cls, flag.field, flag.name)
    kwargs: dict[str, Any] = {"dest": flag.dest, "default": argparse.SUPPRESS,
                              "help": f"{flag.help} ({_default_text(cls, section, name)})"}
    members = [m for m in union_members(hint) if m is not type(None)]
    if members == [bool]:
        return {**kwargs, "action": "store_true"}
    if any(get_origin(m) is tuple for m in members):
        kwargs["nargs"] = "+"
        members = [get_args(m)[0] for m in members if get_origin(m) is tuple]
    if len(members) == 1 and get_origin(members[0]) is Literal:
        kwargs["choices"] = get_args(members[0])
    return kwargs


def add_config_flags(parser: argparse.ArgumentParser, cls: type, preset_folder: str, flags: Sequence[Flag]) -> None:
    """``--config``, ``--set`` and ``flags`` on ``parser``, for config class ``cls``."""
    presets = ", ".join(presets_in(PRESETS_ROOT / preset_folder)) or "none yet"
    parser.add_argument("--config", help=f"a preset ({presets}) or your own YAML file; flags override it")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="set any config field, e.g. --set agent.max_malformed_in_a_row=5")
    for flag in flags:
        parser.add_argument(flag.name, **_argument(cls, flag))


def config_from_args(args: argparse.Namespace, cls: type[C], preset_folder: str, flags: Sequence[Flag]) -> C:
    """The config the user asked for: defaults, then ``--config``, then the flags passed, then ``--set``."""
    given = vars(args)
    values = {flag.field: given[flag.dest] for flag in flags if flag.dest in given}
    return load(cls, args.config, PRESETS_ROOT / preset_folder, flags=values,
                flag_names={flag.field: flag.name for flag in flags}, overrides=args.set)


_PROMPT_DEFAULTS = PromptRecipe()
AGENT_FLAGS = (
    Flag("--model", "client.model", "served model name (with --base-url) or a local model folder"),
    Flag("--base-url", "client.base_url", "OpenAI-compatible endpoint, e.g. http://localhost:8000/v1"),
    Flag("--max-steps", "agent.max_steps", "model calls per run"),
    Flag("--max-run-tokens", "agent.max_tokens", "prompt + completion tokens per run"),
    Flag("--max-cost", "agent.max_cost", "cost per run (from --price-*)"),
    Flag("--max-new-tokens", "client.max_new_tokens", "tokens per reply"),
    Flag("--max-batch", "client.max_batch", "local model: prompts of concurrent runs generated in one batch "
         "(1: one at a time)"),
    Flag("--context-steps", "prompt.context_steps", "earlier (action, observation) pairs in the prompt: a number or "
         f"'all'; unset: the model's prompt recipe, else {_PROMPT_DEFAULTS.context_steps}"),
    Flag("--max-prompt-tokens", "prompt.max_prompt_tokens", "prompt budget, oldest observations elided past it; "
         f"unset: the model's prompt recipe, else {_PROMPT_DEFAULTS.max_prompt_tokens}"),
    Flag("--max-observation-chars", "prompt.max_observation_chars", "longer observations keep head and tail; "
         f"unset: the model's prompt recipe, else {_PROMPT_DEFAULTS.max_observation_chars}"),
    Flag("--observation-dialect", "prompt.observation_dialect", "how tool results are worded: "
         f"{', '.join(DIALECTS)}; unset: the model's prompt recipe, else {DEFAULT_DIALECT}"),
    Flag("--temperature", "client.temperature", "0: greedy"),
    Flag("--timeout", "client.timeout", "seconds per model request"),
    Flag("--native-tools", "client.native_tools", "native tool calling"),
    Flag("--price-prompt", "client.price_prompt", "cost per million prompt tokens"),
    Flag("--price-completion", "client.price_completion", "cost per million completion tokens"),
    Flag("--sandbox", "sandbox.backend", "where each task's sandbox runs"),
)
RAY_FLAG = Flag("--ray", "cluster.ray", "run the jobs on a Ray cluster: auto (the running one), local (start one here) "
                "or its address; unset: threads here")
COLLECT_FLAGS = (
    Flag("--out", "collect.out", "folder for the runs and the SWE-Gym-format rows"),
    Flag("--teacher", "collect.teacher", "who acts (scripted: a known-fix route; openai: --model behind --base-url, "
         "or a local model folder)"),
    Flag("--tasks", "collect.tasks", "task file (JSON, JSONL, parquet); unset: the bundled tasks"),
    Flag("--trajectories", "collect.trajectories", "with --teacher replay: recorded runs to re-execute"),
    Flag("--seeds", "collect.seeds", "one run per seed (sample) and task"),
    Flag("--workers", "collect.workers", "parallel sandboxes"),
    Flag("--skip-ungradable", "collect.skip_ungradable", "skip rows the harness cannot grade (counted) instead of "
         "stopping before any work"),
    RAY_FLAG,
    *AGENT_FLAGS,
)
EVAL_FLAGS = (
    Flag("--out", "eval.out", "folder for runs, predictions.jsonl and the report"),
    Flag("--dataset", "eval.dataset", "swe-bench-verified, bundled, or a task file (JSON, JSONL, parquet)"),
    Flag("--settings", "eval.settings", "end-to-end, and oracle file edit (the agent is told the files the gold "
         "patch touches)"),
    Flag("--instances", "eval.instances", "only these instance ids"),
    Flag("--limit", "eval.limit", "only the first N tasks (0: all)"),
    Flag("--workers", "eval.workers", "parallel sandboxes"),
    Flag("--revision", "eval.revision", "hub commit sha of swe-bench-verified (required for it)"),
    Flag("--skip-ungradable", "eval.skip_ungradable", "skip rows the harness cannot grade (counted in the report) "
         "instead of stopping before any work"),
    RAY_FLAG,
    *AGENT_FLAGS,
)
DATA_FLAGS = (
    Flag("--out", "build.out", "folder for dataset/, examples.parquet, summary.json, prompt_recipe.json"),
    Flag("--tokenizer", "build.tokenizer", "tokenizer name or path; budgets are counted in its tokens"),
    Flag("--context-steps", "stepwise.context_steps", "earlier expert steps in each prompt: a number (2 = the "
         "paper) or 'all'"),
    Flag("--max-prompt-tokens", "stepwise.max_prompt_tokens", "prompt budget; oldest observations are elided first"),
    Flag("--max-steps-per-trajectory", "stepwise.max_steps_per_trajectory",
         "keep at most this many evenly spaced steps per run"),
    Flag("--keep-ungraded", "stepwise.keep_ungraded", "use runs never graded (e.g. SWE-smith rows, resolved by "
         "construction)"),
    Flag("--keep-unresolved", "stepwise.keep_unresolved", "use runs graded as failing too"),
    Flag("--strict", "build.strict", "fail on the first bad line instead of counting it"),
)
SYNTHESIZE_FLAGS = (
    Flag("--out", "synthesize.out", "folder for tasks.jsonl and report.json"),
    Flag("--max-per-package", "synthesize.max_per_package", "kept tasks per package"),
    Flag("--workers", "synthesize.workers", "validation containers per package"),
    Flag("--suite-timeout", "synthesize.suite_timeout", "seconds for one run of a whole suite"),
    Flag("--kinds", "synthesize.kinds", "mutation kinds to use (unset: all)"),
    Flag("--verify", "synthesize.verify", "also grade each gold patch with the swebench harness"),
    Flag("--rewrite-model", "synthesize.rewrite_model", "OpenAI-compatible model that rephrases each kept task's "
         "statement"),
    Flag("--rewrite-base-url", "synthesize.rewrite_base_url", "its endpoint, e.g. http://localhost:8000/v1 "
         "($OPENAI_API_KEY)"),
    Flag("--sandbox", "sandbox.backend", "where validation sandboxes run"),
    RAY_FLAG,
)
