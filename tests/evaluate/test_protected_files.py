"""The grading rule, on patches alone: which sections are set aside and why."""

from __future__ import annotations

import pytest

from swe_srl.evaluate.protected_files import screen
from swe_srl.tasks.bundled import bundled_tasks


def _new_file(path: str, body: str = "x = 1\n") -> str:
    lines = body.splitlines()
    added = "".join(f"+{line}\n" for line in lines)
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n"
            f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{added}")


def _change(path: str) -> str:
    return (f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
            "@@ -1 +1 @@\n-x = 1\n+x = 2\n")


def _delete(path: str) -> str:
    return (f"diff --git a/{path} b/{path}\ndeleted file mode 100644\nindex 1111111..0000000\n"
            f"--- a/{path}\n+++ /dev/null\n@@ -1 +0,0 @@\n-x = 1\n")


TEST_PATCH = _change("pkg/tests/test_core.py") + _new_file("pkg/tests/test_new.py")
TEST_IDS = ["pkg/tests/test_core.py::test_a", "tests/test_other.py::test_b"]


@pytest.mark.parametrize(
    "section, reason",
    [
        (_new_file("conftest.py"), "conftest"),
        (_new_file("src/deep/er/conftest.py"), "conftest"),
        (_delete("conftest.py"), "conftest"),
        (_new_file("pytest.ini", "[pytest]\naddopts = -p hack\n"), "runner config"),
        (_change("pyproject.toml"), "runner config"),
        (_change("setup.cfg"), "runner config"),
        (_new_file("tox.ini"), "runner config"),
        (_new_file("sub/pytest.toml"), "runner config"),
        (_new_file("sitecustomize.py"), "interpreter start-up"),
        (_new_file("lib/usercustomize.py"), "interpreter start-up"),
        (_new_file("evil.pth", "import hack\n"), "interpreter start-up"),
        (_change("pkg/tests/test_core.py"), "test file"),
        (_change("tests/test_other.py"), "test file"),
        (_new_file("pkg/tests/helpers.py"), "test folder"),
        (_new_file("pkg/tests/data/sample.txt"), "test folder"),
    ],
)
def test_each_protected_kind_is_set_aside_with_its_reason(section, reason):
    source = _change("pkg/core.py")
    screened = screen(source + section, TEST_PATCH, TEST_IDS)
    assert screened.patch == source
    assert set(screened.set_aside.values()) == {reason}


def test_source_changes_pass_through_untouched():
    patch = "preamble line\n" + _change("pkg/core.py") + _new_file("pkg/testing_utils.py") + _change("tests_helper.py")
    screened = screen(patch, TEST_PATCH, TEST_IDS)
    assert screened.patch == patch
    assert screened.set_aside == {}


def test_a_rename_into_a_protected_name_is_set_aside():
    rename = ("diff --git a/pkg/hooks.py b/conftest.py\nsimilarity index 100%\n"
              "rename from pkg/hooks.py\nrename to conftest.py\n")
    screened = screen(rename, TEST_PATCH, TEST_IDS)
    assert screened.patch == ""
    assert screened.set_aside == {"conftest.py": "conftest"}


def test_a_miscounted_hunk_is_screened_not_raised():
    # Written patches often have hunk counts off (git apply --recount takes them); screening reads headers only.
    bad = _change("pkg/core.py").replace("@@ -1 +1 @@", "@@ -1,9 +1,9 @@")
    screened = screen(bad + _new_file("conftest.py").replace("+1,1", "+1,7"), TEST_PATCH, TEST_IDS)
    assert screened.patch == bad
    assert screened.set_aside == {"conftest.py": "conftest"}


def test_a_patch_of_only_protected_files_leaves_nothing_to_grade():
    screened = screen(_new_file("conftest.py") + _new_file("pytest.ini"), TEST_PATCH, TEST_IDS)
    assert screened.patch == ""
    assert screened.set_aside == {"conftest.py": "conftest", "pytest.ini": "runner config"}


def test_no_bundled_gold_patch_loses_a_line():
    for task in bundled_tasks():
        screened = screen(task.patch, task.test_patch, [*task.fail_to_pass, *task.pass_to_pass])
        assert screened.patch == task.patch, task.instance_id
        assert screened.set_aside == {}
