"""Teacher trajectory formats: one module per format, detection, and importing.

Formats: ``openhands`` (event streams), ``openhands-trajectories`` (published OpenHands sets:
SWE-rebench, SWE-Zero, SWE-Hero), ``swe-gym`` (OpenHands chat rows),
``swe-agent`` (``.traj``), ``mini-swe-agent``, ``nemotron-swe`` (NVIDIA's Nemotron SWE SFT rows),
``open-swe-traces`` (NVIDIA's Open-SWE-Traces),
``swe-smith`` (fine-tuning rows), ``openai-chat`` and our own store ``swe-srl``.
Every action becomes a swe_srl.actions.Action.
"""

from swe_srl.formats.base import ImportResult, Skip, TrajectoryFormat
from swe_srl.formats.detect import FORMATS, detect_format, format_names, get_format
from swe_srl.formats.importing import (
    ImportProgress,
    ImportReport,
    import_paths,
    import_to_store,
    read_store,
    write_store,
)

__all__ = [
    "FORMATS",
    "ImportProgress",
    "ImportReport",
    "ImportResult",
    "Skip",
    "TrajectoryFormat",
    "detect_format",
    "format_names",
    "get_format",
    "import_paths",
    "import_to_store",
    "read_store",
    "write_store",
]
