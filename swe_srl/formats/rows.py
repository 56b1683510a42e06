"""Row-per-trajectory chat files (SWE-Gym, SWE-smith, OpenAI-style, OpenHands trajectory sets): shared reading."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

from swe_srl.formats.base import (
    OPENHANDS_RESULT, ImportResult, Where, content_text, file_task_id, finish_record, guarded, iter_rows,
)
from swe_srl.formats.chat import read_messages
from swe_srl.formats.text_actions import TextParser

_SAMPLE_SUFFIX = re.compile(r"^(.+-\d+)_(\d+)$")


def first_row(sample: Any) -> dict[str, Any] | None:
    """The first chat row of a detection sample: a row, a list of rows, or a bare message list."""
    if isinstance(sample, dict) and isinstance(sample.get("messages"), list):
        return sample
    if isinstance(sample, list) and sample and isinstance(sample[0], dict):
        if isinstance(sample[0].get("messages"), list):
            return sample[0]
        if all(isinstance(m, dict) and "role" in m for m in sample[:50]):
            return {"messages": sample}
    return None


def has_native_calls(row: dict[str, Any]) -> bool:
    return any(isinstance(m, dict) and m.get("tool_calls") for m in row.get("messages", []))


def openhands_text_form(row: dict[str, Any]) -> bool:
    """Whether tool results are user messages in OpenHands' text form (``EXECUTION RESULT of [...]``)."""
    return any(
        isinstance(m, dict) and m.get("role") == "user" and OPENHANDS_RESULT.match(content_text(m.get("content")))
        for m in row.get("messages", [])
    )


def call_names(row: dict[str, Any]) -> set[str]:
    """Tool names the row's assistant called or its ``tools`` list offers."""
    names: set[str] = set()
    for message in row.get("messages", []):
        for call in (message.get("tool_calls") or []) if isinstance(message, dict) else []:
            if isinstance(call, dict) and isinstance(call.get("function"), dict):
                names.add(str(call["function"].get("name")))
    for tool in row.get("tools") or []:
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
            names.add(str(tool["function"].get("name")))
    return names


def task_id_of(row: dict[str, Any], where: Where) -> tuple[str, str]:
    """(task id, trajectory id). SWE-Gym samples add ``_N`` to the SWE-bench id: the task is the id
    without it. A row's own ``trajectory_id`` names the trajectory where it has one. Rows with no
    task id but a ``uuid`` (NVIDIA's Nemotron SFT rows) are named by it."""
    named = row.get("trajectory_id") if isinstance(row.get("trajectory_id"), str) and row["trajectory_id"] else None
    for key in ("instance_id", "task_id", "id", "uuid"):
        value = row.get(key)
        if isinstance(value, str) and value:
            sample = _SAMPLE_SUFFIX.match(value)
            return (sample.group(1) if sample else value), named or value
    fallback = file_task_id(where.source) + (f"#{where.record}" if where.record else "")
    return fallback, fallback


def patch_of(row: dict[str, Any]) -> str:
    for key in ("patch", "model_patch", "submission", "git_patch"):
        if isinstance(row.get(key), str):
            return row[key]
    test_result = row.get("test_result")
    if isinstance(test_result, dict) and isinstance(test_result.get("git_patch"), str):
        return test_result["git_patch"]
    info = row.get("info")
    if isinstance(info, dict) and isinstance(info.get("submission"), str):
        return info["submission"]
    return ""


def resolved_of(row: dict[str, Any]) -> bool | None:
    if isinstance(row.get("resolved"), bool):
        return row["resolved"]
    if type(row.get("resolved")) is int and row["resolved"] in (0, 1):  # parquet exports: 0/1, -1 when not graded
        return bool(row["resolved"])
    report = row.get("test_result", {}).get("report") if isinstance(row.get("test_result"), dict) else None
    if isinstance(report, dict) and isinstance(report.get("resolved"), bool):
        return report["resolved"]
    return None


def read_chat_rows(
    path: Path, *, source_format: str, text_parser: TextParser | None, messages_field: str = "messages"
) -> Iterator[ImportResult]:
    """Every row of a chat-row file as an ImportResult; the chat is the row's ``messages_field``."""
    for where, row in iter_rows(path):
        if not isinstance(row, dict):
            error = row if isinstance(row, Exception) else where.error(f"expected a JSON object, got {type(row).__name__}")
            yield where.failed(error)  # type: ignore[arg-type]
            continue
        yield guarded(where, lambda: chat_row_result(
            row, where, source_format=source_format, text_parser=text_parser, messages_field=messages_field))


def chat_row_result(
    row: dict[str, Any], where: Where, *, source_format: str, text_parser: TextParser | None, messages_field: str = "messages"
) -> ImportResult:
    if messages_field not in row:
        raise where.error("missing", messages_field)
    read = read_messages(row[messages_field], where, text_parser=text_parser, field_name=messages_field)
    task_id, trajectory_id = task_id_of(row, where)
    metadata: dict[str, Any] = {"trajectory_id": trajectory_id}
    for key in ("run_id", "model", "exit_status", "repo", "dataset", "license", "language", "hf_dataset_name"):
        if isinstance(row.get(key), str):
            metadata[key] = row[key]
    statement = row.get("problem_statement")
    return finish_record(
        where,
        source_format=source_format,
        steps=read.steps,
        skipped=read.skipped,
        units=read.units,
        task_id=task_id,
        problem_statement=statement if isinstance(statement, str) else read.task_prompt,
        patch=patch_of(row),
        resolved=resolved_of(row),
        metadata=metadata,
    )
