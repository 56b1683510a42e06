"""Tiny local sdists for the factory's failure paths (written here, no network needed), and PyPI ones or a skip."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from swe_srl.errors import PackageError
from swe_srl.images.sdist import download_sdist


def make_sdist(dest: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """`dest/name-version.tar.gz` holding ``files`` under its top folder, as sdists do."""
    path = dest / f"{name}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for rel, text in {"PKG-INFO": f"Name: {name}\nVersion: {version}\n", **files}.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-{version}/{rel}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return path


def sdist_or_skip(spec: str, cache: Path) -> None:
    """Download ``spec``'s sdist into ``cache`` (kept there), or skip the test when the index cannot be reached."""
    try:
        download_sdist(spec, cache / "sdists")
    except PackageError as err:
        pytest.skip(f"cannot download {spec} from the package index: {err}")
