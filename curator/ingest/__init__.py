"""`curator ingest`: real Warp kernels from existing code, stored beside the synthetic ones.

Discovery reads files' AST (``discover``); each module is imported in an isolated worker
process (``worker``) that runs the same codegen as ``generate``; a module that hangs or
crashes the worker is recorded and the worker respawned.  Categories come from the kernel's
AST (``categorize``).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from curator.errors import CuratorError
from curator.ingest.discover import DiscoverError, ModuleJob, find_jobs
from curator.scale.supervisor import Worker, WorkerDied, WorkerHung, WorkerStartError
from curator.store import FailureRecord, Store

__all__ = ["DiscoverError", "IngestError", "IngestReport", "ModuleJob", "find_jobs", "run"]

DEFAULT_TIMEOUT_S = 60.0
# A fresh worker every so many modules keeps memory flat (imported modules, Warp registries).
RESTART_EVERY = 25
STARTUP_TIMEOUT_S = 300.0


class IngestError(CuratorError):
    """The run cannot go on (the worker process cannot start); one sentence for the user."""


@dataclass
class IngestReport:
    """What a run found, stored and skipped."""

    files: int = 0
    modules_done: int = 0
    definitions: int = 0  # @wp.kernel definitions found by reading the files
    instances: int = 0  # concrete kernel objects examined after import (overloads included)
    new_kernels: int = 0
    new_artifacts_total: int = 0
    stored: dict = field(default_factory=dict)  # device -> this run's kernels now stored with its code
    kernel_ids: set = field(default_factory=set)  # every kernel id this run produced or found stored
    new_bytes: dict = field(default_factory=dict)  # device -> bytes
    already_stored: int = 0  # stored by an earlier run (or another file of this one)
    same_source: int = 0  # further instances whose source equals one already taken
    skipped: Counter = field(default_factory=Counter)  # reason -> kernel definitions/instances
    import_failures: Counter = field(default_factory=Counter)  # exception type -> modules
    kernels_in_failed_modules: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "modules_done": self.modules_done,
            "definitions": self.definitions,
            "instances": self.instances,
            "new_kernels": self.new_kernels,
            "new_artifacts": self.new_artifacts_total,
            "stored": dict(self.stored),
            "new_bytes": dict(self.new_bytes),
            "already_stored": self.already_stored,
            "same_source": self.same_source,
            "skipped": dict(self.skipped.most_common()),
            "import_failures": dict(self.import_failures.most_common()),
            "kernels_in_failed_modules": self.kernels_in_failed_modules,
            "seconds": round(self.seconds, 3),
        }


class _Worker:
    """One supervised worker process (``curator.scale.supervisor``), started lazily, killed on a
    hang or crash; ``stream(job, silence)`` gives a module's messages.

    ``stop`` and ``close`` may be called from another thread than the one using the worker
    (the run's main thread kills a worker still importing when the run is interrupted), so the
    handle changes under a lock and the user holds its own reference from ``ensure``."""

    def __init__(self, devices: tuple[str, ...], have: set[str]):
        self.devices = devices
        self.have = have
        self.have_lock = threading.Lock()  # run() gives every worker the lock that guards ``have``
        self.worker: Worker | None = None
        self.jobs = 0
        self.closed = False
        self._lock = threading.Lock()

    def ensure(self) -> Worker:
        """The running worker, started if need be."""
        with self._lock:
            if self.closed:
                raise IngestError("the ingest run is stopping")
            if self.worker is not None:
                return self.worker
        from curator.ingest import worker as ingest_worker

        with self.have_lock:
            have = frozenset(self.have)
        quiet = not os.environ.get("CURATOR_INGEST_VERBOSE")  # imported modules print
        w = Worker(ingest_worker.init, (self.devices, have), quiet=quiet)
        with self._lock:  # from here a stop() from another thread kills it
            self.worker, self.jobs = w, 0
            stopped = self.closed
        # Starting (Python, curator, Warp) is not the module's time: wait for it separately.
        try:
            if stopped:
                raise WorkerHung(0, starting=True)
            w.wait_ready(STARTUP_TIMEOUT_S)
        except (WorkerDied, WorkerHung, WorkerStartError):
            self.stop(kill=True)
            if self.closed:
                raise IngestError("the ingest run is stopping") from None
            raise IngestError(f"the ingest worker process did not start within {STARTUP_TIMEOUT_S:g} s") from None
        return w

    def stream(self, job: ModuleJob, silence: float):
        """The messages of ``job``'s module; WorkerHung or WorkerDied if it goes silent or dies."""
        from curator.ingest import worker as ingest_worker

        w = self.ensure()  # its own handle: another thread may stop the worker
        self.jobs += 1
        yield from w.stream(ingest_worker.process_job, job, silence=silence)

    def stop(self, *, kill: bool = False) -> None:
        with self._lock:
            w, self.worker = self.worker, None
        if w is not None:
            w.close(wait=not kill)

    def close(self, *, kill: bool = False) -> None:
        """Stop the worker for good: a later ``ensure`` raises instead of starting another."""
        with self._lock:
            self.closed = True
        self.stop(kill=kill)


def _file_failure(job: ModuleJob, exc_type: str, message: str) -> FailureRecord:
    from curator.records import kernel_id

    return FailureRecord(
        kernel_id(job.rel), None, None, "ingest-import", exc_type, f"{job.rel}: {message}"[:4000], None
    )


def run(
    store: Store,
    jobs: list[ModuleJob],
    *,
    devices: tuple[str, ...],
    timeout: float = DEFAULT_TIMEOUT_S,
    restart_every: int = RESTART_EVERY,
    arguments: dict | None = None,
    on_progress: Callable[[IngestReport, ModuleJob], None] | None = None,
    worker_factory: Callable | None = None,
    workers: int = 1,
) -> IngestReport:
    """Import each job's module in a worker, store its kernels and record what was skipped.
    Each module's results are committed together; one bad module never stops the run.
    ``worker_factory(devices, have)`` makes a worker (default: a local spawned process;
    curator.ingest.ray puts it on a Ray cluster).  With ``workers`` > 1, that many
    workers import modules at once (a thread waits on each); results are still committed in
    the order of ``jobs``, so the store (which module a kernel's provenance names) is the same
    as with one worker."""
    report = IngestReport(files=len(jobs), definitions=sum(len(j.defs) for j in jobs))
    have = {k for k, v in store.kernel_devices().items() if not set(devices) - v}
    lock = threading.Lock()  # guards ``have``: workers snapshot it when they start
    factory = worker_factory or _Worker
    pool = [factory(devices, have) for _ in range(max(1, min(workers, len(jobs))))]
    for w in pool:
        w.have_lock = lock
    free: queue.Queue = queue.Queue()
    for w in pool:
        free.put(w)

    def gather(job: ModuleJob) -> _JobResult:
        worker = free.get()
        try:
            result = _gather(worker, job, timeout)
            if worker.jobs >= restart_every:
                worker.stop()
            return result
        finally:
            free.put(worker)

    finished = False
    threads = ThreadPoolExecutor(len(pool), thread_name_prefix="ingest")
    try:
        with store.recorded_run("ingest", arguments or {}, report.as_dict) as run_id:
            results = [threads.submit(gather, job) for job in jobs]
            for job, fut in zip(jobs, results, strict=True):
                _commit(store, run_id, fut.result(), report, have, lock)
                report.modules_done += 1
                if on_progress:
                    on_progress(report, job)
            _count_stored(store, devices, report)
            finished = True
    finally:
        threads.shutdown(wait=False, cancel_futures=True)  # no module starts after this
        for w in pool:  # a worker still importing is killed: its thread's wait ends at once
            w.close(kill=not finished)
        threads.shutdown(wait=True)
    return report


def _count_stored(store: Store, devices: tuple[str, ...], report: IngestReport) -> None:
    stored = store.kernel_devices()
    for d in devices:
        report.stored[d] = sum(d in stored.get(k, ()) for k in report.kernel_ids)
    report.stored["all"] = sum(set(devices) <= stored.get(k, set()) for k in report.kernel_ids)


@dataclass
class _JobResult:
    """What a worker made of one module, not yet committed: its records and counts."""

    kernels: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    counts: IngestReport = field(default_factory=IngestReport)


def _take(msg: tuple, job: ModuleJob, kernels: list, failures: list, report: IngestReport) -> None:
    """Account for one message of the worker about ``job``."""
    kind = msg[0]
    if kind == "kernel":
        kernels.append(msg[1])
        report.instances += 1
    elif kind == "failure":
        failures.append(msg[1])
    elif kind == "skip":
        report.skipped[msg[1]] += 1
        report.instances += msg[1] in ("codegen-failed", "source-unavailable")
    elif kind == "have":
        report.kernel_ids.add(msg[1])
        report.instances += 1
        report.already_stored += 1
    elif kind == "instance":
        report.instances += 1
        report.same_source += 1
    elif kind == "import-failed":
        failures.append(_file_failure(job, msg[1], msg[2]))
        report.import_failures[msg[1]] += 1
        report.kernels_in_failed_modules += len(job.defs)


def _gather(worker: _Worker, job: ModuleJob, timeout: float) -> _JobResult:
    """Run one module in ``worker`` (respawned if it hangs or dies) and collect what it sends."""
    out = _JobResult()
    counts = out.counts
    if job.error is not None:
        exc_type, _, message = job.error.partition(": ")
        out.failures.append(_file_failure(job, exc_type, message))
        counts.import_failures[exc_type] += 1
        counts.kernels_in_failed_modules += len(job.defs)
        return out
    lost = None  # why the worker stopped answering
    try:
        for msg in worker.stream(job, timeout):
            _take(msg, job, out.kernels, out.failures, counts)
    except WorkerHung:
        lost = ("Timeout", f"importing or generating code went silent for over {timeout:g} s; worker killed")
    except WorkerDied as exc:
        lost = ("WorkerCrash", f"the worker process died ({exc.reason}) while importing this module")
    if lost is not None:
        worker.stop(kill=True)
        out.failures.append(_file_failure(job, *lost))
        counts.import_failures[lost[0]] += 1
        if not out.kernels:
            counts.kernels_in_failed_modules += len(job.defs)
    return out


def _commit(store: Store, run_id: int, result: _JobResult, report: IngestReport, have: set, lock) -> None:
    """Store one module's records (one transaction) and add its counts to the run's report."""
    c = result.counts
    counts = store.write_batch(result.kernels, result.failures, run_id)
    report.instances += c.instances
    report.skipped.update(c.skipped)
    report.import_failures.update(c.import_failures)
    report.kernels_in_failed_modules += c.kernels_in_failed_modules
    report.same_source += c.same_source
    report.kernel_ids |= c.kernel_ids
    report.already_stored += c.already_stored + counts.duplicates
    report.new_kernels += counts.kernels
    report.new_artifacts_total += counts.artifacts
    with lock:
        for k in result.kernels:
            have.add(k.id)
    report.kernel_ids.update(k.id for k in result.kernels)
    for d, b in (counts.bytes or {}).items():
        report.new_bytes[d] = report.new_bytes.get(d, 0) + b
