"""Trajectories as the teacher's model saw them: the dialect its tools spoke, recorded on import.

An importer keeps what the teacher's model read, framing included: the exit-code and directory
lines OpenHands appends are rebuilt from its events (openhands_events.py), and SWE-smith's
``\\r\\n`` line endings stay, since they are no export artefact: the chat SWE-agent sent its model
(the ``history`` of the run SWE-smith's third row was made from) holds the same ``\\r\\n`` in every
multi-line observation, so the ``swe-agent`` dialect renders them too. The dialect is recorded in
the trajectory's metadata, so `data build` can name it in the prompt recipe.
"""

from __future__ import annotations

from dataclasses import replace

from swe_srl.dialects import DIALECT_KEY, dialect_for_format
from swe_srl.trajectory import Trajectory


def as_seen(trajectory: Trajectory, source_format: str, dialect: str | None = None) -> Trajectory:
    """``trajectory`` with its observation dialect recorded: ``dialect``, else the one it already names
    (our own store), else its format's; unchanged when none is known."""
    name = dialect or trajectory.metadata.get(DIALECT_KEY) or dialect_for_format(source_format)
    return replace(trajectory, metadata={**trajectory.metadata, DIALECT_KEY: name}) if name else trajectory
