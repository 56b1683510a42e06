"""import_paths, the ImportReport, strict mode, detection errors and the atomic store writer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from swe_srl.errors import DataError
from swe_srl.formats import ImportProgress, ImportReport, import_paths, import_to_store, read_store, write_store
from swe_srl.formats.detect import detect_format
from swe_srl.trajectory import Trajectory, dumps

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = ["openhands_pairs.jsonl", "openhands_replay.json", "openai_chat.json", "codeact_chat.jsonl",
        "swe_smith_rows.jsonl", "swe_agent_text.traj", "swe_agent_fc.traj", "mini_run.traj.json"]


def test_folder_import_counts_everything(tmp_path: Path) -> None:
    report = ImportReport()
    seen: list[ImportProgress] = []
    trajectories = list(import_paths([FIXTURES], report=report, progress=seen.append))
    assert report.files == 20 and report.trajectories == len(trajectories) == 26
    assert report.steps == sum(len(t.steps) for t in trajectories)
    # Failed: two bad files, and three bad rows of the SWE-Gym file.
    assert sum(report.failed.values()) == 5
    assert report.failed["malformed JSON"] == 2 and report.failed["unknown trajectory format"] == 1
    assert report.skipped["invalid tool call"] == 6 and report.skipped["system prompt"] == 23
    assert len(report.errors) == 10 and any("swe_gym_rows.jsonl:2" in e for e in report.errors)
    assert seen[-1].files_done == seen[-1].files_total == 20
    assert json.loads(json.dumps(report.to_json()))["trajectories"] == 26


@pytest.mark.parametrize("name", ["bad_malformed.json", "bad_unknown.json", "swe_gym_rows.jsonl", "swe_smith_rows.jsonl"])
def test_strict_raises_a_data_error_naming_the_place(name: str) -> None:
    with pytest.raises(DataError) as caught:
        list(import_paths([FIXTURES / name], strict=True))
    assert str(caught.value).startswith(str(FIXTURES / name))


def test_strict_passes_on_clean_files() -> None:
    names = ["openhands_pairs.jsonl", "openhands_replay.json", "openai_chat.json", "swe_agent_text.traj", "swe_agent_fc.traj"]
    assert len(list(import_paths([FIXTURES / n for n in names], strict=True))) == 5


def test_unknown_format_and_forced_format_errors() -> None:
    with pytest.raises(DataError, match="unknown trajectory format"):
        detect_format(FIXTURES / "bad_unknown.json")
    with pytest.raises(DataError, match="unknown format 'nope'"):
        list(import_paths([FIXTURES], format="nope"))
    with pytest.raises(DataError, match="no such file"):
        list(import_paths([FIXTURES / "missing.json"]))


def test_store_round_trip_and_reimport(tmp_path: Path) -> None:
    report = import_to_store([FIXTURES / n for n in GOOD], tmp_path / "out")
    stored = list(read_store(tmp_path / "out" / "trajectories.jsonl"))
    again = list(import_paths([FIXTURES / n for n in GOOD]))
    assert [t.steps for t in stored] == [t.steps for t in again] and len(stored) == report.trajectories == 8
    assert [t.source_format for t in stored] == [t.source_format for t in again]
    saved = json.loads((tmp_path / "out" / "import_report.json").read_text())
    assert saved["steps"] == report.steps and saved["skipped"]["task prompt"] == 8
    assert detect_format(tmp_path / "out" / "trajectories.jsonl").name == "swe-srl"


def test_writer_never_leaves_a_half_written_file(tmp_path: Path) -> None:
    dest = tmp_path / "store.jsonl"
    good = list(import_paths([FIXTURES / "openai_chat.json"]))
    assert write_store(good, dest) == 1
    before = dest.read_text()

    def failing():
        yield from good
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_store(failing(), dest)
    assert dest.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["store.jsonl"]


def test_strict_import_to_store_writes_nothing_on_bad_data(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "openai_chat.json", folder)
    shutil.copy(FIXTURES / "swe_gym_rows.jsonl", folder)
    with pytest.raises(DataError):
        import_to_store([folder], tmp_path / "out", strict=True)
    assert not (tmp_path / "out" / "trajectories.jsonl").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []


def test_trajectories_serialise_through_to_json() -> None:
    for trajectory in import_paths([FIXTURES / n for n in GOOD]):
        assert Trajectory.from_json(json.loads(json.dumps(trajectory.to_json()))) == trajectory


def bad_lines() -> dict[str, str]:
    """JSONL lines that once stopped a whole import or data build, by the reason each is now counted under."""
    good = json.loads(json.dumps(next(import_paths([FIXTURES / "openai_chat.json"])).to_json()))
    surrogate = json.dumps({**good, "problem_statement": "\ud800"})  # json.dumps writes it as the escape \ud800
    observation = {**good, "steps": [{**good["steps"][0], "observation": {"not": "text"}}]}
    return {
        "JSON nested deeper than 100 levels": "[" * 100_000 + "]" * 100_000,  # RecursionError before
        "JSON number of more than 4,300 digits": json.dumps(good).replace('"metadata": {', '"n": ' + "9" * 5000 + ', "metadata": {', 1),
        "lone surrogate in a JSON string, which is not text": surrogate,  # UnicodeEncodeError when the store was written
        "expected text, got dict": json.dumps(observation),  # TypeError deep in the data build
    }


def test_a_bad_line_fails_alone_and_is_named(tmp_path: Path) -> None:
    good = dumps(next(import_paths([FIXTURES / "openai_chat.json"])))
    lines = bad_lines()
    (tmp_path / "in.jsonl").write_text("\n".join([good, *lines.values(), good]) + "\n")
    report = import_to_store([tmp_path / "in.jsonl"], tmp_path / "out")
    assert report.trajectories == 2 and len((tmp_path / "out" / "trajectories.jsonl").read_text().splitlines()) == 2
    assert report.failed == {reason: 1 for reason in lines}
    assert [e.split(": ", 1)[0] for e in report.errors] == [f"{tmp_path / 'in.jsonl'}:{n}" for n in range(2, 6)]
    with pytest.raises(DataError) as caught:
        import_to_store([tmp_path / "in.jsonl"], tmp_path / "strict", strict=True)
    assert (caught.value.source, caught.value.line) == (str(tmp_path / "in.jsonl"), 2)


def test_the_report_keeps_outside_text_bounded(tmp_path: Path) -> None:
    messages = json.loads((FIXTURES / "openai_chat.json").read_text())
    messages.append({"role": "r" * 20_000_000, "content": "?"})  # 20 MB made a 20 MB report before
    (tmp_path / "big.json").write_text(json.dumps(messages))
    report = import_to_store([tmp_path / "big.json"], tmp_path / "out")
    text = (tmp_path / "out" / "import_report.json").read_text()
    assert report.trajectories == 1 and len(text) < 10_000
    assert "more characters cut]" in text and all(len(e) < 3000 for e in report.errors)
