"""Write Trajectories as OpenHands / SWE-Gym chat rows (native tool calls).

The bundled expert trajectories are stored this way, so the importer reads them exactly as it
reads any other teacher's SWE-Gym data: `messages` with `tool_calls` whose `arguments` are JSON
strings (`execute_bash`, `str_replace_editor`, `finish`), each answered by a `tool` message.
"""

from __future__ import annotations

import json
from typing import Any

from swe_srl.actions import BASH, SUBMIT
from swe_srl.trajectory import Trajectory

# OpenHands' names for our tools.
_OPENHANDS_NAME = {BASH: "execute_bash", SUBMIT: "finish"}

SYSTEM_PROMPT = (
    "You are a careful software engineer working in a repository at /testbed. Use the tools "
    "execute_bash, str_replace_editor and finish to resolve the issue the user gives you."
)


def to_chat_row(trajectory: Trajectory, sample: int = 0, system_prompt: str = SYSTEM_PROMPT) -> dict[str, Any]:
    """One SWE-Gym-style row for ``trajectory``, the ``sample``-th for its task (id suffix `_N`)."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system_prompt},
        {"role": "user", "content": trajectory.problem_statement},
    ]
    for i, step in enumerate(trajectory.steps):
        call_id = f"call_{i:03d}"
        name = _OPENHANDS_NAME.get(step.action.tool, step.action.tool)
        arguments = dict(step.action.args)
        if step.action.tool == SUBMIT:
            arguments = {"message": step.thought}
        messages.append(
            {
                "role": "assistant",
                "content": step.thought,
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
                ],
            }
        )
        messages.append({"role": "tool", "tool_call_id": call_id, "name": name, "content": step.observation})
    row: dict[str, Any] = {
        "instance_id": f"{trajectory.task_id}_{sample}",
        "messages": messages,
        "resolved": trajectory.resolved,
        "test_result": {"git_patch": trajectory.patch},
    }
    for key in ("model", "run_id"):
        if key in trajectory.metadata:
            row[key] = trajectory.metadata[key]
    return row
