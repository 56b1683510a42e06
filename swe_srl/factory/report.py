"""The factory's report: candidates tried, kept and dropped by reason, per kind and per package."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PackageReport:
    """One package's run (filled in as it goes; `error` set when the package was given up)."""

    spec: str
    error: str = ""
    stage: str = ""  # where it failed: download, tests, build, baseline, ...
    passing_tests: int = 0
    flaky_tests: int = 0
    suite_seconds: float = 0.0
    candidates: int = 0  # mutations that compile, in exercised functions, before any run
    tried: Counter = field(default_factory=Counter)  # per kind
    kept: Counter = field(default_factory=Counter)  # per kind
    dropped: dict[str, Counter] = field(default_factory=dict)  # kind -> reason -> count
    seconds: float = 0.0  # wall time for the whole package
    setup_seconds: float = 0.0  # download, images and baseline
    rewrites: Counter = field(default_factory=Counter)  # statement rewrite outcome -> count (when a model is set)

    def drop(self, kind: str, reason: str) -> None:
        self.dropped.setdefault(kind, Counter())[reason] += 1

    def to_json(self) -> dict:
        return {
            "spec": self.spec, "error": self.error, "stage": self.stage, "passing_tests": self.passing_tests,
            "flaky_tests": self.flaky_tests, "suite_seconds": round(self.suite_seconds, 2),
            "candidates": self.candidates, "tried": dict(self.tried), "kept": dict(self.kept),
            "dropped": {k: dict(v) for k, v in self.dropped.items()}, "seconds": round(self.seconds, 2),
            "setup_seconds": round(self.setup_seconds, 2), "rewrites": dict(self.rewrites),
        }


@dataclass
class FactoryReport:
    """Every package's report, with totals per kind."""

    packages: list[PackageReport] = field(default_factory=list)

    def totals(self) -> dict[str, dict[str, int]]:
        """kind -> {"tried", "kept", and each drop reason} summed over packages."""
        out: dict[str, Counter] = {}
        for p in self.packages:
            for kind, n in p.tried.items():
                out.setdefault(kind, Counter())["tried"] += n
            for kind, n in p.kept.items():
                out.setdefault(kind, Counter())["kept"] += n
            for kind, reasons in p.dropped.items():
                out.setdefault(kind, Counter()).update(reasons)
        return {k: dict(v) for k, v in sorted(out.items())}

    @property
    def kept(self) -> int:
        return sum(sum(p.kept.values()) for p in self.packages)

    @property
    def failed(self) -> list[PackageReport]:
        return [p for p in self.packages if p.error]

    def to_json(self) -> dict:
        return {"packages": [p.to_json() for p in self.packages], "totals": self.totals(), "kept": self.kept}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
