"""patch_files: the paths a task's git patch writes, and which of them are new at the base commit."""

from __future__ import annotations

import pytest

from swe_srl.errors import DataError
from swe_srl.tasks.eval_script import patch_files

CHANGE = "diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,1 @@\n--- a/evil.py\n keep\n"
CREATE = "diff --git a/n.py b/n.py\nnew file mode 100644\n--- /dev/null\n+++ b/n.py\n@@ -0,0 +1 @@\n+x\n"
DELETE = "diff --git a/d.py b/d.py\ndeleted file mode 100644\n--- a/d.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
RENAME = "diff --git a/a.py b/tests/b.py\nsimilarity index 100%\nrename from a.py\nrename to tests/b.py\n"
MODE = "diff --git a/s.sh b/s.sh\nold mode 100644\nnew mode 100755\n"


def test_each_kind_of_section_maps_to_its_path() -> None:
    # A removed line "--- a/evil.py" inside the hunk is not a header; a deleted file is not written.
    assert patch_files("a preamble\n" + CHANGE + CREATE + DELETE + RENAME + MODE) == {
        "x.py": False, "n.py": True, "tests/b.py": True, "s.sh": False}


def test_no_git_sections_write_nothing() -> None:
    assert patch_files("") == {} and patch_files("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n") == {}


def test_a_hunk_that_disagrees_with_its_counts_is_a_data_error() -> None:
    with pytest.raises(DataError, match="malformed patch"):
        patch_files("diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,5 +1,5 @@\n-a\n+b\n")
