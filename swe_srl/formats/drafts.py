"""Steps being read: an importer meets a step's action first and its observation later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from swe_srl.actions import Action
from swe_srl.trajectory import Step


@dataclass
class Draft:
    """A step whose observation may still arrive with a later message or event."""

    action: Action
    thought: str  # the text before the call and any think calls before it
    metadata: dict[str, Any]  # where the call and its answer were: message/event index and id
    observation: str = ""  # set when the answer arrives

    def step(self) -> Step:
        return Step(self.action, self.observation, self.thought, self.metadata)


def join_thoughts(*parts: str) -> str:
    """The non-blank parts of a step's thought (its message text, think calls), one paragraph each."""
    return "\n\n".join(p.strip() for p in parts if p and p.strip())
