"""Run a batch's jobs as tasks of a Ray cluster; the records stream back to this driver, the store's one writer.

Scheduling: each node advertises how many sandboxes it holds as the custom resource
``swe_srl_sandbox`` (``ray start --resources='{"swe_srl_sandbox": 8}'``; with ``--ray local`` this
machine's from its cores and memory, or ``cluster.sandboxes_per_node``), and a job takes one. A
start gate per node (an actor pinned there) lets ``cluster.starts_per_node`` containers start at
once; more queue rather than burst on the engine.

Before any job runs, every node with slots runs ``NodeWork.prepare`` once (building or pulling
the batch's images), so a node takes jobs only once their images are there. A node that joins
later builds an image at its first sandbox start, as a single machine does.

Faults: a job whose worker or node dies is rerun elsewhere by Ray up to ``cluster.max_retries``
times; past that it is an infrastructure failure (BatchResult.infra_failed), apart from the jobs
whose own run raised, and neither is stored, so a rerun of the batch retries both. A job
finished twice is stored once (jobs/batch.Finisher).
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterator, Mapping, Sequence, TypeVar

import ray
from ray.exceptions import RayError, RayTaskError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from swe_srl.config.sections import ClusterConfig
from swe_srl.errors import ConfigError
from swe_srl.jobs.batch import BatchProgress, BatchResult, Finisher, Job, start_batch
from swe_srl.jobs.store import RunStore

log = logging.getLogger(__name__)

SLOT = "swe_srl_sandbox"  # the custom resource: sandboxes a node holds at once
GIB_PER_SANDBOX = 4  # a sandbox's 2 GiB cap, its grading container, and room for the engine
START_LEASE_S = 600.0  # a start slot a dead worker never gave back is freed after this long
WAIT_S = 1.0  # how long the driver waits for finished jobs before looking again

T = TypeVar("T")
R = TypeVar("R")
Work = Callable[[Job, Callable[[], Any]], Mapping[str, Any]]  # one job, given its node's start slot -> record


@dataclass(frozen=True)
class NodeWork:
    """What each node does once: before it takes jobs (build or pull images), and after the batch (reap leftovers)."""

    prepare: Callable[[], object]
    clean: Callable[[], object]


def run_batch_on_ray(jobs: Sequence[Job], work: Work, store: RunStore, cluster: ClusterConfig, *,
                     progress: Callable[[BatchProgress], None] | None = None,
                     node_work: NodeWork | None = None) -> BatchResult:
    """Run every job not yet in ``store`` as a task on ``cluster``; store each record here as it arrives.

    On Ctrl-C the jobs not finished are cancelled (a running job's sandbox is closed by its own
    cleanup) and nothing more is stored.
    """
    result, todo = start_batch(jobs, store)
    if not todo:
        return result
    finish = Finisher(store, result, len(jobs), progress)
    with ray_session(cluster):
        nodes = slot_nodes()
        if node_work is not None:
            _on_each_node(nodes, node_work.prepare)
        gates = {node: _gate_on(node, cluster.starts_per_node) for node in nodes}
        try:
            for job, outcome in _stream(_submit(todo, work, gates, cluster)):
                if outcome.error:
                    log.error("%s failed: %s", job.key, outcome.error)
                    finish.failed(job, outcome.error, infra=outcome.infra)
                else:
                    finish.stored(job, outcome.value)
        finally:
            for gate in gates.values():
                ray.kill(gate)
        if node_work is not None:
            _on_each_node(slot_nodes(), node_work.clean)
    return result


@contextmanager
def ray_session(cluster: ClusterConfig) -> Iterator[None]:
    """Joined to (or with ``local`` running) the cluster inside; left after, unless it was joined before.

    Several batches in one session (eval's settings) pay for starting a local cluster once.
    """
    owned = _connect(cluster)
    try:
        yield
    finally:
        if owned:
            ray.shutdown()


def _connect(cluster: ClusterConfig) -> bool:
    """Join (or with ``local`` start) the cluster; whether this call did (False: joined already)."""
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if cluster.ray == "local":
        ray.init(address="local", resources={SLOT: cluster.sandboxes_per_node or default_slots()}, **options)
        return True
    try:
        ray.init(address=cluster.ray, **options)
    except ConnectionError as err:
        raise ConfigError(f"--ray {cluster.ray}: no Ray cluster answers ({err}); start one with `ray start --head` "
                          "(README, Scaling out), and with an explicit address set RAY_AUTH_MODE=token where the "
                          "cluster uses Ray's token authentication (the default)") from None
    return True


def default_slots() -> int:
    """Sandboxes this machine holds: one per core, as memory allows (GIB_PER_SANDBOX each), at least one."""
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 30)
    return max(1, min(os.cpu_count() or 1, memory_gib // GIB_PER_SANDBOX))


def slot_nodes() -> dict[str, int]:
    """The live nodes that hold sandboxes (id -> how many); ConfigError saying how to give some when none does."""
    nodes = {n["NodeID"]: int(n["Resources"].get(SLOT, 0)) for n in ray.nodes()
             if n.get("Alive") and n.get("Resources", {}).get(SLOT, 0) >= 1}
    if not nodes:
        raise ConfigError(f"no node of the Ray cluster advertises the resource {SLOT!r}, so no job can run; start "
                          f"each node with `ray start ... --resources='{{\"{SLOT}\": N}}'` (N sandboxes it holds), "
                          "or use --ray local")
    return nodes


def _pinned(node: str) -> NodeAffinitySchedulingStrategy:
    return NodeAffinitySchedulingStrategy(node_id=node, soft=False)


@ray.remote(num_cpus=0)
def _node_step(step: Callable[[], object]) -> None:
    step()


def _on_each_node(nodes: Sequence[str], step: Callable[[], object]) -> None:
    """Run ``step`` once on each of ``nodes``, all at once; the first failure raises as ``step`` raised it."""
    try:
        ray.get([_node_step.options(scheduling_strategy=_pinned(node)).remote(step) for node in nodes])
    except RayTaskError as err:
        raise err.cause from None


@ray.remote(num_cpus=0)
class StartGate:
    """A node's cap on container starts at once; a slot not given back within START_LEASE_S is freed anyway."""

    def __init__(self, starts: int) -> None:
        self.free = asyncio.Semaphore(starts)
        self.held: set[int] = set()
        self.issued = 0

    async def acquire(self) -> int:
        await self.free.acquire()
        self.issued += 1
        token = self.issued
        self.held.add(token)
        asyncio.get_running_loop().call_later(START_LEASE_S, self._give_back, token)
        return token

    async def release(self, token: int) -> None:
        self._give_back(token)

    def _give_back(self, token: int) -> None:
        if token in self.held:
            self.held.discard(token)
            self.free.release()


def _gate_on(node: str, starts: int) -> Any:
    """A start gate living on ``node`` (it dies with the node, as do the jobs that use it)."""
    return StartGate.options(scheduling_strategy=_pinned(node), max_concurrency=1000).remote(starts)


@contextmanager
def _start_slot(gate: Any | None) -> Iterator[None]:
    if gate is None:  # a node that joined after the batch began: no gate of its own
        yield
        return
    token = ray.get(gate.acquire.remote())
    try:
        yield
    finally:
        gate.release.remote(token)


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What came back of one task: its value, or why it failed (``infra``: its node or worker died past retries)."""

    value: R | None = None
    error: str = ""
    infra: bool = False


@ray.remote(num_cpus=0)
def _run_job(job: Job, work: Work, gates: Mapping[str, Any]) -> Mapping[str, Any]:
    gate = gates.get(ray.get_runtime_context().get_node_id())
    return work(job, lambda: _start_slot(gate))


def _submit(todo: Sequence[Job], work: Work, gates: Mapping[str, Any], cluster: ClusterConfig) -> dict[Any, Job]:
    """One task per job, each taking a sandbox slot; Ray reruns one whose worker or node died."""
    shared_work, shared_gates = ray.put(work), ray.put(gates)
    options = {"resources": {SLOT: 1}, "max_retries": cluster.max_retries, "retry_exceptions": False}
    return {_run_job.options(**options).remote(job, shared_work, shared_gates): job for job in todo}


def _stream(pending: dict[Any, T]) -> Iterator[tuple[T, Outcome]]:
    """Each task's item and outcome as it finishes; the tasks not finished are cancelled when the caller stops."""
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=WAIT_S)
            for ref in ready:
                yield pending.pop(ref), _outcome(ref)
    finally:
        for ref in pending:
            ray.cancel(ref)


