"""Source distributions: download one with pip, unpack it as a git repo, find its tests and code."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from swe_srl.errors import PackageError
from swe_srl.host.git import FixedCommit, init_commit

log = logging.getLogger(__name__)

SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar.bz2")
_TEST_DIRS = {"test", "tests", "testing"}
# Package repos and their buggy variants: the same sdist and the same bug give the same sha everywhere.
REPO_COMMIT = FixedCommit(email="factory@swe-srl.invalid", message="Initial commit")
_NOT_SOURCE_DIRS = {"docs", "doc", "examples", "example", "benchmarks", "bench", "scripts", "build", "tools"}


def normalize(name: str) -> str:
    """PEP 503 normal form of a project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_spec(spec: str) -> tuple[str, str]:
    """`name==version` into its parts; PackageError otherwise."""
    name, sep, version = spec.partition("==")
    if not sep or not name.strip() or not version.strip():
        raise PackageError(spec, "expected PACKAGE==VERSION (or a path to an sdist file)")
    return name.strip(), version.strip()


def download_sdist(spec: str, cache: Path) -> Path:
    """The sdist of ``name==version`` from the package index (kept in ``cache``), or a local file."""
    local = Path(spec)
    if local.name.endswith(SDIST_SUFFIXES) and local.is_file():
        return local
    name, version = parse_spec(spec)
    cache.mkdir(parents=True, exist_ok=True)
    found = _cached(cache, name, version)
    if found is not None:
        return found
    # Only this package must come as an sdist; its build backend may come as wheels (much faster).
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name, "-q", "-d", str(cache), spec]
    done = subprocess.run(command, capture_output=True, text=True)
    found = _cached(cache, name, version)
    if done.returncode != 0 or found is None:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-6:])
        raise PackageError(spec, f"pip could not download its sdist:\n{tail}")
    return found


def _cached(cache: Path, name: str, version: str) -> Path | None:
    want = f"{normalize(name)}-{version}"
    for path in sorted(cache.iterdir()):
        for suffix in SDIST_SUFFIXES:
            if path.name.endswith(suffix) and normalize(path.name[: -len(suffix)]) == normalize(want):
                return path
    return None


def unpack(sdist: Path, dest: Path, spec: str) -> str:
    """Unpack ``sdist`` (its top folder stripped) into ``dest`` as a one-commit git repo; the sha."""
    tmp = dest.with_name(dest.name + ".unpack")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as archive:
                archive.extractall(tmp)
        else:
            with tarfile.open(sdist) as archive:
                archive.extractall(tmp, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as err:
        raise PackageError(spec, f"cannot unpack {sdist.name}: {err}") from None
    entries = list(tmp.iterdir())
    top = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
    shutil.rmtree(dest, ignore_errors=True)
    shutil.move(str(top), str(dest))
    shutil.rmtree(tmp, ignore_errors=True)
    for junk in dest.rglob("__pycache__"):
        shutil.rmtree(junk, ignore_errors=True)
    return init_commit(dest, REPO_COMMIT)


def is_test_file(path: str) -> bool:
    """Whether a repo-relative path is a test module (by pytest's naming, or under a tests folder)."""
    p = PurePosixPath(path)
    if p.suffix != ".py":
        return False
    return p.name.startswith("test_") or p.name.endswith("_test.py") or p.name == "conftest.py" \
        or bool(_TEST_DIRS & set(p.parts[:-1]))


def source_files(repo: Path) -> list[str]:
    """The package's own modules: .py files that are not tests, setup scripts, docs or examples."""
    found = []
    for path in sorted(repo.rglob("*.py")):
        rel = path.relative_to(repo).as_posix()
        parts = set(PurePosixPath(rel).parts[:-1])
        if rel.startswith(".git/") or is_test_file(rel) or parts & _NOT_SOURCE_DIRS:
            continue
        if PurePosixPath(rel).name in {"setup.py", "conftest.py", "noxfile.py", "fabfile.py"} and "/" not in rel:
            continue
        found.append(rel)
    return found


def import_root(repo: Path) -> str:
    """Where the package imports from: `src` for a src layout, else the repo root (``""``)."""
    src = repo / "src"
    if src.is_dir() and any(p.suffix == ".py" or (p / "__init__.py").exists() for p in src.iterdir()):
        return "src"
    return ""
