"""`swe-srl tasks convert`: older SWE-bench Verified and SWE-Gym rows get their four grading fields,
from a swebench 5 dataset joined on instance_id or from the per-repository table; unknown repos
and versions are refused by name. Converted rows build the same TestSpec through the project as
through swebench's own make_test_spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT
from swebench.harness.log_parsers import PARSER_REGISTRY
from swebench.harness.utils import make_test_spec

from swe_srl.cli import main
from swe_srl.errors import DataError
from swe_srl.tasks.convert import SOURCE_FIELD, convert_files
from swe_srl.tasks.gradable import check_rows
from swe_srl.tasks.load import iter_rows, load_tasks
from swe_srl.tasks.repo_specs import TABLE, known_repos, repo_spec
from swe_srl.tasks.task import Task

FIXTURES = Path(__file__).parent / "fixtures"
VERIFIED = FIXTURES / "legacy_verified.jsonl"
GYM = FIXTURES / "legacy_swegym.jsonl"
VERIFIED_REPOS = {"astropy/astropy", "django/django", "matplotlib/matplotlib", "mwaskom/seaborn", "pallets/flask",
                  "psf/requests", "pydata/xarray", "pylint-dev/pylint", "pytest-dev/pytest",
                  "scikit-learn/scikit-learn", "sphinx-doc/sphinx", "sympy/sympy"}
GYM_REPOS = {"python/mypy", "getmoto/moto", "conan-io/conan", "dask/dask", "Project-MONAI/MONAI", "iterative/dvc",
             "bokeh/bokeh", "modin-project/modin", "pydantic/pydantic", "pandas-dev/pandas", "facebookresearch/hydra"}


def _between_markers(script: str) -> list[str]:
    lines = script.splitlines()
    return lines[lines.index(f": '{START_TEST_OUTPUT}'") + 1: lines.index(f": '{END_TEST_OUTPUT}'")]


def test_converted_rows_build_the_same_test_spec_through_the_project_as_through_swebench() -> None:
    result = convert_files([VERIFIED, GYM])
    assert (result.kept, result.from_reference, result.from_table) == (0, 0, 6)
    for row in result.rows:
        task = Task.from_row(row)
        ours, theirs = make_test_spec(task.to_row()), make_test_spec(row)
        assert ours == theirs
        assert ours.eval_script == theirs.eval_script and ours.image == theirs.image
        assert row[SOURCE_FIELD] == f"table repo_specs.yaml: {row['repo']} {row['version']}"
    assert check_rows([Task.from_row(r) for r in result.rows], "converted").skipped == ()


def test_verified_eval_scripts_run_swebench_test_command_on_the_test_patch_files() -> None:
    rows = {r["instance_id"]: r for r in convert_files([VERIFIED]).rows}
    # The test command SWE-bench runs for each repo and version, on the files test_patch touches
    # (Django by dotted module under tests/; data files left out).
    assert _between_markers(rows["django__django-11099"]["eval_script"]) == [
        "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 auth_tests.test_validators"]
    assert _between_markers(rows["sympy__sympy-20590"]["eval_script"]) == [
        "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose "
        "sympy/core/tests/test_basic.py"]
    assert _between_markers(rows["astropy__astropy-12907"]["eval_script"]) == [
        "pytest -rA astropy/modeling/tests/test_separable.py"]
    requests = rows["psf__requests-2317"]["eval_script"]
    assert _between_markers(requests) == ["pytest -rA test_requests.py"]
    # The test files are reset before the hidden tests go in and after they ran; a file the test
    # patch creates is removed rather than checked out.
    assert requests.count(f"git checkout {'0' * 36}2317 -- test_requests.py") == 2
    assert "rm -f -- tests/data/sample.json" in requests
    assert "export LANG=en_US.UTF-8" in rows["django__django-11099"]["eval_script"]
    assert rows["django__django-11099"]["image"] == "swebench/sweb.eval.x86_64.django_1776_django-11099:latest"
    assert rows["django__django-11099"]["log_parser"] == "parse_log_django"
    assert {r["eval_type"] for r in rows.values()} == {"pass_and_fail"}


def test_swegym_rows_get_swegym_images_and_its_test_commands() -> None:
    rows = {r["instance_id"]: r for r in convert_files([GYM]).rows}
    monai = rows["Project-MONAI__MONAI-1121"]
    assert monai["image"] == "xingyaoww/sweb.eval.x86_64.project-monai_s_monai-1121:latest"
    assert _between_markers(monai["eval_script"]) == ["pytest -rA  tests/test_generate_pos_neg_label_crop_centers.py"]
    pandas = rows["pandas-dev__pandas-47157"]
    assert pandas["image"] == "xingyaoww/sweb.eval.x86_64.pandas-dev_s_pandas-47157:latest"
    assert _between_markers(pandas["eval_script"]) == ["pytest -rA --tb=long pandas/tests/frame/test_api.py"]


def test_the_table_covers_verified_and_swegym_with_registered_parsers() -> None:
    assert set(known_repos()) == VERIFIED_REPOS | GYM_REPOS
    for repo in known_repos():
        spec = repo_spec(repo, _first_version(repo))
        assert spec.log_parser in PARSER_REGISTRY
        assert spec.image_rule == ("swegym" if repo in GYM_REPOS else "swebench")
    assert repo_spec("django/django", "1.9").test_cmd == "./tests/runtests.py --verbosity 2"


def _first_version(repo: str) -> str:
    return yaml.safe_load(TABLE.read_text())["repos"][repo]["specs"][0]["versions"][0]


def test_unknown_repository_or_version_is_refused_by_name(tmp_path: Path) -> None:
    (number, row), *_ = iter_rows(VERIFIED)
    unknown = tmp_path / "rows.jsonl"
    unknown.write_text(json.dumps({**row, "repo": "acme/widgets", "instance_id": "acme__widgets-1"}) + "\n")
    with pytest.raises(DataError, match=r"row 1 \(acme__widgets-1\): repository 'acme/widgets' is not in") as info:
        convert_files([unknown])
    assert info.value.source == str(unknown) and info.value.field == "repo"
    unknown.write_text(json.dumps({**row, "version": "0.1"}) + "\n")
    with pytest.raises(DataError, match=r"django/django version '0.1' is not in the grading table") as info:
        convert_files([unknown])
    assert info.value.field == "version"


def test_joining_a_swebench5_dataset_copies_its_fields_exactly(tmp_path: Path) -> None:
    reference = tmp_path / "verified5.jsonl"
    fields = {"image": "swebench/sweb.eval.x86_64.sympy_1776_sympy-20590:v2", "eval_script": "#!/bin/bash\necho ok\n",
              "log_parser": "parse_log_sympy", "eval_type": "pass_and_fail"}
    reference.write_text(json.dumps({"instance_id": "sympy__sympy-20590", **fields}) + "\n")
    result = convert_files([VERIFIED], reference)
    assert (result.from_reference, result.from_table) == (1, 3)
    sympy = next(r for r in result.rows if r["instance_id"] == "sympy__sympy-20590")
    assert {k: sympy[k] for k in fields} == fields
    assert sympy[SOURCE_FIELD] == f"reference {reference} (joined on instance_id)"
    reference.write_text(json.dumps({"instance_id": "x", "image": "i"}) + "\n")
    with pytest.raises(DataError, match="eval_script"):
        convert_files([VERIFIED], reference)


def test_convert_command_writes_rows_that_load_and_check(tmp_path: Path) -> None:
    out = tmp_path / "converted.jsonl"
    assert main(["tasks", "convert", str(VERIFIED), str(GYM), "--out", str(out)]) == 0
    assert len(load_tasks(out)) == 6
    assert main(["tasks", "check", str(out)]) == 0
