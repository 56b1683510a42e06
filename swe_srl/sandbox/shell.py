"""A persistent bash session over any Transport: `cd`, variables and functions persist.

The transport's process is a framing shell (shell_script.py) that runs each command in a child
bash of its own and prints the end marker with a nonce drawn here for that command alone; the
child never sees it, so nothing a command prints, reads or redefines can forge or break the
framing. A command that ends its shell (`exit`, `exec`, `kill -9 $$`, `set -e`) ends only its
child: the next one starts from the state saved after the previous command, and the observation
says so.

Timeouts: when a command runs past its limit, the session calls the backend's `kill(keep)`,
which must SIGKILL every process of the sandbox's agent user except the shells in `keep` (found
by user, not by parentage, so background children and anything detached with setsid go too).
The framing shell is kept and reports the killed child; should it not, a spare shell takes over
with the state saved after the previous command, as it does when the framing shell itself is
gone (the agent killed every process it could).

A spare shell is always spawned ahead of need (in a thread), so a restart or a `fresh()` session
costs no round trip to the engine.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from swe_srl.errors import SandboxError
from swe_srl.sandbox import shell_script
from swe_srl.sandbox.base import Observation
from swe_srl.sandbox.transport import Transport

log = logging.getLogger(__name__)

KILL_GRACE = 1.0  # seconds to collect the last output of a shell killed at its timeout
_GONE = "[{what}; a new shell was started in the directory and with the variables saved after the previous command]"


@dataclass
class Shell:
    """One bash process of a session, as the kill callback sees it."""

    transport: Transport
    token: str  # its ready marker's nonce
    pid: int = 0  # the shell's pid as seen inside the sandbox ($$)
    ready: bool = False


def _alive(shell: Shell) -> bool:
    """Whether an idle shell's stream is still open (a check that costs no round trip)."""
    try:
        return shell.transport.recv(0) != b""  # None: open and quiet; bytes: stray output, dropped
    except OSError:
        return False


class _Reader:
    """Collects one command's output up to the marker with `nonce`, keeping at most `cap` bytes of it."""

    def __init__(self, nonce: str, cap: int) -> None:
        self.prefix = b"\x00" + nonce.encode()
        self.cap = cap
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.pending = b""
        self.marker: list[str] | None = None

    def feed(self, chunk: bytes) -> None:
        data = self.pending + chunk if self.pending else chunk
        self.pending = b""
        at = data.find(self.prefix)
        if at < 0:
            # Hold back a trailing NUL and what follows it: it may be the start of a split marker.
            nul = data.find(b"\x00", max(len(data) - len(self.prefix) + 1, 0))
            if nul < 0:
                self._keep(data)
            else:
                self._keep(data[:nul])
                self.pending = bytes(data[nul:])
            return
        self._keep(data[:at])
        end = data.find(b"\x00", at + len(self.prefix))
        if end < 0:  # the marker is not complete yet
            self.pending = bytes(data[at:])
            return
        self.marker = data[at + len(self.prefix):end].decode().split()
        self.pending = bytes(data[end + 1:])

    def _keep(self, data: bytes) -> None:
        if not data:
            return
        self.total += len(data)
        room = self.cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:  # past the cap: keep a bounded tail, the end of a log is what readers want
            half = self.cap // 2
            if len(data) >= half:
                self.tail = bytearray(data[len(data) - half:])
            else:
                self.tail += data
                if len(self.tail) > 2 * half:
                    del self.tail[:len(self.tail) - half]

    def text(self) -> tuple[str, bool]:
        """The kept output and whether it was cut: first half and last half of the cap."""
        if self.total <= self.cap:
            return self.head.decode("utf-8", "replace"), False
        half = self.cap // 2
        omitted = self.total - (self.cap - half) - half
        tail = bytes(self.tail[-half:]) if half else b""
        body = (self.head[:self.cap - half].decode("utf-8", "replace")
                + f"\n[... {omitted} bytes of output omitted (limit {self.cap}) ...]\n"
                + tail.decode("utf-8", "replace"))
        return body, True


