"""Gathers the requests of concurrent callers into batches for one function, with no thread of its own.

Parallel jobs each call ``submit`` from their own thread. The first caller to find no batch running
leads: it waits up to ``gather_seconds`` for others to queue (less once ``max_batch`` are waiting),
takes up to ``max_batch`` queued requests, its own first, runs ``work`` on them, hands every caller
its result, and passes the lead to the oldest request still queued, which has been waiting for it.
So requests that arrive while a batch runs form the next batch. Nothing outlives a call: the lead is
always some caller's thread. An exception from ``work`` is raised in every caller of that batch, and
the lead still passes on, so the next batch runs. ``max_batch=1`` serves one request at a time, in order.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, Sequence, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")


class _Pending(Generic[Request, Result]):
    """One caller's request, and what it gets back: a result, an error, or the lead."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.woken = threading.Event()  # set when the result is in, or when this caller is to lead
        self.leads = False
        self.result: Result | None = None
        self.error: BaseException | None = None

    def outcome(self) -> Result:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set together with woken


class MicroBatcher(Generic[Request, Result]):
    """Runs ``work`` (a list of requests -> their results, in order) on batches of concurrent requests."""

    def __init__(self, work: Callable[[list[Request]], Sequence[Result]], *, max_batch: int,
                 gather_seconds: float = 0.005) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.work = work
        self.max_batch = max_batch
        self.gather_seconds = gather_seconds
        self._changed = threading.Condition()
        self._queue: list[_Pending[Request, Result]] = []
        self._running = False  # a leader holds the lead

    def submit(self, request: Request) -> Result:
        """``work``'s result for ``request``, computed in a batch with whatever other callers queued."""
        mine: _Pending[Request, Result] = _Pending(request)
        with self._changed:
            self._queue.append(mine)
            self._changed.notify_all()
            mine.leads = not self._running
            self._running = True
        if not mine.leads:
            mine.woken.wait()
        if mine.leads:
            self._lead()
        return mine.outcome()

    def _lead(self) -> None:
        """Run one batch from the front of the queue (the leader's own request first), then pass the lead on."""
        with self._changed:
            if self.max_batch > 1:
                self._changed.wait_for(lambda: len(self._queue) >= self.max_batch, timeout=self.gather_seconds)
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
        try:
            results = list(self.work([p.request for p in batch]))
            if len(results) != len(batch):
                raise RuntimeError(f"the batched function returned {len(results)} results for {len(batch)} requests")
            for pending, result in zip(batch, results):
                pending.result = result
        except BaseException as err:  # every caller of the batch sees it, Ctrl-C included
            for pending in batch:
                pending.error = err
        with self._changed:
            successor = self._queue[0] if self._queue else None
            if successor is not None:
                successor.leads = True
            self._running = successor is not None
        for pending in batch:
            pending.woken.set()
        if successor is not None:
            successor.woken.set()
