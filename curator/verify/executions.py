"""`curator verify --execute`: launch stored kernels on the CPU in isolated long-lived worker
processes (``curator.warp.execute`` does one kernel); a crash, floating point trap or hang is
recorded for that kernel, the worker replaced, and the run goes on."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import cast

from curator.errors import describe
from curator.scale.supervisor import Worker, WorkerDied
from curator.store import Store
from curator.store.executions import ExecutionRow
from curator.verify.pool import VerifyError
from curator.verify.sources import executable_source

DEFAULT_TIMEOUT = 60.0  # seconds one kernel may take (compile, launches, adjoint check)
STARTUP_TIMEOUT = 120.0  # seconds a worker may take to start (import and initialise Warp)
RUN_OPT = 0  # Warp's optimisation level for the CPU module of a run (see docs/verification.md)


BATCH_SIZE = 128  # kernels a worker compiles into one object before running them one by one
BATCH_COMPILE_TIMEOUT = 120.0  # seconds a worker may take to compile a batch (on top of --timeout)


_compiler = None  # the worker's Compiler (set by _init_worker)


def _init_worker(opt: int) -> None:
    """A worker: own kernel cache in its private folder (Warp's own temporary folders, its
    precompiled headers, go there too: this process ends with os._exit, or killed, and Warp
    cannot remove them then), Warp initialised once, a compiler kept for its batches."""
    global _compiler

    import warp as wp

    from curator.warp import init_warp
    from curator.warp.compile import DRIVER_FLAGS, Compiler

    work = tempfile.gettempdir()
    cache = os.path.join(work, "cache")
    os.makedirs(cache)
    wp.config.kernel_cache_dir = cache
    wp.config.optimization_level = opt
    init_warp()
    # -O0: the run's level (RUN_OPT); the driver's two flags leave the object code as it is
    _compiler = Compiler("cpu", mode="fast", workdir=work, extra_flags=DRIVER_FLAGS)


def run_batch(items: list[tuple[dict, dict]], seed: int, grad: bool):
    """One batch of kernels compiled together (``curator.warp.jitbatch``) and run one by one:
    yields (result, whether the batch object served it) for each."""

    from curator.warp.execute import NotRunnable, execute
    from curator.warp.jitbatch import BatchObject

    assert _compiler is not None, "run_batch runs in a worker that _init_worker set up"
    batch = BatchObject(_compiler, [p for _, p in items], tempfile.gettempdir()) if len(items) > 1 else None
    try:
        for row, pieces in items:
            served = batch.served if batch else 0
            try:
                with batch.serving(pieces) if batch else contextlib.nullcontext():
                    result = vars(execute(row, pieces, seed, grad=grad))
            except NotRunnable as exc:
                result = {"status": "not-runnable", "message": str(exc)}
            except Exception as exc:  # the kernel's failure, recorded with its message
                result = {"status": "failed", "message": describe(exc, 2000)}
            yield result, batch is not None and batch.served > served
    finally:
        if batch:
            batch.close()


def warp_tag(opt: int = RUN_OPT) -> str:
    from curator.warp import warp_version

    return f"warp {warp_version()} -O{opt}"


@dataclass
class _Slot:
    worker: Worker
    job: tuple | None = None  # (kernel id, category) in flight
    batch: list = field(default_factory=list)  # (kernel id, category) sent, job first, not yet reported
    deadline: float = 0.0


@dataclass
class ExecutionReport:
    counts: dict[str, int] = field(default_factory=dict)  # status -> kernels
    grads: dict[str, int] = field(default_factory=dict)  # grad -> kernels
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (kernel id, status, message)
    skipped: int = 0
    started: float = field(default_factory=time.perf_counter)

    def as_dict(self) -> dict:
        return {
            "counts": self.counts,
            "grads": self.grads,
            "skipped": self.skipped,
            "seconds": round(time.perf_counter() - self.started, 3),
        }


def _compile_result(row: ExecutionRow, batched: bool = False):
    """The CPU compile a run proves: Warp's JIT generated the module's C++, the .cpp it compiled
    is the stored code (pair check), and the object it loaded came from Warp's Clang at RUN_OPT
    (its own compile, or the worker's batch compile of the stored code: ``batched``), so the
    stored CPU code compiles (mode "run").  A build error is a failed compile; other outcomes say
    nothing about compiling."""
    from curator.store.verify import Verification
    from curator.warp import compile as warp_compile
    from curator.warp.modes import RUN_MODE

    built = row.status == "ran" and row.pair_ok
    broken = row.status == "failed" and "kernel build failed" in (row.message or "")
    if not (built or broken):
        return None
    compiler, options = warp_compile.compiler_identity("cpu", mode="fast")
    options = options.replace("-O0", f"-O{RUN_OPT}", 1)
    options += f" warp-jit batch {' '.join(warp_compile.DRIVER_FLAGS)}" if batched else " warp-jit"
    return Verification(row.kernel_id, "cpu", compiler, options, bool(built), row.message, row.ms, RUN_MODE)


class Executor:
    """``workers`` worker processes; ``run(ids)`` launches each kernel once and stores results."""

    def __init__(
        self,
        store: Store,
        *,
        workers: int = 1,
        seed: int = 0,
        timeout: float = DEFAULT_TIMEOUT,
        grad: bool = True,
        trust_real: bool = False,
        on_progress: Callable | None = None,
    ):
        self.store, self.seed, self.timeout, self.grad, self.trust = store, seed, timeout, grad, trust_real
        self.workers, self.on_progress = max(1, workers), on_progress
        self.batch_size = BATCH_SIZE
        self._queue: list[str] = []
        self.report = ExecutionReport()
        self.tag = warp_tag()
        self._slots: list[_Slot] = []

    def _spawn(self) -> _Slot:
        quiet = not os.environ.get("CURATOR_EXEC_VERBOSE")  # kernels print, Clang warns: keep the output clean
        worker = Worker(_init_worker, (RUN_OPT,), quiet=quiet, private_tmp=True)
        return _Slot(worker, deadline=time.monotonic() + STARTUP_TIMEOUT)

    def run(self, ids: Iterable[str]) -> ExecutionReport:
        ids = list(ids)
        done = self.store.executed_ids("cpu", self.seed, self.tag, ids)
        self.report.skipped = len(done)
        queue = [k for k in ids if k not in done]
        refused = []
        for kid in list(queue):
            k = self.store.get_kernel(kid)
            why = executable_source(k, self.trust) if k else "no such kernel"
            if why:
                refused.append(ExecutionRow(kid, "cpu", self.seed, self.tag, "refused", why))
                queue.remove(kid)
        self._write(refused)
        self._queue = queue
        self._slots = [self._spawn() for _ in range(min(self.workers, len(queue)))]
        try:
            while self._queue or any(s.job for s in self._slots):
                self._dispatch()
                self._collect()
        finally:
            self.close()
        return self.report

    def _batch_size(self) -> int:
        # Small remainders are spread over the workers rather than left to one.
        share = -(-len(self._queue) // max(1, len(self._slots)))
        return max(1, min(self.batch_size, share))

    def _dispatch(self) -> None:
        for slot in self._slots:
            if not (slot.worker.ready and slot.job is None and self._queue):
                continue
            ids = [self._queue.pop(0) for _ in range(min(self._batch_size(), len(self._queue)))]
            pieces = self.store.artifact_pieces(ids, "cpu")
            items, batch = [], []
            for kid in ids:
                if kid not in pieces:
                    self._write([ExecutionRow(kid, "cpu", self.seed, self.tag, "not-runnable", "no CPU code stored")])
                    continue
                row = self.store.get_kernel(kid)
                assert row is not None, "artifact_pieces gave a kernel the store has"
                items.append((row, pieces[kid]))
                batch.append((kid, row["category"]))
            if not items:
                continue
            slot.worker.send(run_batch, items, self.seed, self.grad)
            slot.batch, slot.job = batch, batch[0]
            slot.deadline = time.monotonic() + self.timeout + (BATCH_COMPILE_TIMEOUT if len(items) > 1 else 0)

    def _collect(self) -> None:
        busy: dict = {s.worker.connection: s for s in self._slots if s.job or not s.worker.ready}
        if not busy:
            return
        soonest = min(s.deadline for s in busy.values())
        for conn in wait(list(busy), timeout=max(0.0, soonest - time.monotonic())):
            slot = busy[conn]
            msg = slot.worker.receive()
            if msg is None or msg.kind in ("ready", "end"):
                continue
            if msg.kind == "item":
                result, batched = cast(tuple, msg.value)  # run_batch yields (result, batched)
                self._finish(slot, result, batched)
            elif isinstance(msg.value, WorkerDied):
                self._replace(slot, "crashed", f"the worker died: {msg.value.reason}")
            else:  # the initializer or the batch itself raised (not one kernel: those are items)
                self._replace(slot, "failed", f"the worker failed: {msg.value}")
        now = time.monotonic()
        for slot in list(self._slots):
            if now > slot.deadline and (slot.job or not slot.worker.ready):
                self._replace(slot, "timeout", f"no result within {self.timeout:g} s (a hang or an endless loop)")

    def _finish(self, slot: _Slot, result: dict, batched: bool) -> None:
        kid, _ = slot.batch.pop(0)
        slot.job = slot.batch[0] if slot.batch else None
        slot.deadline = time.monotonic() + self.timeout
        row = ExecutionRow(kid, "cpu", self.seed, self.tag, **result)
        self._write([row])
        compiled = _compile_result(row, batched)
        if compiled is not None:
            self.store.record_verifications([compiled])

    def _replace(self, slot: _Slot, status: str, message: str) -> None:
        """A worker died or hung: the kernel it was on gets ``status``; the rest of its batch goes
        back to the front of the queue, for a fresh worker."""
        slot.worker.close(wait=False)
        if slot.job:
            self._write([ExecutionRow(slot.job[0], "cpu", self.seed, self.tag, status, message)])
            self._queue[:0] = [kid for kid, _ in slot.batch[1:]]
        elif not slot.worker.ready:
            raise VerifyError(f"a CPU run worker could not start: {message}")
        self._slots[self._slots.index(slot)] = self._spawn()

    def _write(self, rows: list[ExecutionRow]) -> None:
        if not rows:
            return
        self.store.record_executions(rows)
        for r in rows:
            self.report.counts[r.status] = self.report.counts.get(r.status, 0) + 1
            if r.grad:
                self.report.grads[r.grad] = self.report.grads.get(r.grad, 0) + 1
            if r.status not in ("ran", "not-runnable") or r.grad == "fail":
                self.report.failures.append((r.kernel_id, r.status, r.message or r.grad_note or ""))
        if self.on_progress:
            self.on_progress(self.report)

    def close(self) -> None:
        for slot in self._slots:
            slot.worker.close(wait=True)
        self._slots = []


def run(
    store: Store,
    ids: Iterable[str],
    *,
    workers: int = 1,
    seed: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
    grad: bool = True,
    trust_real: bool = False,
    arguments: dict | None = None,
    on_progress: Callable | None = None,
) -> ExecutionReport:
    """Launch each kernel of ``ids`` on the CPU (skipping those already run with this seed and
    Warp), recorded as a run."""
    ex = Executor(
        store, workers=workers, seed=seed, timeout=timeout, grad=grad, trust_real=trust_real, on_progress=on_progress
    )
    with store.recorded_run("execute", arguments or {}, ex.report.as_dict):
        return ex.run(ids)
