"""Import teacher trajectories from files and folders, with a report of everything skipped.

``import_paths`` streams Trajectories; the ImportReport it fills counts files, trajectories,
steps, messages skipped by reason and records that failed by reason. ``strict=True`` raises the
first DataError instead of counting it. ``write_store`` writes our JSONL store atomically.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from swe_srl.atomic import atomic_writer, write_text_atomic
from swe_srl.dialects import get_dialect
from swe_srl.errors import MAX_QUOTED_CHARS, DataError, clip
from swe_srl.formats.base import ImportResult
from swe_srl.formats.detect import TRAJECTORY_SUFFIXES, detect_format, get_format
from swe_srl.formats.seen import as_seen
from swe_srl.trajectory import Trajectory, dumps

logger = logging.getLogger(__name__)

MAX_EXAMPLES = 20  # error messages kept verbatim in a report; the rest are only counted


@dataclass
class ImportReport:
    """What an import read, made and skipped. Filled while importing streams."""

    files: int = 0
    ignored_files: list[str] = field(default_factory=list)  # not trajectory files by suffix
    trajectories: int = 0
    steps: int = 0
    messages: int = 0  # messages or events read inside records
    skipped: Counter = field(default_factory=Counter)  # messages that became no step, by reason
    failed: Counter = field(default_factory=Counter)  # records (or files) that became no trajectory, by reason
    formats: Counter = field(default_factory=Counter)  # trajectories per source format
    errors: list[str] = field(default_factory=list)  # the first MAX_EXAMPLES DataErrors, as bounded text

    def add(self, result: ImportResult, format_name: str) -> None:
        self.messages += result.units
        for skip in result.skipped:
            self.skipped[clip(skip.reason, MAX_QUOTED_CHARS)] += 1  # a reason may quote outside text
            if skip.error is not None:
                self._example(skip.error)
        if result.error is not None:
            self.failed[_reason(result.error)] += 1
            self._example(result.error)
        elif result.trajectory is not None:
            self.trajectories += 1
            self.steps += len(result.trajectory.steps)
            self.formats[format_name] += 1

    def fail_file(self, error: DataError) -> None:
        self.failed[_reason(error)] += 1
        self._example(error)

    def _example(self, error: DataError) -> None:
        if len(self.errors) < MAX_EXAMPLES:
            self.errors.append(str(error))

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "ignored_files": self.ignored_files,
            "trajectories": self.trajectories,
            "steps": self.steps,
            "messages": self.messages,
            "skipped": dict(self.skipped.most_common()),
            "failed": dict(self.failed.most_common()),
            "formats": dict(self.formats),
            "errors": self.errors,
        }


@dataclass(frozen=True)
class ImportProgress:
    """Sent to a progress callback after each trajectory and at the end of each file."""

    path: Path
    files_done: int
    files_total: int
    report: ImportReport


ProgressCallback = Callable[[ImportProgress], None]


def _reason(error: DataError) -> str:
    """A short, countable reason: the message up to its first colon or parenthesis, bounded."""
    text = error.message
    for mark in (":", " ("):
        text = text.split(mark, 1)[0]
    return clip(text.strip(), MAX_QUOTED_CHARS) or "error"


def expand_paths(paths: Iterable[Path | str], report: ImportReport | None = None) -> list[Path]:
    """Files to import: given files as they are, folders searched recursively, in sorted order."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() in TRAJECTORY_SUFFIXES:
                    files.append(child)
                elif report is not None:
                    report.ignored_files.append(str(child))
        elif path.is_file():
            files.append(path)
        else:
            raise DataError("no such file or folder", source=str(path))
    return files


def import_paths(
    paths: Sequence[Path | str] | Path | str,
    *,
    format: str | None = None,
    strict: bool = False,
    report: ImportReport | None = None,
    progress: ProgressCallback | None = None,
    dialect: str | None = None,
) -> Iterator[Trajectory]:
    """Trajectories from files and folders, format detected per file unless ``format`` is given.

    Each is recorded in its observation dialect (``dialect``, else its format's; formats/seen.py).

    Bad data is counted in ``report`` (pass one to read it afterwards); with ``strict`` the
    first DataError is raised instead. Streams: one record in memory at a time, per file.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    report = report if report is not None else ImportReport()
    forced = get_format(format) if format else None
    if dialect is not None:
        get_dialect(dialect)  # a ConfigError naming the known ones, before any file is read
    files = expand_paths(paths, report)
    for number, path in enumerate(files, start=1):
        report.files += 1
        try:
            fmt = forced or detect_format(path)
            results: Iterable[ImportResult] = fmt.read(path)
            for result in results:
                report.add(result, fmt.name)
                if strict:
                    _raise_first(result)
                if result.trajectory is not None and result.error is None:
                    yield as_seen(result.trajectory, fmt.name, dialect)
                    if progress is not None:
                        progress(ImportProgress(path, number - 1, len(files), report))
        except DataError as err:
            if err.source is None:
                err = DataError(err.message, source=str(path), line=err.line, field=err.field)
            if strict:
                raise err from None
            logger.warning("skipping %s", err)
            report.fail_file(err)
        except OSError as err:
            error = DataError(f"cannot read: {err.strerror or err}", source=str(path))
            if strict:
                raise error from None
            report.fail_file(error)
        if progress is not None:
            progress(ImportProgress(path, number, len(files), report))


def _raise_first(result: ImportResult) -> None:
    if result.error is not None:
        raise result.error
    for skip in result.skipped:
        if skip.error is not None:
            raise skip.error


def write_store(trajectories: Iterable[Trajectory], dest: Path) -> int:
    """Write trajectories as JSONL to ``dest``, all or nothing."""
    count = 0
    with atomic_writer(Path(dest)) as handle:
        for trajectory in trajectories:
            handle.write(dumps(trajectory) + "\n")
            count += 1
    return count


STORE_FILE = "trajectories.jsonl"
REPORT_FILE = "import_report.json"


def import_to_store(
    paths: Sequence[Path | str],
    out_dir: Path,
    *,
    format: str | None = None,
    strict: bool = False,
    progress: ProgressCallback | None = None,
    dialect: str | None = None,
) -> ImportReport:
    """Import ``paths`` into ``out_dir/trajectories.jsonl`` and save the report beside it."""
    report = ImportReport()
    out_dir = Path(out_dir)
    write_store(import_paths(paths, format=format, strict=strict, report=report, progress=progress,
                                  dialect=dialect), out_dir / STORE_FILE)
    write_text_atomic(out_dir / REPORT_FILE, json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    return report


def read_store(path: Path) -> Iterator[Trajectory]:
    """Trajectories from our JSONL store (or a folder of them), strictly: the store is ours."""
    return import_paths([path], format="swe-srl", strict=True)
