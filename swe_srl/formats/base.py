"""What every trajectory format provides, and the records an importer yields.

A format turns one file into ImportResults: one per record (a JSONL row, a .traj file, a replay
list). A record becomes a Trajectory, or fails with a DataError naming the file, the line and
the field. Inside a record every message or event either lands in a step or is listed as a Skip
with its reason, so nothing is dropped silently.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

from swe_srl.errors import LONE_SURROGATE, MAX_QUOTED_CHARS, DataError, clip, encodable
from swe_srl.trajectory import Step, Trajectory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Skip:
    """A message or event that became no step, and why."""

    reason: str  # short and stable, e.g. "think call", "nudge", "system prompt"
    index: int | None = None  # message or event index in the record
    error: DataError | None = None  # set when the skip is due to bad data (strict mode raises it)


@dataclass(frozen=True)
class ImportResult:
    """One record of a file: a Trajectory, or the DataError that stopped it."""

    source: str  # the file
    record: str  # where in the file, e.g. "line 3" or "row 2"; "" for a one-record file
    trajectory: Trajectory | None = None
    skipped: tuple[Skip, ...] = ()
    units: int = 0  # messages or events the record held
    error: DataError | None = None


@runtime_checkable
class TrajectoryFormat(Protocol):
    """One teacher's trace format."""

    name: str  # what --format takes and Trajectory.source_format records

    def sniff(self, sample: Any) -> bool:
        """Whether ``sample`` (a parsed JSON document, or a JSONL file's first row) is this format."""
        ...

    def read(self, path: Path) -> Iterator[ImportResult]:
        """Every record of the file at ``path``; bad records come back as errors, never raised."""
        ...


@dataclass(frozen=True)
class Where:
    """A place in a file, to name in errors: the file, a line (JSONL) and a field prefix."""

    source: str
    line: int | None = None
    prefix: str = ""  # e.g. "[3]." for the fourth row of a JSON array

    @property
    def record(self) -> str:
        if self.line is not None:
            return f"line {self.line}"
        return self.prefix.rstrip(".")

    def error(self, message: str, field: str | None = None) -> DataError:
        path = self.prefix + field if field else (self.prefix.rstrip(".") or None)
        return DataError(message, source=self.source, line=self.line, field=path)

    def failed(self, error: DataError, units: int = 0) -> ImportResult:
        return ImportResult(self.source, self.record, error=error, units=units)


MAX_DEPTH = 100  # JSON nesting; trace formats need under 20, and deeper would overflow the stack of code that walks it


def parse_json(text: str | bytes, *, source: str, line: int | None = None) -> Any:
    """One JSON document from outside, or a DataError naming ``source``, the line and the field.

    Refused besides malformed JSON: nesting deeper than MAX_DEPTH, a number of more than 4,300
    digits (Python's limit for int()), a lone surrogate (``"\\ud800"``: no UTF-8 file, terminal or
    tokenizer takes it), and bytes that are not UTF-8. Each such record fails alone, so one bad
    line never stops a whole import or data build.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"malformed JSON: {err.msg}", source=source, line=line if line is not None else err.lineno) from None
    except UnicodeDecodeError as err:
        raise DataError(f"not UTF-8 text: {err.reason}", source=source, line=line) from None
    except ValueError:  # what json.loads raises besides the two above
        raise DataError("JSON number of more than 4,300 digits", source=source, line=line) from None
    except RecursionError:
        raise DataError(f"JSON nested deeper than {MAX_DEPTH} levels", source=source, line=line) from None
    problem = _json_problem(document)
    if problem is not None:
        raise DataError(problem[0], source=source, line=line, field=problem[1] or None)
    return document


def _json_problem(document: Any) -> tuple[str, str] | None:
    """(what, where) of the first thing parse_json refuses in a decoded document; iterative, so
    no depth can overflow the stack here."""
    stack: list[tuple[Any, Iterator[tuple[Any, Any]]]] = []  # (key of a container, its children left)
    key, value = None, document
    while True:
        for text in (key, value):
            if isinstance(text, str) and not text.isascii() and LONE_SURROGATE.search(text):
                return "lone surrogate in a JSON string, which is not text", _json_path(stack, key)
        if isinstance(value, (dict, list)):
            if len(stack) >= MAX_DEPTH:
                return f"JSON nested deeper than {MAX_DEPTH} levels", _json_path(stack, key)
            stack.append((key, iter(value.items()) if isinstance(value, dict) else enumerate(value)))
        while stack:
            child = next(stack[-1][1], None)
            if child is not None:
                key, value = child
                break
            stack.pop()
        else:
            return None


def _json_path(stack: list[tuple[Any, Iterator[tuple[Any, Any]]]], key: Any) -> str:
    """``steps[3].action`` for the keys leading to the item at ``key``."""
    path = ""
    for part in [k for k, _ in stack[1:]] + ([key] if stack else []):
        path += f"[{part}]" if isinstance(part, int) else f".{encodable(part)}" if path else encodable(part)
    return path


def load_json(path: Path) -> Any:
    """The whole JSON document; a problem (see parse_json) becomes a DataError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"not UTF-8 text: {err.reason}", source=str(path)) from None
    return parse_json(text, source=str(path))


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line; a bad line yields its DataError as value."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, parse_json(line, source=str(path), line=number)
            except DataError as err:
                yield number, err


