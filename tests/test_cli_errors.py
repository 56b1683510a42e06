"""Bad input to the command line gets one error line (what, where, what to do) and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.cli import console, main


@pytest.fixture(autouse=True)
def wide_console(monkeypatch) -> None:
    """No wrapping: a long path stays one word."""
    monkeypatch.setattr(console, "width", 1000)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def test_training_on_a_folder_that_is_no_dataset_says_what_to_give(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("not a dataset")
    out = tmp_path / "run"
    for command in (["train", "srl", "--config", "tiny-cpu", f"run.output_dir={out}"],
                    ["train", "sft", "--config", "sft-tiny-cpu", f"output_dir={out}"]):
        code, said = run_cli([*command, f"data.path={folder}"], capsys)
        assert code == 2 and "Traceback" not in said
        assert f"data.path '{folder}': {folder} is a folder but not a saved dataset" in said
        assert "`swe-srl data build`" in said and ".parquet" in said
        assert not out.exists()  # stopped before the run wrote anything


def test_a_mistyped_local_model_path_is_no_hub_repo_id(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "sft").mkdir(parents=True)
    for path in ("./runs/sft/fnal", str(tmp_path / "runs" / "sft" / "fnal"), "runs/sft/fnal", "runs/fnal"):
        code, said = run_cli(["train", "srl", "--config", "tiny-cpu", f"model.path={path}", "data.path=x"], capsys)
        assert code == 2 and "Repo id" not in said and "Traceback" not in said
        assert f"model.path '{path}': no such folder" in said and "output_dir/final" in said


def test_hub_ids_are_left_to_the_hub(tmp_path: Path, monkeypatch) -> None:
    from swe_srl.train.policy import check_model_path

    monkeypatch.chdir(tmp_path)
    check_model_path("Qwen/Qwen2.5-Coder-7B")  # no Qwen/ folder here: a hub id
    check_model_path("gpt2")


@pytest.mark.parametrize("command", [
    ["collect", "--teacher", "scripted"],
    ["eval", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"],
])
def test_no_docker_engine_is_one_error_naming_the_local_backend(command: list[str], tmp_path: Path, capsys,
                                                                monkeypatch) -> None:
    socket = tmp_path / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    code, said = run_cli([*command, "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "Traceback" not in said
    assert f"no Docker engine answers at unix://{socket}" in said
    assert "`--sandbox local`" in said and "bubblewrap" in said and "grading" in said
    assert said.count("error:") == 1


def test_rlvr_checks_its_tasks_before_any_model_loads(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    base = ["train", "rlvr", "--config", "rlvr-tiny-cpu", f"run.output_dir={out}"]
    code, said = run_cli([*base, f"rlvr.tasks={tmp_path / 'nope.jsonl'}"], capsys)
    assert code == 2 and "Traceback" not in said and "rlvr.tasks: dataset" in said and "nor a file" in said
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"instance_id": "a__b-1", "repo": "a/b", "base_commit": "' + "0" * 40 + '", '
                    '"problem_statement": "x", "patch": "", "test_patch": "", "version": "1.0"}\n')
    code, said = run_cli([*base, f"rlvr.tasks={rows}"], capsys)
    assert code == 2 and "Traceback" not in said and "a__b-1" in said and "swe-srl tasks convert" in said
    assert not out.exists()
