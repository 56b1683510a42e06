"""Byte pipes to a shell process: the Transport Protocol and the subprocess one.

A persistent shell session (shell.py) talks to bash through a Transport; the docker backend
gives it a docker exec socket, the local backend a subprocess's pipes.
"""

from __future__ import annotations

import os
import select
import subprocess
from typing import Protocol, Sequence


class Transport(Protocol):
    """A bidirectional byte stream to one shell process (its stdin; its stdout and stderr merged)."""

    def send(self, data: bytes) -> None:
        """Write all of `data` to the process's stdin; raises OSError when the process is gone."""

    def recv(self, timeout: float) -> bytes | None:
        """Some output: None when nothing came within `timeout` seconds, b"" at end of stream."""

    def exit_status(self) -> int | None:
        """The process's exit status once its stream has ended, when it can be known."""

    def close(self) -> None:
        """Close the stream (the process may outlive it; backends kill it separately)."""


class PipeTransport:
    """A Transport over a local subprocess's pipes (stderr merged into stdout)."""

    def __init__(self, argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: str | None = None,
                 start_new_session: bool = True, pass_fds: Sequence[int] = ()) -> None:
        self.process = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, cwd=cwd, start_new_session=start_new_session, pass_fds=tuple(pass_fds), bufsize=0,
        )
        self._out = self.process.stdout.fileno()  # type: ignore[union-attr]

    def send(self, data: bytes) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        view = memoryview(data)
        while view:
            written = os.write(stdin.fileno(), view)
            view = view[written:]

    def recv(self, timeout: float) -> bytes | None:
        ready, _, _ = select.select([self._out], [], [], max(timeout, 0.0))
        if not ready:
            return None
        return os.read(self._out, 1 << 20)

    def exit_status(self) -> int | None:
        try:
            return self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
