"""Finding and deleting second copies of a package's modules (images/copies.py), on a folder tree."""

from __future__ import annotations

import zipfile
from pathlib import Path

from swe_srl.images.copies import find_copies, fingerprint, remove_copies

MORE = "\n".join(f"def f{i}(x):\n    return x + {i}" for i in range(20)) + "\n"
INIT = "from .more import *\n"
PRINTS = fingerprint({"pkg/more.py": MORE, "pkg/__init__.py": INIT})


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    _write(root / "testbed/pkg/more.py", MORE)  # the task's own repo: never a copy
    _write(root / "usr/lib/python3/dist-packages/pkg/more.py", MORE.replace("+ 3", "- 3"))  # an older release
    _write(root / "usr/lib/python3/dist-packages/pkg/__init__.py", INIT)
    _write(root / "usr/lib/python3/dist-packages/pkg/__pycache__/more.cpython-311.pyc", "compiled")  # source beside
    _write(root / "usr/lib/python3/dist-packages/sourceless/pkg/__pycache__/more.cpython-311.pyc", "compiled")
    _write(root / "opt/unrelated/pkg/__pycache__/more.cpython-311.pyc", "compiled")  # its source is not a copy
    _write(root / "usr/lib/python3/dist-packages/other/_vendor/pkg/more.py", MORE)  # vendored
    _write(root / "usr/lib/python3/dist-packages/other/_vendor/pkg/helper.py", "x = 1\n")
    _write(root / "opt/unrelated/pkg/more.py", "print('another project, same file name')\n")
    (root / "tmp").mkdir()
    with zipfile.ZipFile(root / "tmp/pkg-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("pkg/more.py", MORE)
    return root


def test_every_copy_outside_testbed_is_found_and_unrelated_files_are_not(tmp_path):
    root = _tree(tmp_path)
    found = find_copies(PRINTS, str(root), skip=(str(root / "testbed"),))
    where = {Path(c["path"]).relative_to(root).as_posix() + (f"!{c['member']}" if "member" in c else "")
             for c in found}
    assert where == {
        "usr/lib/python3/dist-packages/pkg/more.py",
        "usr/lib/python3/dist-packages/sourceless/pkg/__pycache__/more.cpython-311.pyc",
        "usr/lib/python3/dist-packages/other/_vendor/pkg/more.py",
        "tmp/pkg-1.0-py3-none-any.whl!pkg/more.py",
    }
    near = next(c for c in found if c["path"].endswith("dist-packages/pkg/more.py"))
    assert 0.9 < near["shared"] < 1.0  # one line of twenty differs


def test_a_file_at_the_path_sharing_under_half_the_lines_is_not_a_copy(tmp_path):
    lines = MORE.splitlines()
    _write(tmp_path / "site/pkg/more.py", "\n".join(lines[:19]))  # 19 of the module's 40 distinct lines
    assert find_copies(fingerprint({"pkg/more.py": MORE}), str(tmp_path)) == []
    _write(tmp_path / "site/pkg/more.py", "\n".join(lines[:21]))
    assert [c["shared"] for c in find_copies(fingerprint({"pkg/more.py": MORE}), str(tmp_path))] == [21 / 40]


def test_removal_deletes_whole_packages_and_archives_and_leaves_the_rest(tmp_path):
    root = _tree(tmp_path)
    skip = (str(root / "testbed"),)
    removed = remove_copies(find_copies(PRINTS, str(root), skip=skip))
    assert sorted(Path(p).relative_to(root).as_posix() for p in removed) == [
        "tmp/pkg-1.0-py3-none-any.whl",
        "usr/lib/python3/dist-packages/other/_vendor/pkg",
        "usr/lib/python3/dist-packages/pkg",
        "usr/lib/python3/dist-packages/sourceless/pkg",
    ]
    assert (root / "testbed/pkg/more.py").read_text() == MORE
    assert (root / "opt/unrelated/pkg/more.py").exists()
    assert (root / "usr/lib/python3/dist-packages/other/_vendor").is_dir()
    assert find_copies(PRINTS, str(root), skip=skip) == []


def test_a_single_module_package_goes_with_its_bytecode(tmp_path):
    prints = fingerprint({"solo.py": MORE})
    site = tmp_path / "site"
    _write(site / "solo.py", MORE)
    _write(site / "__pycache__/solo.cpython-311.pyc", "compiled")
    _write(site / "__pycache__/other.cpython-311.pyc", "compiled")
    removed = remove_copies(find_copies(prints, str(tmp_path)))
    assert removed == [str(site / "solo.py")]
    assert sorted(p.name for p in (site / "__pycache__").iterdir()) == ["other.cpython-311.pyc"]