def _outcome(ref: Any) -> Outcome:
    try:
        return Outcome(ray.get(ref))
    except RayTaskError as err:  # the task's own code raised (or a call it made to the cluster failed)
        cause = err.cause
        return Outcome(error=f"{type(cause).__name__}: {cause}", infra=isinstance(cause, RayError))
    except RayError as err:  # its worker or node died, past the retries
        return Outcome(error=f"{type(err).__name__}: {err}", infra=True)


@ray.remote(num_cpus=0)
def _call(fn: Callable[[T], R], item: T) -> R:
    return fn(item)


def map_on_ray(items: Sequence[T], fn: Callable[[T], R], cluster: ClusterConfig, *,
               slots: int = 1) -> Iterator[tuple[T, Outcome[R]]]:
    """``fn(item)`` for each item as a task taking ``slots`` sandbox slots of one node; outcomes as they arrive."""
    with ray_session(cluster):
        most = max(slot_nodes().values())
        if slots > most:
            raise ConfigError(f"one task here takes {slots} sandboxes at once and the largest node holds {most}; "
                              "ask for fewer workers or give a node more slots")
        shared = ray.put(fn)
        options = {"resources": {SLOT: slots}, "max_retries": cluster.max_retries, "retry_exceptions": False}
        yield from _stream({_call.options(**options).remote(shared, item): item for item in items})

