"""Which format a file is in: each format sniffs a sample, most specific first."""

from __future__ import annotations

from pathlib import Path

from swe_srl.errors import DataError
from swe_srl.formats.base import TrajectoryFormat, read_sample
from swe_srl.formats.mini_swe_agent import MiniSweAgentFormat
from swe_srl.formats.native import NativeFormat
from swe_srl.formats.nemotron_swe import NemotronSweFormat
from swe_srl.formats.openai_chat import OpenAIChatFormat
from swe_srl.formats.openhands import OpenHandsFormat
from swe_srl.formats.openhands_trajectories import OpenHandsTrajectoriesFormat
from swe_srl.formats.open_swe_traces import OpenSweTracesFormat
from swe_srl.formats.swe_agent import SweAgentFormat
from swe_srl.formats.swe_gym import SweGymFormat
from swe_srl.formats.swe_smith import SweSmithFormat

# Detection order: specific shapes before the general chat fallback.
FORMATS: tuple[TrajectoryFormat, ...] = (
    NativeFormat(),
    OpenHandsFormat(),
    OpenHandsTrajectoriesFormat(),
    SweAgentFormat(),
    MiniSweAgentFormat(),
    NemotronSweFormat(),
    OpenSweTracesFormat(),
    SweSmithFormat(),
    SweGymFormat(),
    OpenAIChatFormat(),
)

# Files a folder import looks at; others (README, SOURCE.md, images) are listed as ignored.
TRAJECTORY_SUFFIXES = (".json", ".jsonl", ".traj")


def format_names() -> list[str]:
    return [f.name for f in FORMATS]


def get_format(name: str) -> TrajectoryFormat:
    """The format called ``name``; a DataError lists the known ones."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise DataError(f"unknown format '{name}' (known: {', '.join(format_names())})", field="format")


def detect_format(path: Path) -> TrajectoryFormat:
    """The first format whose sniff accepts the file's sample; DataError if none does."""
    sample = read_sample(path)
    for fmt in FORMATS:
        if fmt.sniff(sample):
            return fmt
    raise DataError(
        f"unknown trajectory format (tried {', '.join(format_names())}); pass --format to force one",
        source=str(path),
    )
