"""The note an observation gets when a command ran into a sandbox limit it cannot see in its own output."""

from __future__ import annotations

from dataclasses import replace

from swe_srl.sandbox.base import Observation, SandboxLimits

SIGKILLED = 128 + 9  # the OOM killer, mostly
SIGXFSZ = 128 + 25  # a file reached RLIMIT_FSIZE


def with_limit_note(obs: Observation, limits: SandboxLimits) -> Observation:
    """``obs`` with a line saying which limit it probably hit, when its exit code says one."""
    if obs.timed_out:
        return obs
    if obs.exit_code == SIGKILLED:
        note = f"[the command was killed (SIGKILL); it may have run out of memory: the sandbox has {limits.memory}]"
    elif obs.exit_code == SIGXFSZ:
        note = (f"[a file reached the sandbox's size limit of {limits.file_size} bytes; the process writing it "
                "was stopped]")
    else:
        return obs
    sep = "" if not obs.output or obs.output.endswith("\n") else "\n"
    return replace(obs, output=obs.output + sep + note + "\n")
