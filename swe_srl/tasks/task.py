"""The Task record: one SWE-bench-format instance, validated on the way in."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from swe_srl.errors import DataError
from swe_srl.tasks.image_source import FIELD as IMAGE_SOURCE
from swe_srl.tasks.image_source import ImageSource, RegistryImage, image_source_from_row, image_source_json

# Fields every row must carry, with the type it must have once decoded.
_REQUIRED_STR = ("instance_id", "repo", "base_commit", "problem_statement", "patch")
# Fields swebench 5 reads to grade; optional in SWE-bench Verified / SWE-Gym rows (older rows
# have none), required before grading.
GRADING_FIELDS = ("image", "eval_script", "log_parser", "eval_type")


@dataclass(frozen=True)
class Task:
    """A SWE-bench instance: the repository at a commit, an issue, and how to grade a fix."""

    instance_id: str
    repo: str
    base_commit: str
    problem_statement: str
    patch: str  # the gold patch
    test_patch: str = ""  # hidden tests, applied only when grading
    fail_to_pass: tuple[str, ...] = ()
    pass_to_pass: tuple[str, ...] = ()
    version: str = ""
    image: str | None = None  # container image with the repo at /testbed
    eval_script: str | None = None  # bash script run by the swebench harness to grade
    log_parser: str | None = None  # swebench PARSER_REGISTRY key, e.g. "parse_log_pytest"
    eval_type: str | None = None  # "pass_and_fail" or "fail_only"
    extra: Mapping[str, Any] = field(default_factory=dict)  # other row fields, kept as they are
    image_source: ImageSource = RegistryImage()  # how `image` is made (tasks/image_source.py)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, source: str | None = None, line: int | None = None) -> "Task":
        """Validate one dataset row (SWE-bench, SWE-bench Verified, SWE-Gym, our own)."""

        def fail(name: str, message: str) -> DataError:
            return DataError(message, source=source, line=line, field=name)

        if not isinstance(row, Mapping):
            raise DataError(f"expected an object, got {type(row).__name__}", source=source, line=line)
        for name in _REQUIRED_STR:
            if name not in row or row[name] is None:
                raise fail(name, "missing")
            if not isinstance(row[name], str):
                raise fail(name, f"expected a string, got {type(row[name]).__name__}")
        if not row["instance_id"].strip():
            raise fail("instance_id", "empty")
        tests = {name: _test_list(row.get(name), fail, name) for name in ("FAIL_TO_PASS", "PASS_TO_PASS")}
        optional: dict[str, str | None] = {}
        for name in ("test_patch", "version", *GRADING_FIELDS):
            value = row.get(name)
            if value is not None and not isinstance(value, (str, int, float)):
                raise fail(name, f"expected a string, got {type(value).__name__}")
            optional[name] = None if value is None else str(value)
        known = {*_REQUIRED_STR, "FAIL_TO_PASS", "PASS_TO_PASS", "test_patch", "version", *GRADING_FIELDS,
                 IMAGE_SOURCE}
        return cls(
            instance_id=row["instance_id"],
            repo=row["repo"],
            base_commit=row["base_commit"],
            problem_statement=row["problem_statement"],
            patch=row["patch"],
            test_patch=optional["test_patch"] or "",
            fail_to_pass=tests["FAIL_TO_PASS"],
            pass_to_pass=tests["PASS_TO_PASS"],
            version=optional["version"] or "",
            image=optional["image"],
            eval_script=optional["eval_script"],
            log_parser=optional["log_parser"],
            eval_type=optional["eval_type"],
            extra={k: v for k, v in row.items() if k not in known},
            image_source=image_source_from_row(row, source=source, line=line),
        )

    def to_row(self) -> dict[str, Any]:
        """The SWE-bench row this task came from (test lists as lists, as swebench 5 accepts)."""
        row = asdict(self)
        extra = row.pop("extra")
        row["FAIL_TO_PASS"] = list(row.pop("fail_to_pass"))
        row["PASS_TO_PASS"] = list(row.pop("pass_to_pass"))
        row[IMAGE_SOURCE] = image_source_json(self.image_source)
        return {**extra, **{k: v for k, v in row.items() if v is not None}}

    @property
    def gradable(self) -> bool:
        """Whether the row carries everything the swebench harness needs to grade it."""
        return all(getattr(self, name) for name in GRADING_FIELDS)


def _test_list(value: Any, fail, name: str) -> tuple[str, ...]:
    # SWE-bench ships these as JSON-encoded strings; SWE-Gym and parquet exports as lists.
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError as err:
            raise fail(name, f"not a JSON list of test names: {err.msg}") from None
    if hasattr(value, "tolist"):  # numpy arrays from parquet
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not all(isinstance(t, str) for t in value):
        raise fail(name, "expected a list of test names")
    return tuple(value)
