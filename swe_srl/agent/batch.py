"""Run many (task, sample) jobs on parallel workers, resumably: what collection and evaluation share.

Each finished job is one JSON file in a folder, written to a temporary name and renamed, so a
file is there whole or not at all; a job whose file exists is done and never run again. A crash,
Ctrl-C or SIGKILL loses at most the jobs in flight, and leftover temporary files are removed on
the next start. Jobs that raise are logged and counted, not stored, so a resumed run retries them.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from swe_srl.atomic import remove_stale_temps, write_text_atomic
from swe_srl.errors import ConfigError, DataError
from swe_srl.tasks.task import Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One run to do: a task and a sample number (the seed of a scripted route, or a rollout index)."""

    task: Task
    sample: int = 0

    @property
    def key(self) -> str:
        return f"{self.task.instance_id}_{self.sample}"


@dataclass(frozen=True)
class BatchProgress:
    """What the batch has done so far; handed to the progress callback after each job."""

    done: int  # finished now or earlier
    total: int
    key: str  # the job just finished (or failed)
    ok: bool
    record: Mapping[str, Any] | None = None


@dataclass
class BatchResult:
    """The records of every finished job, and what happened to this run's jobs."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> stored record
    ran: int = 0  # jobs run to the end now
    reused: int = 0  # jobs found finished in the store
    failed: dict[str, str] = field(default_factory=dict)  # key -> error, for jobs that raised now


class RunStore:
    """A folder of one ``<key>.json`` record per finished job."""

    SUFFIX = ".json"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.folder)

    def path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ConfigError(f"run key {key!r} cannot name a file")
        return self.folder / f"{key}{self.SUFFIX}"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> dict[str, Any]:
        path = self.path(key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DataError(f"not valid JSON ({err.msg}); delete it to run the job again", source=str(path), line=err.lineno) from None

    def put(self, key: str, record: Mapping[str, Any]) -> None:
        write_text_atomic(self.path(key), json.dumps(record, ensure_ascii=False, indent=1) + "\n")

    def keys(self) -> list[str]:
        return sorted(p.name[: -len(self.SUFFIX)] for p in self.folder.glob(f"*{self.SUFFIX}") if not p.name.startswith("."))

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for key in self.keys():
            yield key, self.get(key)


def run_batch(
    jobs: Sequence[Job],
    run_one: Callable[[Job], Mapping[str, Any]],
    store: RunStore,
    *,
    workers: int = 1,
    progress: Callable[[BatchProgress], None] | None = None,
) -> BatchResult:
    """Run every job not yet in ``store`` with ``run_one`` on ``workers`` threads; store each record.

    On Ctrl-C, jobs not started are cancelled; jobs in flight finish and are stored.
    """
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    keys = [job.key for job in jobs]
    if len(set(keys)) != len(keys):
        raise ConfigError("two jobs share a key (the same task and sample)")
    result = BatchResult()
    todo = []
    for job in jobs:
        if store.has(job.key):
            result.records[job.key] = store.get(job.key)
            result.reused += 1
        else:
            todo.append(job)
    lock = threading.Lock()

    def finish(job: Job, future: Future) -> None:
        try:
            record = dict(future.result())
        except Exception as err:  # one job's failure must not stop the others
            log.error("%s failed: %s", job.key, err, exc_info=True)
            result.failed[job.key] = f"{type(err).__name__}: {err}"
            record = None
        else:
            store.put(job.key, record)
            result.records[job.key] = record
            result.ran += 1
        if progress is not None:
            with lock:
                done = len(result.records)
            progress(BatchProgress(done, len(jobs), job.key, record is not None, record))

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="swe-srl-job")
    futures = {pool.submit(run_one, job): job for job in todo}
    pending = set(futures)
    try:
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                finish(futures[future], future)
    except BaseException:
        for future in pending:
            future.cancel()
        # Jobs already running are let finish and stored: their work is paid for.
        for future in pending:
            if not future.cancelled():
                try:
                    future.exception()
                    finish(futures[future], future)
                except BaseException:
                    break
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return result
