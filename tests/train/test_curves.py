"""Training curves: panels from what runs log, several runs on shared axes, PNG and HTML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swe_srl.cli import main
from swe_srl.errors import ConfigError
from swe_srl.train.curves import RunCurves, _drawn_panels, write_report


def _run(folder: Path, records: list[dict]) -> Path:
    folder.mkdir(parents=True)
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


@pytest.fixture
def runs(tmp_path) -> tuple[Path, Path]:
    sft = _run(tmp_path / "a" / "sft", [{"step": s, "loss": 5 - s / 10, "lr": 1e-3, "tokens_per_s": 900.0 + s}
                                         for s in range(1, 11)])
    srl = _run(tmp_path / "a" / "srl", [{"step": s, "reward_mean": -1 + s / 5, "reward_std": 0.1,
                                         "format_failure_rate": 1 - s / 5, "loss": 0.01, "kl": None, "lr": 1e-6,
                                         "rollout_tokens_per_s": 50.0} for s in range(1, 5)])
    return sft, srl


def test_panels_are_the_ones_some_run_logs(runs):
    sft, srl = (RunCurves.read(run) for run in runs)
    assert [p.title for p in _drawn_panels([sft])] == ["loss", "learning rate", "tokens / s"]
    both = [p.title for p in _drawn_panels([sft, srl])]
    assert both[:2] == ["reward mean (± std)", "format failures"] and "KL to the reference" not in both
    steps, values = srl.series("reward_mean")
    assert steps == [1, 2, 3, 4] and values == pytest.approx([-0.8, -0.6, -0.4, -0.2])
    assert srl.name == "a/srl"


def test_the_report_is_a_png_and_a_page_naming_every_run(runs, tmp_path):
    png, page = write_report([RunCurves.read(run) for run in runs], tmp_path / "out")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    text = page.read_text()
    assert "data:image/png;base64," in text and "<th>a/sft</th><td>10</td>" in text and "<th>a/srl</th><td>4</td>" in text


def test_the_report_command_draws_runs_and_names_a_folder_without_metrics(runs, tmp_path, capsys):
    assert main(["report", *map(str, runs), "--out", str(tmp_path / "both")]) == 0
    assert (tmp_path / "both" / "report.png").is_file() and (tmp_path / "both" / "report.html").is_file()
    assert main(["report", str(tmp_path)]) == 2
    assert "no metrics.jsonl here" in " ".join(capsys.readouterr().out.split())  # rich wraps lines


def test_a_run_with_nothing_to_draw_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no run has numbers"):
        write_report([RunCurves.read(_run(tmp_path / "r", [{"step": 1, "kl": None}]))], tmp_path)
