"""Command-line flags: defaults read from the config dataclasses, and options checked before any work."""

from __future__ import annotations

import pytest

from swe_srl.cli import build_parser, main
from swe_srl.config.evaluate import EvalConfig
from swe_srl.flags import EVAL_FLAGS, config_from_args


def test_flags_the_user_did_not_pass_leave_the_config_alone(tmp_path):
    args = build_parser().parse_args(["eval", "--config", "swe-bench-verified", "--model", "m", "--out", str(tmp_path),
                                      "--max-steps", "9", "--set", "client.timeout=30"])
    assert not hasattr(args, "temperature") and args.max_steps == "9"
    config = config_from_args(args, EvalConfig, "eval", EVAL_FLAGS)
    assert config.eval.dataset == "swe-bench-verified" and config.eval.workers == 8  # from the preset
    assert config.agent.max_steps == 9 and config.client.timeout == 30.0  # the flag, then --set
    assert config.prompt.context_steps is None  # unset: a trained model's recipe decides


def test_help_shows_the_dataclass_defaults(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["tasks", "synthesize", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "kept tasks per package (default: 20)" in text and "(required)" in text
    assert "{docker,podman,local}" in text and "presets: quick, verified" not in text and "a preset (quick, verified)" in text


def test_unknown_mutation_kinds_fail_at_once_naming_the_known_ones(tmp_path, capsys):
    assert main(["tasks", "synthesize", "toolz==0.12.1", "--out", str(tmp_path / "s"), "--kinds", "swap_call_args",
                 "nope"]) == 2
    said = " ".join(capsys.readouterr().out.split())
    assert "unknown mutation kinds: ['nope']; known: ['change_default'" in said
    assert not (tmp_path / "s").exists()


def test_bad_values_name_the_flag(tmp_path, capsys):
    assert main(["eval", "--model", "m", "--out", str(tmp_path), "--max-steps", "many"]) == 2
    assert "--max-steps: expected a whole number, got 'many'" in " ".join(capsys.readouterr().out.split())
    assert main(["data", "build", str(tmp_path), "--tokenizer", "t"]) == 2
    assert "build.out has no default: pass --out" in " ".join(capsys.readouterr().out.split())


def test_version_is_the_packages(capsys):
    import swe_srl

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"swe-srl {swe_srl.__version__}"


def test_field_docs_are_the_comments_beside_each_field():
    from dataclasses import dataclass

    from swe_srl.config.docs import field_docs

    @dataclass
    class Section:
        marker: str = "#"  # a '#' in a default is no comment
        # a doc on the line above,
        # over two lines
        above: int = 1
        bare: float = 0.5

    assert field_docs(Section) == {"marker": "a '#' in a default is no comment",
                                   "above": "a doc on the line above, over two lines", "bare": ""}


@pytest.mark.parametrize(("command", "sections", "absent"), [
    ("srl", ("model", "lora", "data", "rollout", "grpo", "optim", "run"), "sft."),
    ("sft", ("model", "lora", "data", "optim", "run", "sft"), "grpo."),
    ("rlvr", ("model", "lora", "rollout", "grpo", "optim", "run", "rlvr"), "sft."),
])
def test_train_help_lists_every_field_with_its_default_and_doc(command, sections, absent, capsys):
    import dataclasses

    from swe_srl.config.docs import field_docs
    from swe_srl.config.train import TrainConfig

    with pytest.raises(SystemExit):
        main(["train", command, "--help"])
    lines = capsys.readouterr().out.splitlines()
    listed = " ".join(" ".join(lines[lines.index(next(l for l in lines if l.startswith("config fields"))):]).split())
    defaults = TrainConfig()
    for section in sections:
        part = getattr(defaults, section)
        for f in dataclasses.fields(part):
            doc = field_docs(type(part))[f.name]
            assert doc, f"{section}.{f.name} has no comment: --help would list it without a doc"
            value = getattr(part, f.name)
            shown = ('""' if value == "" else str(value).lower() if isinstance(value, bool)
                     else "[" + ",".join(value) + "]" if isinstance(value, tuple) else str(value))
            assert f"{section}.{f.name}={shown} {' '.join(doc.split())}" in listed
    assert f" {absent}" not in listed and "model.path=tiny a hub id or local folder" in listed


def test_ray_flag_and_cluster_fields_set_the_cluster_section(tmp_path, capsys):
    args = build_parser().parse_args(["eval", "--model", "m", "--out", str(tmp_path), "--ray", "local",
                                      "--set", "cluster.sandboxes_per_node=3"])
    cluster = config_from_args(args, EvalConfig, "eval", EVAL_FLAGS).cluster
    assert (cluster.ray, cluster.sandboxes_per_node, cluster.starts_per_node) == ("local", 3, 2)
    assert main(["eval", "--model", "m", "--out", str(tmp_path), "--ray", "auto",
                 "--set", "cluster.sandboxes_per_node=3"]) == 2  # sizing a running cluster from here is refused
    assert "ray start --resources" in " ".join(capsys.readouterr().out.split())
