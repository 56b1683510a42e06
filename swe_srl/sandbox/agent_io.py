"""What every backend runs as the agent to read and write a file for the editor and to make the diff, with caps.

The editor reads with the agent's identity and rights: inside the sandbox, as the agent user,
never as root or through the engine's archive API, so what `cat` may not read (``/etc/shadow``,
a chmod-000 file, a symbolic link to either), `view` may not either. `head -c` stops each read at
its cap plus one byte, so no more than that ever leaves the sandbox (a 1 GB sparse file costs the
host nothing), and that one byte past the cap is how a file or a diff that is too large is told apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from swe_srl.errors import SandboxError
from swe_srl.sandbox.base import SandboxLimits

# `sh -c READ sh PATH CAP+1`: exit 2 and 3 are the agent's mistakes, said on stderr.
READ = ('[ -e "$1" ] || { echo "$1: no such file" >&2; exit 2; }; '
        '[ -f "$1" ] || { echo "$1: not a regular file" >&2; exit 2; }; '
        '[ -r "$1" ] || { echo "$1: permission denied (the agent user may not read it)" >&2; exit 3; }; '
        'exec head -c "$2" -- "$1"')
# `sh -c WRITE sh PATH` with the bytes on stdin: an existing file keeps its mode, new folders are made.
# On a failure stdin is still read to its end: Podman's exec reports a process that left its input
# unread as its own "connection reset" error, losing the process's stderr that says why.
WRITE = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1" || { rc=$?; cat > /dev/null; exit $rc; }'
AGENT_MISTAKES = (2, 3)  # READ's exit codes for a path the agent named wrongly or may not read
# `bash -c DIFF bash BASE_COMMIT CAP+1` in /testbed: the working tree against the base commit, new
# files included, through a throwaway index so the agent's own index is untouched. pipefail: a git
# failure is not hidden by head; git killed by SIGPIPE past the cap is told apart by the length.
DIFF = ('set -o pipefail; tmp=$(mktemp) && cp .git/index "$tmp" && GIT_INDEX_FILE="$tmp" git add -A '
        '&& GIT_INDEX_FILE="$tmp" git -c core.quotepath=off diff --cached "$1" | head -c "$2"; '
        'rc=$?; rm -f "$tmp"; exit $rc')


KILLED = 137  # the exit status of a process killed by SIGKILL (the OOM killer, mostly)
DIFF_TIMEOUT = 300.0  # seconds for the diff (`git add -A` of a large tree is slow)


@dataclass(frozen=True)
class Finished:
    """What a command run to its end as the agent left."""

    output: bytes  # its stdout, at most the cap it was run with
    errors: str  # the end of its stderr
    exit_code: int | None  # None when it ran past its timeout


class FileAccessError(SandboxError):
    """A file the editor may not read (missing, not a regular file, no permission, too large, too slow):
    the agent's mistake, not a broken sandbox; its message is the agent's observation."""


class DiffTooLargeError(SandboxError):
    """The working tree's diff is larger than the sandbox's diff cap; its message is the agent's observation."""


def checked_read(path: str, done: Finished, limits: SandboxLimits, where: str) -> bytes:
    """The bytes READ got of ``path`` (run with ``limits.read_cap + 1``), or why the editor may not have them."""
    cap = limits.read_cap
    if done.exit_code is None:
        raise FileAccessError(f"Reading {path} took more than {limits.timeout:g} seconds, the most the editor "
                              "waits; look at it with bash instead.")
    if done.exit_code in AGENT_MISTAKES:
        raise FileAccessError(done.errors.strip())
    if done.exit_code != 0:
        raise SandboxError(f"reading {path} failed in {where}: "
                           f"{done.errors.strip()[-500:] or f'exit code {done.exit_code}'}")
    if len(done.output) > cap:
        raise FileAccessError(
            f"The file {path} is larger than {cap} bytes, the most the editor reads of one file; look at it "
            f"with bash instead (`wc -c`, `grep -n PATTERN`, `sed -n '100,140p'`), or split it.")
    return done.output


def checked_diff(done: Finished, limits: SandboxLimits, where: str) -> str:
    """The text of the diff DIFF made (run with ``limits.diff_cap + 1``); DiffTooLargeError past the cap."""
    cap = limits.diff_cap
    if len(done.output) > cap:
        raise DiffTooLargeError(
            f"[The patch is larger than {cap} bytes, the sandbox's diff cap, so it was not kept: remove what "
            "the fix does not need (generated files, data, logs: see `git status`) before submitting.]")
    if done.exit_code == KILLED:  # git holds a whole file in memory: a huge one takes it past the sandbox's
        raise DiffTooLargeError(
            f"[The patch could not be made: git was killed making it, most likely out of the sandbox's memory "
            f"({limits.memory}). Remove the large files the fix does not need (see `git status`) before submitting.]")
    if done.exit_code != 0:
        why = "timed out" if done.exit_code is None else done.errors.strip()[-500:]
        raise SandboxError(f"git diff failed in {where}: {why}")
    return done.output.decode("utf-8", "surrogateescape")
