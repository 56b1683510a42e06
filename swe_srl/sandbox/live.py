"""Sandboxes still open in this process, closed at interpreter exit (Ctrl-C included)."""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Protocol

log = logging.getLogger(__name__)


class _Closable(Protocol):
    def close(self) -> None: ...


_open: dict[int, _Closable] = {}
_lock = threading.Lock()


def track(sandbox: _Closable) -> None:
    """Remember ``sandbox`` until it is closed."""
    with _lock:
        _open[id(sandbox)] = sandbox


def forget(sandbox: _Closable) -> None:
    """``sandbox`` has closed itself."""
    with _lock:
        _open.pop(id(sandbox), None)


def close_all() -> None:
    """Close every tracked sandbox; a failure is logged and the others are still closed."""
    with _lock:
        sandboxes = list(_open.values())
    for sandbox in sandboxes:
        try:
            sandbox.close()
        except Exception as err:  # at exit, keep closing the others
            log.warning("could not remove sandbox %r: %s", sandbox, err)


atexit.register(close_all)
