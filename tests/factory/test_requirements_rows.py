"""Test requirements read from sdist metadata, and synthesized rows (pure parts)."""

from __future__ import annotations

from pathlib import Path

from swe_srl.factory.baseline import flaky_tests, usable_test_id
from swe_srl.images.requirements import read_test_requirements
from swe_srl.factory.rows import sample_pass_to_pass, task_row
from swe_srl.factory.runner import SuiteRun
from swe_srl.images.sdist import import_root, is_test_file, source_files


def test_pyproject_extras_expand_self_references_and_skip_tools(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "pkg"\ndependencies = ["six>=1"]\n'
        '[project.optional-dependencies]\n'
        'tests-core = ["hypothesis", "mypy>=1"]\n'
        'tests = ["pkg[tests-core]", "pytest-cov", "zope.interface"]\n'
        'docs = ["sphinx"]\n')
    assert read_test_requirements(tmp_path, "pkg") == ["six>=1", "hypothesis", "zope.interface"]


def test_setup_cfg_setup_py_and_requirement_files(tmp_path: Path):
    (tmp_path / "setup.cfg").write_text("[options]\ninstall_requires =\n    attrs\n[options.extras_require]\n"
                                        "testing =\n    pytest-timeout\n")
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(tests_require=['freezegun'])\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "tests.txt").write_text("# pinned\n-r base.txt\npytest==7.4.0  # via x\n")
    assert read_test_requirements(tmp_path, "pkg") == ["attrs", "freezegun", "pytest-timeout", "pytest==7.4.0"]


def test_layout_and_test_files(tmp_path: Path):
    for rel in ["src/pkg/__init__.py", "src/pkg/core.py", "tests/test_core.py", "tests/helpers.py",
                "docs/conf.py", "setup.py"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    assert import_root(tmp_path) == "src"
    assert source_files(tmp_path) == ["src/pkg/__init__.py", "src/pkg/core.py"]
    assert is_test_file("tests/helpers.py") and is_test_file("pkg/test_x.py") and not is_test_file("pkg/x.py")


def test_flaky_and_usable_ids():
    a = SuiteRun({"t/test_a.py::x": "PASSED", "t/test_a.py::y": "PASSED"}, "", 1.0, False, 0)
    b = SuiteRun({"t/test_a.py::x": "PASSED", "t/test_a.py::y": "FAILED"}, "", 1.0, False, 1)
    assert flaky_tests(a, b) == {"t/test_a.py::y"}
    assert usable_test_id("t/test_a.py::x[1]")
    assert not usable_test_id("t/test_a.py::x[a b]") and not usable_test_id("pkg/mod.py::pkg.mod.f")


def test_pass_to_pass_sample_is_capped_and_stable():
    tests = {f"t/test_a.py::t{i}" for i in range(100)}
    first = sample_pass_to_pass(tests, "key", cap=10)
    assert len(first) == 10 and first == sample_pass_to_pass(set(sorted(tests, reverse=True)), "key", cap=10)
    assert first != sample_pass_to_pass(tests, "other", cap=10)


def test_task_row_is_gradable_with_an_empty_test_patch():
    task = task_row(name="toolz", version="0.12.1", kind="flip_comparison", bug_key="ab" * 32,
                    base_commit="c" * 40, image="swe-srl-synth.toolz:cccccccccccc", gold="diff --git a/x b/x\n",
                    statement="s", fail_to_pass=["t/test_a.py::x"], pass_to_pass=["t/test_b.py::y"],
                    meta={"kind": "flip_comparison"})
    assert task.gradable and task.test_patch == ""
    assert task.instance_id == "toolz__toolz-0.12.1.flip_comparison.abababab"
    assert "git checkout cccccccccccccccccccccccccccccccccccccccc -- t/test_a.py t/test_b.py" in task.eval_script
    assert task.extra["synthesis"] == {"kind": "flip_comparison"}