class ShellSession:
    """A persistent bash session: run commands one at a time and get Observations."""

    def __init__(self, spawn: Callable[[], Transport], *, output_cap: int = 100_000,
                 kill: Callable[[Sequence[Shell]], None] | None = None, init: str = "",
                 state_dir: str = "/tmp", ready_timeout: float = 60.0, spare: bool = True,
                 pid_guard: bool = True, inline: bool = False, run_as: str = "") -> None:
        self._spawn_transport = spawn
        self.output_cap = output_cap
        self._kill = kill
        self._init = init
        self._inline = inline  # commands eval'd in the framing shell itself: only for our own (see shell_script)
        self._run_as = run_as
        self.state_file = f"{state_dir.rstrip('/')}/.swe-srl-shell-{secrets.token_hex(8)}.env"
        self._ready_timeout = ready_timeout
        self._use_spare = spare
        self._pid_guard = pid_guard
        self._spare: Shell | None = None
        self._spare_error: BaseException | None = None
        self._spare_thread: threading.Thread | None = None
        self.restarts = 0
        self.shell = self._spawn()
        self._wait_ready(self.shell)
        self.shell.transport.send(shell_script.FRESH_LINE)  # the init commands make the first state
        self._prepare_spare()

    # -- shells ---------------------------------------------------------------------------
    def _spawn(self) -> Shell:
        transport = self._spawn_transport()
        token = secrets.token_hex(8)
        transport.send(shell_script.bootstrap(token, self.state_file, self._init, self._pid_guard, inline=self._inline,
                                              run_as=self._run_as).encode())
        return Shell(transport, token)

    def _wait_ready(self, shell: Shell) -> None:
        reader = _Reader(shell.token, self.output_cap)
        deadline = time.monotonic() + self._ready_timeout
        while reader.marker is None:
            chunk = shell.transport.recv(deadline - time.monotonic())
            if chunk is None or chunk == b"":
                what = "did not start in time" if chunk is None else "exited while starting"
                text, _ = reader.text()
                shell.transport.close()
                raise SandboxError(f"the sandbox shell {what}: {text.strip()[-500:]!r}")
            reader.feed(chunk)
        if reader.marker[0] != "R":
            raise SandboxError(f"the sandbox shell sent an unexpected marker {reader.marker!r}")
        shell.pid, shell.ready = int(reader.marker[1]), True

    def _prepare_spare(self) -> None:
        """Start the next shell in a thread, so taking it over later costs no round trip."""
        if not self._use_spare:
            return

        def spawn_spare() -> None:
            try:
                shell = self._spawn()
                self._wait_ready(shell)
                self._spare = shell
            except BaseException as err:  # reported when the spare is needed
                self._spare_error = err

        self._spare, self._spare_error = None, None
        self._spare_thread = threading.Thread(target=spawn_spare, name="swe-srl-spare-shell", daemon=True)
        self._spare_thread.start()

    def _join_spare(self) -> Shell | None:
        if self._spare_thread is not None:
            self._spare_thread.join()
            self._spare_thread = None
            if self._spare_error is not None:
                log.warning("the spare shell failed to start (%s); starting one when needed", self._spare_error)
        return self._spare

    def _spare_pids(self) -> tuple[int, ...]:
        """The spare's pid if it is known without waiting (it may still be starting)."""
        spare = self._spare
        return (spare.pid,) if spare is not None and spare.ready else ()

    def _replace(self, restore: bool, kill: bool = True) -> None:
        """Swap in a new shell (the spare), taking back the saved state or forgetting it."""
        spare = self._join_spare()
        if kill and self._kill is not None:
            self._kill_keep([spare] if spare is not None else [])
        self.shell.transport.close()
        self._spare = None
        if spare is not None and not _alive(spare):  # e.g. the agent ran `kill -9 -1`
            spare.transport.close()
            spare = None
        if spare is None:
            spare = self._spawn()
            self._wait_ready(spare)
        self.shell = spare
        self._prepare_spare()
        if not restore:  # else it reads the state the previous shell saved, with the next command
            self.shell.transport.send(shell_script.FRESH_LINE)

    def _kill_keep(self, keep: list[Shell]) -> None:
        assert self._kill is not None
        try:
            self._kill(keep)
        except SandboxError:
            raise
        except Exception as err:
            raise SandboxError(f"could not kill the sandbox's processes: {err}") from err

    # -- public -----------------------------------------------------------------------------
    def run(self, command: str, timeout: float) -> Observation:
        """Run one command; the whole process tree is killed past `timeout` seconds."""
        start = time.monotonic()
        notes: list[str] = []
        keep = self._spare_pids()
        nonce = secrets.token_hex(8)  # this command's marker: the framing shell alone knows it
        reader = _Reader(nonce, self.output_cap)
        try:
            self.shell.transport.send(shell_script.command_line(command, nonce, keep))
        except OSError:
            self.restarts += 1
            self._replace(restore=True)
            notes.append(_GONE.format(what="the shell had exited"))
            keep = self._spare_pids()
            self.shell.transport.send(shell_script.command_line(command, nonce, keep))
        timed_out, _ = self._read(reader, start + timeout)
        exit_code: int | None = None
        if timed_out:
            # Kill the command's processes; the framing shell then reports its child's end. Should
            # it not (an inline command busy in the shell itself), the spare takes over.
            spare = self._join_spare()
            if self._kill is not None:
                self._kill_keep([shell for shell in (self.shell, spare) if shell is not None])
            self._read(reader, time.monotonic() + KILL_GRACE)  # what it printed before dying, and the marker
            if reader.marker is None:
                self.restarts += 1
                self._replace(restore=True)
            notes.append(f"[command timed out after {timeout:g} seconds; its processes were killed, and the next "
                         "command starts in the directory and with the variables saved after the previous command]")
        elif reader.marker is not None:
            exit_code, swept, saved = (int(field) for field in reader.marker[1:4])
            if swept and not keep and self._use_spare:  # the sweep may have taken a starting spare
                self._discard_spare()
            if swept:
                notes.insert(0, f"[the sandbox was at its process limit: {swept} leftover processes were killed "
                                "before this command]")
            if not saved:  # the command ended its shell before the state was saved
                self.restarts += 1
                notes.append(_GONE.format(what=f"the shell exited (status {exit_code})"))
        else:  # the framing shell is gone (the agent killed every process it could)
            exit_code = self.shell.transport.exit_status()
            self.restarts += 1
            self._replace(restore=True)
            notes.append(_GONE.format(what=f"the shell exited (status {exit_code})"))
        text, truncated = reader.text()
        if notes:
            text = text + ("" if not text or text.endswith("\n") else "\n") + "\n".join(notes) + "\n"
        return Observation(output=text, exit_code=exit_code, timed_out=timed_out, truncated=truncated,
                           duration=time.monotonic() - start)

    def _read(self, reader: _Reader, deadline: float) -> tuple[bool, bool]:
        """Read until the marker; returns (deadline passed, stream ended)."""
        transport = self.shell.transport
        while reader.marker is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return True, False
            chunk = transport.recv(left)
            if chunk is None:
                continue
            if chunk == b"":
                return False, True
            reader.feed(chunk)
        return False, False

    def _discard_spare(self) -> None:
        spare = self._join_spare()
        if spare is not None:
            spare.transport.close()
        self._prepare_spare()

    def fresh(self) -> None:
        """Nothing carried over to the next command (used by reset); every agent process is killed.

        The framing shell never ran the agent's code, so it is kept: it forgets the saved state.
        """
        spare = self._join_spare()
        if self._kill is not None:
            self._kill_keep([shell for shell in (self.shell, spare) if shell is not None])
        try:
            self.shell.transport.send(shell_script.FRESH_LINE)
        except OSError:  # it was gone (the agent had killed every process it could)
            self._replace(restore=False, kill=False)

    def close(self) -> None:
        """Close every shell's stream (the backend removes the processes with the sandbox)."""
        if self._spare_thread is not None:
            self._spare_thread.join(timeout=60)
        for shell in (self.shell, self._spare):
            if shell is not None:
                try:
                    shell.transport.close()
                except OSError:
                    pass
