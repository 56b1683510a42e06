"""Trajectories as the teacher's model saw them: which dialect its tools spoke, recording artefacts undone.

An importer reads what a run's file holds; the model read something a little different. SWE-smith's
export (its rows and the SWE-agent ``.traj`` files they were made from) turned the tools' ``\\n``
into ``\\r\\n``: the editor joins lines with ``\\n`` and bash output reached the model through the
same tools, so the ``\\r`` is the recording's, and it is dropped. What the model did see stays (the
exit-code and directory lines OpenHands appends are rebuilt from its events in openhands_events.py).
The dialect is recorded in the trajectory's metadata, so `data build` can name it in the prompt recipe.
"""

from __future__ import annotations

from dataclasses import replace

from swe_srl.dialects import DIALECT_KEY, dialect_for_format
from swe_srl.trajectory import Trajectory

CRLF_EXPORTS = {"swe-smith", "swe-agent"}  # formats whose files carry the export's \r\n, not the model's


def as_seen(trajectory: Trajectory, source_format: str, dialect: str | None = None) -> Trajectory:
    """``trajectory`` with its observation dialect recorded (``dialect``, else the one it already names,
    else its format's) and the recording artefacts of ``source_format`` undone."""
    name = dialect or trajectory.metadata.get(DIALECT_KEY) or dialect_for_format(source_format)
    steps = trajectory.steps
    if source_format in CRLF_EXPORTS:
        steps = tuple(replace(s, observation=s.observation.replace("\r\n", "\n")) for s in steps)
    metadata = {**trajectory.metadata, DIALECT_KEY: name} if name else dict(trajectory.metadata)
    return replace(trajectory, steps=steps, metadata=metadata)
