"""Files that are never half-written: write beside the destination, flush, then rename.

A crash or Ctrl-C leaves either the old file or the new one, plus at worst a hidden
``.<name>.*.tmp`` that ``remove_stale_temps`` clears on the next run.
"""

from __future__ import annotations

import logging
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

log = logging.getLogger(__name__)

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_writer(dest: Path) -> Iterator[IO[str]]:
    """A text handle whose content replaces ``dest`` only when the block ends without error."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o666 & ~_UMASK)  # mkstemp makes it 0600; give it a normal file's mode
        os.replace(handle.name, dest)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def write_text_atomic(dest: Path, text: str) -> None:
    """Replace ``dest`` with ``text``, all or nothing."""
    with atomic_writer(dest) as handle:
        handle.write(text)


def remove_stale_temps(folder: Path) -> None:
    """Temp files that an interrupted atomic write left in ``folder``."""
    for stale in Path(folder).glob(".*.tmp"):
        stale.unlink(missing_ok=True)
        log.info("removed %s, left by an interrupted run", stale)
