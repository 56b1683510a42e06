"""A Transport over a `docker exec` socket: one long-lived process in a container, stdin attached.

Without a TTY the engine multiplexes stdout and stderr into frames (an 8-byte header: stream
type, three zero bytes, a big-endian length); this strips the headers and merges the streams, or
keeps stderr apart (``merge=False``) for one-shot commands whose stdout is data (`run_to_end`).
"""

from __future__ import annotations

import select
import socket
import struct
import time
from typing import Any, Sequence

from swe_srl.errors import SandboxError
from swe_srl.sandbox.agent_io import Finished

_HEADER = struct.Struct(">BxxxI")
_STDERR = 2  # the stream type of stderr frames
ERRORS_KEPT = 4096  # bytes of stderr a one-shot command keeps (the end of it)


class ExecTransport:
    """A Transport to a process started with `docker exec -i` (no TTY)."""

    def __init__(self, api: Any, container_id: str, argv: Sequence[str], *, user: str = "",
                 workdir: str | None = None, environment: dict[str, str] | None = None,
                 merge: bool = True) -> None:
        import docker

        self._api = api
        try:
            self.exec_id = api.exec_create(container_id, list(argv), stdin=True, stdout=True, stderr=True,
                                           tty=False, user=user, workdir=workdir, environment=environment)["Id"]
            raw = api.exec_start(self.exec_id, socket=True)
        except docker.errors.APIError as err:
            raise SandboxError(f"could not start {argv[0]!r} as {user or 'root'} in container "
                               f"{container_id[:12]}: {err.explanation or err}") from None
        self._raw = raw  # keeps the HTTP response (and so the connection) alive
        self._sock: socket.socket = getattr(raw, "_sock", raw)
        self._sock.setblocking(True)
        self._frames = bytearray()  # received bytes not yet split into frames
        self._eof = False
        self._merge = merge
        self.errors = bytearray()  # with merge=False: the end of stderr (ERRORS_KEPT bytes)

    def send(self, data: bytes) -> None:
        self._sock.sendall(data)

    def recv(self, timeout: float) -> bytes | None:
        if self._eof:
            return b""
        payload = self._take_frames()
        if payload:
            return payload
        while True:
            ready, _, _ = select.select([self._sock], [], [], max(timeout, 0.0))
            if not ready:
                return None
            try:
                chunk = self._sock.recv(1 << 20)
            except (ConnectionResetError, OSError):
                chunk = b""
            if not chunk:
                self._eof = True
                return b""
            self._frames += chunk
            payload = self._take_frames()
            if payload:
                return payload
            timeout = 0.05  # a partial frame header: its rest is on the way

    def _take_frames(self) -> bytes:
        out = bytearray()
        buf = self._frames
        at = 0
        while len(buf) - at >= _HEADER.size:
            stream, size = _HEADER.unpack_from(buf, at)
            if len(buf) - at - _HEADER.size < size:
                break
            start = at + _HEADER.size
            if stream == _STDERR and not self._merge:
                self.errors += buf[start:start + size]
                del self.errors[:-ERRORS_KEPT]
            else:
                out += buf[start:start + size]
            at = start + size
        del buf[:at]
        return bytes(out)

    def close_stdin(self) -> None:
        """End the process's stdin (the engine passes the half-close on), keeping its output open."""
        self._sock.shutdown(socket.SHUT_WR)

    def exit_status(self) -> int | None:
        for _ in range(20):  # the engine records the exit code a moment after the stream ends
            try:
                info = self._api.exec_inspect(self.exec_id)
            except Exception:
                return None
            if not info.get("Running"):
                return info.get("ExitCode")
            time.sleep(0.05)
        return None

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
            self._raw.close()
        except OSError:
            pass


def run_to_end(api: Any, container_id: str, argv: Sequence[str], *, user: str, cap: int, timeout: float,
               stdin: bytes = b"", workdir: str | None = None, environment: dict[str, str] | None = None) -> Finished:
    """Run ``argv`` as ``user``, fed ``stdin``, until it ends or ``timeout`` passes; ``cap`` bytes of stdout kept."""
    transport = ExecTransport(api, container_id, argv, user=user, workdir=workdir, environment=environment,
                              merge=False)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        try:  # the commands fed here print little, so the engine's buffers never fill while we send
            transport.send(stdin)
            transport.close_stdin()
        except OSError:  # it ended before reading all of stdin (mkdir failed, say): its stderr says why
            pass
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return Finished(bytes(output), transport.errors.decode(errors="replace"), None)
            chunk = transport.recv(left)  # None: nothing yet (or only stderr came)
            if chunk == b"":
                break
            if chunk:
                output += chunk[:max(cap - len(output), 0)]
        return Finished(bytes(output), transport.errors.decode(errors="replace"), transport.exit_status())
    finally:
        transport.close()
