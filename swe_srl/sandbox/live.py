"""Sandboxes still open in this process, closed at interpreter exit, on Ctrl-C and on SIGTERM.

SIGTERM (kill, timeout, docker stop, a scheduler's preemption) runs no atexit hook by default, so
a handler closes every open sandbox and then lets the signal end the process as it would have.
It is installed at import, from the main thread, and only where SIGTERM still has its default
action (an application that handles SIGTERM itself keeps its handler).
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
from types import FrameType
from typing import Protocol

log = logging.getLogger(__name__)


class _Closable(Protocol):
    def close(self) -> None: ...


_open: dict[int, _Closable] = {}
# Reentrant: the SIGTERM handler runs in the main thread, possibly while it holds the lock.
_lock = threading.RLock()


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


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Close every sandbox, then die of the signal with its default action (the exit status says SIGTERM)."""
    close_all()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


atexit.register(close_all)
if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _on_sigterm)
