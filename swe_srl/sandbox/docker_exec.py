"""A Transport over a `docker exec` socket: one long-lived process in a container, stdin attached.

Without a TTY the engine multiplexes stdout and stderr into frames (an 8-byte header: stream
type, three zero bytes, a big-endian length); this strips the headers and merges the streams.
"""

from __future__ import annotations

import select
import socket
import struct
from typing import Any, Sequence

from swe_srl.errors import SandboxError

_HEADER = struct.Struct(">BxxxI")


class ExecTransport:
    """A Transport to a process started with `docker exec -i` (no TTY)."""

    def __init__(self, api: Any, container_id: str, argv: Sequence[str], *, user: str = "",
                 workdir: str | None = None, environment: dict[str, str] | None = None) -> None:
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
            _, size = _HEADER.unpack_from(buf, at)
            if len(buf) - at - _HEADER.size < size:
                break
            start = at + _HEADER.size
            out += buf[start:start + size]
            at = start + size
        del buf[:at]
        return bytes(out)

    def exit_status(self) -> int | None:
        import time

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
