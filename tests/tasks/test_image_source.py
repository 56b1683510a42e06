"""image_source: how a task's image is made is read from the row, and derived for rows written before it."""

from __future__ import annotations

import pytest

from swe_srl.errors import DataError
from swe_srl.tasks.bundled import bundled_tasks
from swe_srl.tasks.image_source import BundledImage, RegistryImage, SynthesizedImage
from swe_srl.tasks.task import Task

ROW = {"instance_id": "org__repo-1", "repo": "org/repo", "base_commit": "0" * 40, "problem_statement": "x",
       "patch": "", "image": "registry.example/org__repo-1:latest"}
SYNTHESIS = {"package": "toolz", "version": "0.12.1", "pristine_commit": "a" * 40, "kind": "flip_comparison"}


def test_bundled_tasks_record_their_environment_and_round_trip():
    task = bundled_tasks()[0]
    assert isinstance(task.image_source, BundledImage)
    row = task.to_row()
    assert row["image_source"] == {"kind": "bundled", "environment": task.image_source.environment}
    assert Task.from_row(row) == task


def test_rows_without_the_field_get_it_derived():
    bundled = bundled_tasks()[0]
    old_bundled = {k: v for k, v in bundled.to_row().items() if k != "image_source"}
    assert Task.from_row(old_bundled).image_source == bundled.image_source
    assert Task.from_row({**ROW, "synthesis": SYNTHESIS}).image_source == SynthesizedImage("toolz", "0.12.1", "a" * 40)
    assert Task.from_row(ROW).image_source == RegistryImage()
    assert Task.from_row(ROW).to_row()["image_source"] == {"kind": "registry"}


def test_a_recorded_source_wins_over_derivation():
    recorded = {"kind": "synthesized", "package": "click", "version": "8.1.7", "pristine_commit": "b" * 40}
    task = Task.from_row({**ROW, "synthesis": SYNTHESIS, "image_source": recorded})
    assert task.image_source == SynthesizedImage("click", "8.1.7", "b" * 40)
    assert task.to_row()["image_source"] == recorded


@pytest.mark.parametrize(("recorded", "message"), [
    ({"kind": "podman"}, "'kind' is one of bundled, registry, synthesized"),
    ("bundled", "'kind' is one of"),
    ({"kind": "synthesized", "package": "toolz", "version": "1"}, "needs pristine_commit"),
    ({"kind": "bundled", "environment": 3}, "needs environment"),
])
def test_a_bad_record_names_the_row_and_the_field(recorded, message):
    with pytest.raises(DataError, match=message) as info:
        Task.from_row({**ROW, "image_source": recorded}, source="tasks.jsonl", line=3)
    assert info.value.field == "image_source" and str(info.value).startswith("tasks.jsonl:3: field 'image_source'")