def is_jsonl(path: Path) -> bool:
    return path.suffix.lower() == ".jsonl"


def read_sample(path: Path) -> Any:
    """What detection looks at: a JSONL file's first row, or a JSON file's whole document."""
    if is_jsonl(path):
        for _, value in iter_jsonl(path):
            if isinstance(value, DataError):
                raise value
            return value
        raise DataError("empty file: no JSON lines", source=str(path))
    return load_json(path)


def iter_documents(path: Path) -> Iterator[tuple[Where, Any]]:
    """Each record's JSON value with its place: JSONL lines, or the one JSON document.

    A parse failure comes back as a DataError in place of the value.
    """
    if is_jsonl(path):
        for number, value in iter_jsonl(path):
            yield Where(str(path), line=number), value
        return
    try:
        yield Where(str(path)), load_json(path)
    except DataError as err:
        yield Where(str(path), line=err.line), err


def content_text(content: Any) -> str:
    """The text of a chat message's content: a string, None, or a list of typed parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return str(content)


_OBSERVATION_LABELS = ("OBSERVATION:\n", "Observation:\n", "OBSERVATION:", "Observation:")
# OpenHands without native tool calls answers each call with a user message that starts so.
OPENHANDS_RESULT = re.compile(r"EXECUTION RESULT of \[[^\]\n]*\]:\n")


def strip_observation_label(text: str) -> str:
    """Drop the ``OBSERVATION:`` line some agents put before every tool result.

    The label is framing, not output, and agents disagree on it (``OBSERVATION:``,
    ``Observation:``, OpenHands' ``EXECUTION RESULT of [tool]:``, none); dropping it makes the
    same run read the same from every format.
    """
    for label in _OBSERVATION_LABELS:
        if text.startswith(label):
            return text[len(label) :]
    result = OPENHANDS_RESULT.match(text)
    return text[result.end() :] if result else text


def iter_rows(path: Path) -> Iterator[tuple[Where, Any]]:
    """Records of a row-per-trajectory file: JSONL lines, one JSON object, a JSON array of
    objects, or a bare JSON array of chat messages (one record, wrapped as ``{"messages": ...}``).
    A parse failure comes back as a DataError in place of the row."""
    for where, document in iter_documents(path):
        if isinstance(document, list) and document and all(isinstance(x, dict) and "role" in x for x in document[:50]):
            yield where, {"messages": document}
        elif isinstance(document, list) and where.line is None:
            for index, row in enumerate(document):
                yield Where(where.source, prefix=f"[{index}]."), row
        else:
            yield where, document


def guarded(where: Where, convert: Callable[[], ImportResult]) -> ImportResult:
    """Run one record's conversion; bad data of any shape becomes a DataError naming the record."""
    try:
        return convert()
    except DataError as err:
        return where.failed(err)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError, ArithmeticError) as err:
        # Outside data in a shape no check anticipated: report it, never a raw traceback.
        logger.debug("unexpected record shape in %s %s", where.source, where.record, exc_info=True)
        detail = f"{type(err).__name__}: {clip(str(err), MAX_QUOTED_CHARS)}"
        return where.failed(where.error(f"unexpected record shape ({detail})"))


def finish_record(
    where: Where,
    *,
    source_format: str,
    steps: list[Step],
    skipped: list[Skip],
    units: int,
    task_id: str,
    problem_statement: str = "",
    patch: str = "",
    resolved: bool | None = None,
    metadata: dict[str, Any] | None = None,
) -> ImportResult:
    """The ImportResult of a converted record; a record without any action is an error."""
    if not steps:
        return ImportResult(
            where.source, where.record, skipped=tuple(skipped), units=units,
            error=where.error("no actions found: the record holds no tool call or command", None),
        )
    meta = dict(metadata or {})
    meta.setdefault("source_file", where.source)
    if where.record:
        meta.setdefault("source_record", where.record)
    trajectory = Trajectory(
        task_id=task_id,
        source_format=source_format,
        steps=tuple(steps),
        problem_statement=problem_statement,
        patch=patch or "",
        resolved=resolved,
        metadata=meta,
    )
    return ImportResult(where.source, where.record, trajectory, tuple(skipped), units)


def file_task_id(path: str) -> str:
    """A task id from a file name when the record has none: ``x.traj.json`` -> ``x``."""
    name = Path(path).name
    for suffix in (".traj.json", ".traj", ".jsonl", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem
