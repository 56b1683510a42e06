"""Run many (task, sample) jobs on parallel workers, resumably.

A job is a plain record (a task and a sample number); workers run it and hand back the record
to store, and only this driver writes the store (jobs/store.py), so a finished job is stored once
and never run again. A crash, Ctrl-C or SIGKILL loses at most the jobs in flight. Jobs that raise
are logged and counted, not stored, so a resumed run retries them. On a cluster (jobs/ray_batch.py)
a job whose node or worker died past its retries is an infrastructure failure, kept apart from
the jobs that ran and failed: it says nothing about the task.
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from swe_srl.errors import ConfigError, SweSrlError
from swe_srl.jobs.store import RunStore
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
    infra_failed: dict[str, str] = field(default_factory=dict)  # key -> error, for jobs whose node or worker died


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
    result, todo = start_batch(jobs, store)
    finish = Finisher(store, result, len(jobs), progress)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="swe-srl-job")
    futures = {pool.submit(run_one, job): job for job in todo}
    pending = set(futures)
    try:
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                _finish_future(finish, futures[future], future)
    except BaseException:
        for future in pending:
            future.cancel()
        # Jobs already running are let finish and stored: their work is paid for.
        for future in pending:
            if not future.cancelled():
                try:
                    future.exception()
                    _finish_future(finish, futures[future], future)
                except BaseException:
                    break
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return result


def start_batch(jobs: Sequence[Job], store: RunStore) -> tuple[BatchResult, list[Job]]:
    """The result so far (the jobs ``store`` holds, reused) and the jobs left to run; ConfigError on shared keys."""
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
    return result, todo


def _finish_future(finish: "Finisher", job: Job, future: Future) -> None:
    try:
        record = future.result()
    except Exception as err:  # one job's failure must not stop the others
        # Ours say what went wrong (a model server down, a sandbox that would not start): one line.
        log.error("%s failed: %s", job.key, err, exc_info=not isinstance(err, SweSrlError))
        finish.failed(job, f"{type(err).__name__}: {err}")
    else:
        finish.stored(job, record)


class Finisher:
    """Stores a finished job's record (in the driver: the one writer of the store), counts failures, reports each."""

    def __init__(self, store: RunStore, result: BatchResult, total: int,
                 progress: Callable[[BatchProgress], None] | None) -> None:
        self.store, self.result, self.total, self.progress = store, result, total, progress

    def stored(self, job: Job, record: Mapping[str, Any]) -> None:
        """Store ``record`` for ``job``; a second record for a job already stored is dropped."""
        if job.key in self.result.records:
            log.warning("%s finished twice (a retry after a lost node); the first record stays", job.key)
            return
        self.store.put(job.key, dict(record))
        self.result.records[job.key] = dict(record)
        self.result.ran += 1
        self.result.failed.pop(job.key, None)
        self.result.infra_failed.pop(job.key, None)
        self._report(job, dict(record))

    def failed(self, job: Job, error: str, *, infra: bool = False) -> None:
        """Count ``job`` as failed: by its own run, or (``infra``) by the machines it ran on."""
        (self.result.infra_failed if infra else self.result.failed)[job.key] = error
        self._report(job, None)

    def _report(self, job: Job, record: Mapping[str, Any] | None) -> None:
        if self.progress is not None:
            self.progress(BatchProgress(len(self.result.records), self.total, job.key, record is not None, record))
