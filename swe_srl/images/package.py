"""A package ready for validation or a rebuild: its sdist unpacked as a git repo, and its environment image.

Download the sdist (kept in a cache), unpack it as a one-commit repo, check it ships tests, fetch
its test requirements as wheels and build the environment image on the base (images/synthesized.py),
with every other copy of the package's modules deleted from it (images/copies.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.errors import PackageError
from swe_srl.host.git import git
from swe_srl.images.copies import fingerprint
from swe_srl.images.requirements import download_wheels, read_test_requirements
from swe_srl.images.sdist import (SDIST_SUFFIXES, download_sdist, import_root, is_test_file, normalize, parse_spec,
                                  source_files, unpack)
from swe_srl.images.synthesized import PackageEnv, ensure_env_image


@dataclass(frozen=True)
class PreparedPackage:
    """A package ready for validation: its pristine repo and environment image (no container yet)."""

    spec: str  # PACKAGE==VERSION or an sdist path, as the user gave it
    name: str  # the project's name
    version: str
    pristine: Path  # the unpacked sdist as a git repo (one commit: base_sha)
    base_sha: str
    env: str  # environment image tag
    fingerprint: str  # JSON of its modules' fingerprints (images/copies.py): no copy may be left in an image


def prepare_package(spec: str, cache: Path, client: Any) -> PreparedPackage:
    """Download, unpack, fetch test requirements and build the environment image; PackageError on failure."""
    try:
        sdist = download_sdist(spec, cache / "sdists")
    except PackageError as err:
        raise PackageError(spec, str(err).split(": ", 1)[-1], stage="download") from None
    name, version = _name_version(spec, sdist)
    work = cache / "work" / f"{normalize(name)}-{version}"
    pristine = work / "repo"
    base_sha = unpack(sdist, pristine, spec)
    files = git(["ls-files"], pristine).split()
    if not any(is_test_file(f) for f in files):
        raise PackageError(spec, f"its sdist {sdist.name} ships no tests (no test_*.py or tests/ folder); "
                           "pick a package whose sdist includes its test suite", stage="tests")
    requirements = read_test_requirements(pristine, name)
    fetched, _missing = download_wheels(requirements, work / "wheels", spec)
    root = import_root(pristine)
    prints = json.dumps(module_fingerprint(pristine, root))
    env = ensure_env_image(PackageEnv(spec, name, version, root, work / "wheels", tuple(fetched), prints), client)
    return PreparedPackage(spec, name, version, pristine, base_sha, env, prints)


def module_fingerprint(repo: Path, root: str) -> dict[str, list[str]]:
    """The fingerprint of the package's modules, by path relative to where it imports from."""
    prefix = f"{root}/" if root else ""
    return fingerprint({rel[len(prefix):]: (repo / rel).read_text(encoding="utf-8", errors="replace")
                        for rel in source_files(repo) if rel.startswith(prefix)})


def _name_version(spec: str, sdist: Path) -> tuple[str, str]:
    if "==" in spec:
        return parse_spec(spec)
    stem = next(sdist.name[: -len(s)] for s in SDIST_SUFFIXES if sdist.name.endswith(s))
    name, _, version = stem.rpartition("-")
    if not name:
        raise PackageError(spec, "cannot tell name and version from the file name (expected NAME-VERSION.tar.gz)")
    return name, version
