"""Where the batches of `curator verify` run: a pool of compiler workers (local processes, or Ray
actors with --ray), a deadline on each batch, and what happens when a worker dies or hangs under
one: the batch is halved down to the kernel the compiler dies on, which is tried once more and
then, if a probe still compiles, recorded as a failed compile (``Fatal``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from curator.errors import CuratorError
from curator.scale import PoolFactory, PoolWorkerDied, kill_worker
from curator.scale.supervisor import Worker, WorkerDied, WorkerStartError

# A batch's compile past compile_limit counts as hung (its worker is killed): a kernel takes ~0.2 s
# compiled in a batch at -O0 (3x that at -O2), ~0.01 s through NVRTC's front end; generous, since
# the worker also bisects a failing batch and a busy machine is slower.
COMPILE_TIMEOUT = 60.0
COMPILE_S_PER_KERNEL = 2.0


@dataclass
class Faults:
    """What a BatchRunner counts as it goes: compiler worker processes (or pools) that died under
    a batch, and batches past their limit (their worker killed)."""

    worker_deaths: int = 0
    hangs: int = 0


class VerifyError(CuratorError):
    """Verification cannot go on for a reason the user must act on (one sentence)."""


def compile_limit(kernels: int, floor: float = COMPILE_TIMEOUT) -> float:
    """Seconds a worker may take over a batch of ``kernels`` before it counts as hung: ``floor``
    (the first compile in a process also builds the precompiled header), or COMPILE_S_PER_KERNEL
    a kernel if that is more (a failing batch is also bisected in the worker)."""
    return max(floor, COMPILE_S_PER_KERNEL * kernels)


@dataclass
class Fatal:
    """A kernel whose worker died (or was killed past its limit) twice, compiling it alone."""

    kernel_id: str
    diagnostics: str
    ms: float  # the last attempt's wall time
    hung: bool  # killed past the limit, not crashed


@dataclass
class Batch:
    device: str
    ids: list[str]
    retried: bool = False  # one kernel run alone again after its process died or hung
    probe_for: Fatal | None = None  # a probe (no kernel): if it compiles, this failure is the kernel's
    hung: float | None = None  # its worker was killed past this many seconds (the batch's limit)
    started: float | None = None  # when its compile began, as far as this process can tell (monotonic)


class BatchRunner:
    """Runs batches (``task(batch)`` gives what a worker calls for it) on a pool of ``workers``,
    at most twice that many in flight, and hands back each that finished with its answer.

    A worker that dies (the compiler crashed: Warp's Clang aborts on some kernels at -O2), or that
    is killed because its batch ran past ``compile_limit`` (the compiler hangs), takes its batch
    with it.  That batch is halved until the kernel it dies on is found, which is run once more in
    another process and, if that dies too, a probe (a batch of no kernel) is run: if it compiles,
    the probe comes back with the kernel's ``Fatal``; if it dies too, VerifyError (no kernel is
    blamed).  A pool that goes on without a dead worker (a RayPool made with ``rerun_dead=False``:
    the task fails with PoolWorkerDied) runs the halves itself.  A local ProcessPoolExecutor
    cannot: a death breaks it and fails every batch in flight (and a hang can only be stopped by
    killing all its processes), so those batches are rerun each alone in its own process
    (``Worker``: a death is that batch's), and then a fresh pool takes the rest.
    """

    def __init__(
        self,
        task: Callable[[Batch], tuple],
        *,
        workers: int,
        pool_factory: PoolFactory,
        initializer: Callable,
        initargs: tuple,
        faults: Faults,
        compile_timeout: float = COMPILE_TIMEOUT,
    ):
        self._task, self._workers, self._faults = task, max(1, workers), faults
        self._pool_factory, self._init = pool_factory, (initializer, initargs)
        self.compile_timeout = compile_timeout
        self._max_in_flight = self._workers * 2
        self._queue: list[Batch] = []
        self._in_flight: dict[Future, tuple[Batch, Worker | None]] = {}  # None: on the pool
        self._suspects: list[Batch] = []  # batches in flight when the pool died: each to run alone
        self._idle: list[Worker] = []
        self._pool: Executor | None = self._new_pool()

    def _new_pool(self) -> Executor:
        # a task whose worker died fails (PoolWorkerDied) instead of running again: it is bisected
        return self._pool_factory(self._workers, *self._init, rerun_dead=False)

    def add(self, batches: list[Batch]) -> None:
        self._queue.extend(batches)
        self.fill()

    def fill(self) -> None:
        if self._pool is None:  # it died: the batches it had run alone first, then a fresh pool
            self._isolate()
            if self._in_flight or not self._queue:
                return
            for worker in self._idle:
                worker.close()
            self._idle.clear()
            self._pool = self._new_pool()
        while self._queue and len(self._in_flight) < self._max_in_flight:
            batch = self._queue.pop(0)
            batch.started = None
            try:
                fut = self._pool.submit(*self._task(batch))
            except BrokenProcessPool:  # died before its batches in flight came back
                self._queue.insert(0, batch)
                self._pool_died()
                return
            self._in_flight[fut] = (batch, None)

    def _isolate(self) -> None:
        alone = sum(worker is not None for _, worker in self._in_flight.values())
        while self._suspects and alone < self._workers:
            batch = self._suspects.pop(0)
            worker = self._idle.pop() if self._idle else Worker(*self._init)
            batch.started = time.monotonic()
            self._in_flight[worker.submit(*self._task(batch))] = (batch, worker)
            alone += 1

    def finished(self, block: bool = False) -> Iterator[tuple[Batch, object]]:
        """(batch, its worker's answer) for each batch that finished, as they do; with ``block``,
        until none is left.  A probe comes back only when it compiled."""
        while self._in_flight:
            done, _ = wait(self._in_flight, timeout=self._until_deadline() if block else 0, return_when=FIRST_COMPLETED)
            self._stop_hung()
            if not done:
                if block:
                    continue
                return
            for fut in done:
                batch, worker = self._in_flight.pop(fut)
                start = self._start_of(batch, worker)
                ms = 0.0 if start is None else 1000 * (time.monotonic() - start)  # this attempt's time
                if worker is not None and worker.alive:
                    self._idle.append(worker)
                elif worker is not None:
                    worker.close(wait=False)
                try:
                    answer = fut.result()
                except BrokenProcessPool:
                    self._pool_died()
                    if batch.hung:  # it ran past its limit: its own fault, the others' deaths are not theirs
                        self._died(batch, None, ms)
                    else:
                        self._suspects.append(batch)
                    continue
                except WorkerDied as exc:  # its own worker: isolated, or one of a pool that goes on
                    self._faults.worker_deaths += 1
                    if isinstance(exc, PoolWorkerDied) and exc.seconds is not None:  # the pool knows it better
                        ms = 1000 * exc.seconds
                    self._died(batch, exc, ms)
                    continue
                except WorkerStartError as exc:
                    raise VerifyError(f"a compiler worker process could not start: {exc}") from None
                yield batch, answer
            self.fill()

    # -- deadlines -----------------------------------------------------------------------
    def _start_of(self, batch: Batch, worker: Worker | None) -> float | None:
        """When ``batch``'s compile began: for a batch alone, when its process was ready (or was
        given it, while starting); for a pool's, once seen running (``_start_clocks``)."""
        if worker is not None and worker.ready_at is not None and batch.started is not None:
            return max(batch.started, worker.ready_at)
        return batch.started

    def _start_clocks(self) -> None:
        """Start the clock of the pool's batches that are running.  A pool runs its tasks in the
        order given, one a worker: a batch runs once it is one of the ``workers`` oldest not
        finished and its future says so (a ProcessPoolExecutor marks a few more running than it
        runs; a RayPool marks those given to an actor)."""
        now = time.monotonic()
        on_pool = [(fut, batch) for fut, (batch, worker) in self._in_flight.items() if worker is None]
        for fut, batch in on_pool[: self._workers]:
            if batch.started is None and fut.running():
                batch.started = now

    def _limit(self, batch: Batch) -> float:
        return compile_limit(len(batch.ids), self.compile_timeout)

    def _until_deadline(self) -> float:
        """Seconds to the first deadline of a batch in flight; a batch not yet seen running is
        looked at again within a second."""
        self._start_clocks()
        now, soonest = time.monotonic(), float("inf")
        for batch, worker in self._in_flight.values():
            start = self._start_of(batch, worker)
            soonest = min(soonest, 1.0 if start is None else start + self._limit(batch) - now)
        return max(0.0, soonest)

    def _stop_hung(self) -> None:
        """Kill the worker of every batch past its limit: the batch then fails as one whose worker
        died (on a local pool, every batch in flight fails; the others are rerun alone)."""
        self._start_clocks()
        now = time.monotonic()
        for fut, (batch, worker) in list(self._in_flight.items()):
            start = self._start_of(batch, worker)
            if batch.hung is None and start is not None and now - start > self._limit(batch) and not fut.done():
                batch.hung = self._limit(batch)
                self._faults.hangs += 1
                if worker is not None:
                    worker.close(wait=False)
                elif self._pool is not None:
                    kill_worker(self._pool, fut)

    # -- deaths --------------------------------------------------------------------------
    def _pool_died(self) -> None:
        """The pool broke (its futures all fail at once): count it once and drop it."""
        if self._pool is not None:
            self._faults.worker_deaths += 1
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _died(self, batch: Batch, exc: WorkerDied | None, ms: float) -> None:
        """A batch's own process died (``exc``) or was killed past its limit (``batch.hung``):
        halve it; one kernel is run once more in another process (a death of something else, such
        as memory or a lost node, should not fail it), then a probe decides.  The halves run on the
        pool if it goes on without the dead worker (PoolWorkerDied), else each alone."""
        within = f"within {batch.hung:g} s" if batch.hung else ""
        reason = exc.reason if exc is not None else "killed"
        if exc is not None and exc.starting:
            raise VerifyError(
                f"a compiler worker process did not start {within}"
                if within
                else f"a compiler worker process died while starting ({reason})"
            )
        if batch.probe_for is not None:
            what = "hang" if within else "die"
            raise VerifyError(
                f"compiler worker processes {what} even compiling no kernel "
                f"({f'no answer {within}' if within else reason})"
            )
        then = self._queue if isinstance(exc, PoolWorkerDied) else self._suspects
        if len(batch.ids) > 1:
            half = len(batch.ids) // 2
            then[:0] = [Batch(batch.device, batch.ids[:half]), Batch(batch.device, batch.ids[half:])]
        elif not batch.retried:
            then.insert(0, Batch(batch.device, batch.ids, retried=True))
        else:
            what = (
                f"the compiler did not finish {within}; the worker process compiling this kernel alone was killed"
                if within
                else f"the compiler crashed: {reason}; the worker process compiling this kernel alone died"
            )
            fatal = Fatal(batch.ids[0], f"{what} (twice, each time in another process)", ms, bool(within))
            then.insert(0, Batch(batch.device, [], probe_for=fatal))

    def shutdown(self, wait_for_workers: bool = True) -> None:
        """Stop the workers, dropping what has not finished."""
        self._queue.clear()
        self._suspects.clear()
        for fut, (_, worker) in self._in_flight.items():
            fut.cancel()
            if worker is not None:
                worker.close(wait=False)
        self._in_flight.clear()
        for worker in self._idle:
            worker.close(wait=wait_for_workers)
        self._idle.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=wait_for_workers, cancel_futures=True)
