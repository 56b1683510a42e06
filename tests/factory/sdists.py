"""Tiny local sdists for the factory's failure paths (written here, no network needed)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path


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
