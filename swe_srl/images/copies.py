"""Second copies of a package's modules in an image: same relative path, and lines in common.

A synthesized task teaches nothing if the pristine source of its package is readable outside
/testbed (Debian's site-packages, a copy vendored inside another package, a wheel or sdist left
behind): a `diff` against it points straight at the bug. A package's *fingerprint* is, per module
path relative to its import root (`attr/_make.py`), the short hashes of its distinct non-blank
lines, so it can travel into an image without carrying the source. A file is a copy of a module
when its path ends with the module's relative path (plain, compiled under `__pycache__`, or as a
member of a .whl/.zip/.egg/.tar.gz) and it shares at least ``min_shared`` of the module's lines;
a compiled file counts when no source sits beside it (else the source is judged).

This file runs on the host (to make fingerprints) and, stdlib only, as a script inside an image:
`python3 copies.py find|remove FINGERPRINT.json` prints the copies found (and removed) as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tarfile
import zipfile

SKIP = ("/proc", "/sys", "/dev", "/testbed")  # never scanned: the kernel's views and the task's own repo
NEAR = 0.5  # the rule: a copy shares at least half of a module's distinct lines
MIN_LINES = 3  # modules with fewer distinct lines (an empty __init__.py) prove nothing by content
ARCHIVES = (".whl", ".zip", ".egg", ".tar.gz", ".tgz", ".tar")
MAX_ARCHIVE = 200 * 1024 * 1024  # bytes; bigger archives are not opened


def line_hashes(text: str) -> list[str]:
    """Short hashes of the distinct non-blank lines of ``text`` (stripped), sorted."""
    lines = {line.strip() for line in text.splitlines() if line.strip()}
    return sorted(hashlib.sha1(line.encode()).hexdigest()[:10] for line in lines)


def fingerprint(modules: dict[str, str]) -> dict[str, list[str]]:
    """Module path relative to the import root -> its line hashes."""
    return {path: line_hashes(text) for path, text in sorted(modules.items())}


def _source_of(path: str) -> str:
    """Where a `__pycache__/NAME.TAG.pyc` file's source sits (``path`` itself for anything else)."""
    head, name = os.path.split(path)
    if name.endswith(".pyc") and os.path.basename(head) == "__pycache__":
        return os.path.join(os.path.dirname(head), name.split(".", 1)[0] + ".py")
    return path


def _match(path: str, fp: dict[str, list[str]]) -> str | None:
    """The module whose relative path ``path`` ends with (for a .pyc: its source's), if any."""
    path = _source_of(path)
    for module in fp:
        if path == module or path.endswith("/" + module):
            return module
    return None


def _shared(text: str, hashes: list[str]) -> float | None:
    """The share of the module's lines found in ``text``; None when the module is too small to tell."""
    if len(hashes) < MIN_LINES:
        return None
    return len(set(hashes) & set(line_hashes(text))) / len(hashes)


def _judge(path: str, read, fp: dict[str, list[str]], min_shared: float) -> dict | None:
    module = _match(path, fp)
    if module is None:
        return None
    if path.endswith(".pyc"):  # compiled: no lines to compare; its source beside it is judged instead
        return None if os.path.exists(_source_of(path)) else {"path": path, "module": module, "shared": None}
    try:
        shared = _shared(read().decode("utf-8", errors="replace"), fp[module])
    except (OSError, tarfile.TarError, zipfile.BadZipFile, KeyError):
        return None
    if shared is None and min_shared > 0 or shared is not None and shared < min_shared:
        return None
    return {"path": path, "module": module, "shared": shared}


def _archive_copies(path: str, fp: dict[str, list[str]], min_shared: float) -> list[dict]:
    found = []
    try:
        if os.path.getsize(path) > MAX_ARCHIVE:
            return []
        if path.endswith((".whl", ".zip", ".egg")):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member.endswith(".pyc"):  # wheels and eggs ship their sources: those are judged
                        continue
                    hit = _judge(member, lambda m=member: archive.read(m), fp, min_shared)
                    found += [dict(hit, path=path, member=member)] if hit else []
        else:
            with tarfile.open(path) as archive:
                for info in archive:
                    if info.isfile() and not info.name.endswith(".pyc"):
                        hit = _judge(info.name, lambda i=info: archive.extractfile(i).read(), fp, min_shared)
                        found += [dict(hit, path=path, member=info.name)] if hit else []
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError):
        return []  # unreadable for whoever runs the scan: not a copy they can use
    return found


def find_copies(fp: dict[str, list[str]], top: str = "/", skip: tuple[str, ...] = SKIP,
                min_shared: float = NEAR) -> list[dict]:
    """Every readable copy under ``top`` of a module of ``fp``: {path, module, shared[, member]}."""
    found: list[dict] = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skip]
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            if name.endswith(ARCHIVES):
                found += _archive_copies(path, fp, min_shared)
                continue

            def read(p: str = path) -> bytes:
                with open(p, "rb") as handle:
                    return handle.read()

            hit = _judge(path, read, fp, min_shared)
            found += [hit] if hit else []
    return found


def removal_target(copy: dict) -> str:
    """What to delete for a copy: the archive holding it, else its top-level package folder or module."""
    if "member" in copy:
        return copy["path"]
    module, source = copy["module"], _source_of(copy["path"])
    root = source[: len(source) - len(module)]
    return root + module.split("/", 1)[0]


def remove_copies(copies: list[dict]) -> list[str]:
    """Delete every copy's target (and a lone module's compiled files); the paths deleted."""
    removed = []
    for target in sorted({removal_target(c) for c in copies}):
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        elif os.path.lexists(target):
            os.remove(target)
        else:
            continue
        removed.append(target)
        if target.endswith(".py"):  # a single-module package: its bytecode goes too
            cache = os.path.join(os.path.dirname(target), "__pycache__")
            stem = os.path.basename(target)[:-3] + "."
            for name in os.listdir(cache) if os.path.isdir(cache) else []:
                if name.startswith(stem) and name.endswith(".pyc"):
                    os.remove(os.path.join(cache, name))
    return removed


if __name__ == "__main__":  # inside an image: `python3 copies.py find|remove FINGERPRINT.json`
    mode, spec = sys.argv[1], sys.argv[2]
    with open(spec) as handle:
        prints = json.load(handle)
    if mode == "remove":  # at build time: anything at a module's path that shares a fifth of its lines
        print(json.dumps(remove_copies(find_copies(prints, min_shared=0.2))))
    else:
        print(json.dumps(find_copies(prints)))
