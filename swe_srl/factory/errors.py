"""The factory's error: one package could not be turned into tasks (the run goes on with the others)."""

from __future__ import annotations

from swe_srl.errors import SweSrlError


class PackageError(SweSrlError):
    """A package failed a synthesis stage; the message names the package and says why."""

    def __init__(self, package: str, message: str, *, stage: str = "") -> None:
        self.package = package
        self.stage = stage
        super().__init__(f"{package}: {message}")
