"""OpenHands event streams: evaluation ``output.jsonl`` records, resolver output and replay fixtures.

A record is ``{"instance_id", "instruction", "history": [events], "test_result": {"git_patch"}}``
(older versions store ``history`` as [action, observation] pairs, or as a flat list of events
whose fields sit beside ``action`` with no ``args``, ids or causes), or a replay fixture, a plain
list of events. The OpenHands resolver's records name their task by ``issue`` (owner, repo,
number) and keep the patch in ``git_patch``. How the events become steps: openhands_events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from swe_srl.formats.base import ImportResult, Where, file_task_id, finish_record, guarded, iter_documents
from swe_srl.formats.openhands_events import is_event, read_events
from swe_srl.formats.rows import patch_of, resolved_of


def _events(history: Any) -> list[Any]:
    """Flatten the older [action, observation] pair form."""
    events: list[Any] = []
    for item in history:
        if isinstance(item, list):
            events.extend(item)
        else:
            events.append(item)
    return events


class OpenHandsFormat:
    name = "openhands"

    def sniff(self, sample: Any) -> bool:
        if isinstance(sample, list) and sample:
            first = sample[0]
            if isinstance(first, dict) and isinstance(first.get("history"), list):
                sample = first
            else:
                return all(is_event(e) for e in _events(sample[:20]))
        if isinstance(sample, dict) and isinstance(sample.get("history"), list) and "trajectory" not in sample:
            events = _events(sample["history"][:20])
            return bool(events) and all(is_event(e) for e in events)
        return False

    def read(self, path: Path) -> Iterator[ImportResult]:
        for where, document in iter_documents(path):
            if isinstance(document, Exception):
                yield where.failed(document)  # type: ignore[arg-type]
            elif isinstance(document, list) and document and all(is_event(e) for e in _events(document[:20])):
                yield guarded(where, lambda: self._record({"history": document}, where))
            elif isinstance(document, list):
                for index, row in enumerate(document):
                    row_where = Where(where.source, prefix=f"[{index}].")
                    yield guarded(row_where, lambda: self._record(row, row_where))
            else:
                yield guarded(where, lambda: self._record(document, where))

    def _record(self, record: Any, where: Where) -> ImportResult:
        if not isinstance(record, dict):
            raise where.error(f"expected a JSON object, got {type(record).__name__}")
        if not isinstance(record.get("history"), list):
            raise where.error("missing or not a list", "history")
        events = _events(record["history"])
        steps, skipped, task_prompt = read_events(events, where)
        instance = record.get("instance") if isinstance(record.get("instance"), dict) else {}
        task_id = record.get("instance_id") or instance.get("instance_id") or _issue_id(record) or file_task_id(where.source)
        statement = instance.get("problem_statement")
        metadata: dict[str, Any] = {"trajectory_id": str(task_id)}
        if isinstance(record.get("error"), str):
            metadata["error"] = record["error"]
        llm = record.get("metadata", {}).get("llm_config") if isinstance(record.get("metadata"), dict) else None
        if isinstance(llm, dict) and isinstance(llm.get("model"), str):
            metadata["model"] = llm["model"]
        return finish_record(
            where, source_format=self.name, steps=steps, skipped=skipped, units=len(events),
            task_id=str(task_id),
            problem_statement=statement if isinstance(statement, str) else task_prompt or str(record.get("instruction", "")),
            patch=patch_of(record), resolved=resolved_of(record), metadata=metadata,
        )


def _issue_id(record: dict[str, Any]) -> str | None:
    """``owner__repo-number`` of a resolver record's issue, as SWE-bench names its tasks."""
    issue = record.get("issue")
    if not isinstance(issue, dict) or not all(isinstance(issue.get(k), (str, int)) for k in ("owner", "repo", "number")):
        return None
    return f"{issue['owner']}__{issue['repo']}-{issue['number']}"
