"""`curator verify`: compile stored CPU/CUDA code with Warp's bundled Clang and NVRTC, many
kernels per translation unit, in long-lived worker processes; a failing batch is bisected down
to the kernel that broke it.  Results go to the store, so a rerun skips what is verified."""

from __future__ import annotations

import hashlib
import multiprocessing.util
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from curator.scale import PoolFactory, local_pool
from curator.scale.isolated import IsolatedWorker, WorkerDied, WorkerStartError, exit_reason
from curator.store import Store
from curator.store.verify import Verification
from curator.warp import DEFAULT_ARCH
from curator.warp.modes import DEFAULT_MODE

BATCH_SIZE = 128
MAX_DIAGNOSTICS = 20_000  # characters of compiler output kept per result


class VerifyError(Exception):
    """Verification cannot go on for a reason the user must act on (one sentence)."""


# -- sampling ---------------------------------------------------------------------------
def in_sample(kernel_id: str, fraction: float, seed: int = 0) -> bool:
    """Whether a kernel belongs to the ``fraction`` sample of ``seed``: a hash of seed and id,
    so the choice is the same on every run and does not depend on what else is stored."""
    if fraction >= 1:
        return True
    digest = hashlib.blake2b(f"{seed}:{kernel_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < fraction * 2**64


def sample(ids: Iterable[str], fraction: float | None, seed: int = 0) -> list[str]:
    """The ids in the sample (all of them when ``fraction`` is None), in the given order."""
    return [k for k in ids if fraction is None or in_sample(k, fraction, seed)]


# -- compiling (worker side, also usable in-process) -----------------------------------------
@dataclass
class KernelResult:
    kernel_id: str
    ok: bool
    diagnostics: str
    ms: float


def compile_batch(compiler, items: list[tuple[str, dict]]) -> tuple[list[KernelResult], int]:
    """Compile ``items`` ((kernel id, pieces), ...) with a ``warp_compile.Compiler``: all in one
    translation unit, bisecting a failing batch; one kernel alone is compiled exactly as Warp
    would (``build.module_source``).  Returns the results and the number of compiler calls."""
    from curator.warp import build
    from curator.warp import compile as warp_compile

    if len(items) == 1:
        kid, pieces = items[0]
        r = compiler.compile(build.module_source(compiler.device, pieces))
        return [KernelResult(kid, r.ok, r.diagnostics[:MAX_DIAGNOSTICS], r.ms)], 1
    source, ranges = warp_compile.batch_source(compiler.device, [p for _, p in items])
    r = compiler.compile(source)
    if r.ok:
        notes = warp_compile.split_diagnostics(r.diagnostics, ranges)
        per = r.ms / len(items)
        results = [
            KernelResult(kid, True, note[:MAX_DIAGNOSTICS], per) for (kid, _), note in zip(items, notes, strict=True)
        ]
        return results, 1
    half = len(items) // 2
    left, n_left = compile_batch(compiler, items[:half])
    right, n_right = compile_batch(compiler, items[half:])
    return left + right, 1 + n_left + n_right


_compilers: dict = {}


def _init_worker(devices: tuple[str, ...], arch: int, mode: str = DEFAULT_MODE) -> None:
    from curator.warp import compile as warp_compile
    from curator.warp import init_warp

    # Ctrl-C reaches the whole process group: the command stops the pool and says so in one
    # line; a worker dying of it would print its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_warp()
    for device in devices:
        _compilers[device] = warp_compile.Compiler(device, arch, mode=mode)
    # A pool's worker ends with os._exit, which skips the compilers' own clean-up of their folders
    # (precompiled headers, objects): multiprocessing's exit finalizers still run.
    multiprocessing.util.Finalize(None, _close_compilers, exitpriority=10)


def _close_compilers() -> None:
    for compiler in _compilers.values():
        compiler.close()
    _compilers.clear()


def _verify_batch(device: str, items: list[tuple[str, dict]]) -> tuple[str, str, list[KernelResult], int]:
    compiler = _compilers[device]
    results, calls = compile_batch(compiler, items)
    return compiler.compiler, compiler.options, results, calls


def _compile_nothing(device: str) -> bool:
    """Compile Warp's header alone (no kernel): a worker that dies on this dies of anything."""
    from curator.warp import compile as warp_compile

    return _compilers[device].compile(warp_compile.batch_source(device, [])[0]).ok


# -- driving (main side) ----------------------------------------------------------------
@dataclass
class DeviceCounts:
    compiler: str = ""
    options: str = ""
    mode: str = DEFAULT_MODE
    selected: int = 0  # in the sample with code for this device
    skipped: int = 0  # verified before under the same compiler and options
    passed: int = 0
    failed: int = 0
    compile_calls: int = 0
    compile_ms: float = 0.0  # summed compiler time over all workers
    crashed: int = 0  # of the failed: the compiler crashed on them (their worker process died)

    @property
    def done(self) -> int:
        return self.passed + self.failed


@dataclass
class Report:
    """Live figures of a verification, handed to the progress callback after every batch."""

    devices: dict[str, DeviceCounts] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (device, kernel id) found this run
    worker_deaths: int = 0  # compiler worker processes (or pools) that died under a batch
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    @property
    def todo(self) -> int:
        return sum(c.selected - c.skipped for c in self.devices.values())

    @property
    def done(self) -> int:
        return sum(c.done for c in self.devices.values())

    def as_dict(self) -> dict:
        return {
            "seconds": round(self.seconds, 3),
            "devices": {d: vars(c) | {"done": c.done} for d, c in self.devices.items()},
            "failures": [list(f) for f in self.failures],
            "worker_deaths": self.worker_deaths,
        }


@dataclass
class _Batch:
    device: str
    ids: list[str]
    retried: bool = False  # one kernel run alone again after its process died
    crash: KernelResult | None = None  # a probe (no kernel): if it compiles, this crash is the kernel's


class Verifier:
    """A pool of worker processes (spawned once, Warp initialised once each) that compiles
    batches and writes their results to the store as they finish.

    ``submit`` queues kernels and returns at once; ``collect`` stores what has finished
    (``block=True`` waits for everything); ``close`` does both and shuts the pool down.  The
    store is only touched from the calling thread.

    A worker that dies (the compiler crashed: Warp's Clang aborts on some kernels at -O2) breaks
    the pool and fails every batch in flight.  Those batches are then rerun each alone in its own
    process (``IsolatedWorker``), so a death is that batch's: it is halved until the kernel the
    compiler crashes on is found, which is run once more in a fresh process and, if that dies too
    while a fresh process compiles Warp's header alone, recorded as a failed compile naming the
    signal.  Every other kernel gets its real result, and a fresh pool takes the rest of the queue.
    """

    def __init__(self, store: Store, devices: tuple[str, ...], *, arch: int = DEFAULT_ARCH, workers: int = 1,
                 batch_size: int = BATCH_SIZE, on_progress: Callable[[Report], None] | None = None,
                 pool_factory: PoolFactory | None = None, mode: str = DEFAULT_MODE):  # fmt: skip
        from curator.warp import compile as warp_compile

        self.store, self.devices, self.batch_size = store, devices, max(1, batch_size)
        self.on_progress = on_progress
        self.skip: dict[str, set[str]] = {}  # device -> kernels to count as verified already
        self.report = Report()
        try:
            identities = {d: warp_compile.compiler_identity(d, arch, mode) for d in devices}
        except (ValueError, RuntimeError) as exc:
            raise VerifyError(str(exc)) from None
        for d, (compiler, options) in identities.items():
            self.report.devices[d] = DeviceCounts(compiler=compiler, options=options, mode=mode)
        self._workers = max(1, workers)
        self._max_in_flight = self._workers * 2
        self._queue: list[_Batch] = []
        self._in_flight: dict[Future, tuple[_Batch, IsolatedWorker | None]] = {}  # None: on the pool
        self._suspects: list[_Batch] = []  # batches in flight when the pool died: each to run alone
        self._idle: list[IsolatedWorker] = []
        self._init_args = (devices, arch, mode)
        self._pool_factory = pool_factory or local_pool
        self._pool: Executor | None = self._new_pool()

    def _new_pool(self) -> Executor:
        return self._pool_factory(self._workers, _init_worker, self._init_args)

    def pending(self, device: str, ids: Iterable[str]) -> list[str]:
        """Those of ``ids`` with code for ``device`` not yet verified under this compiler (nor
        in ``self.skip[device]``)."""
        c = self.report.devices[device]
        ids = list(ids)
        done = self.store.verified_keys(device, c.compiler, c.options, ids) | self.skip.get(device, set())
        have = self.store.artifact_ids(device, ids)
        todo = [k for k in ids if k in have]
        c.selected += len(todo)
        fresh = [k for k in todo if k not in done]
        c.skipped += len(todo) - len(fresh)
        return fresh

    def submit(self, ids: Iterable[str]) -> None:
        """Queue kernels for every device (skipping what is verified already)."""
        ids = list(ids)
        for device in self.devices:
            todo = self.pending(device, ids)
            for start in range(0, len(todo), self.batch_size):
                self._queue.append(_Batch(device, todo[start : start + self.batch_size]))
        self._fill()

    def _items(self, batch: _Batch) -> list[tuple[str, dict]]:
        pieces = self.store.artifact_pieces(batch.ids, batch.device)
        return [(k, pieces[k]) for k in batch.ids if k in pieces]

    def _fill(self) -> None:
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
            try:
                fut = self._pool.submit(_verify_batch, batch.device, self._items(batch))
            except BrokenProcessPool:  # died before its batches in flight came back
                self._queue.insert(0, batch)
                self._pool_died()
                return
            self._in_flight[fut] = (batch, None)

    def _isolate(self) -> None:
        alone = sum(worker is not None for _, worker in self._in_flight.values())
        while self._suspects and alone < self._workers:
            batch = self._suspects.pop(0)
            worker = self._idle.pop() if self._idle else IsolatedWorker(_init_worker, self._init_args)
            if batch.crash is None:
                fut = worker.submit(_verify_batch, batch.device, self._items(batch))
            else:
                fut = worker.submit(_compile_nothing, batch.device)
            self._in_flight[fut] = (batch, worker)
            alone += 1

    def collect(self, block: bool = False) -> None:
        """Store the results of finished batches; with ``block``, of all queued batches."""
        while self._in_flight:
            done, _ = wait(self._in_flight, timeout=None if block else 0, return_when=FIRST_COMPLETED)
            if not done:
                return
            for fut in done:
                batch, worker = self._in_flight.pop(fut)
                if worker is not None and worker.alive:
                    self._idle.append(worker)
                elif worker is not None:
                    worker.close(wait=False)
                try:
                    answer = fut.result()
                except BrokenProcessPool:
                    self._suspects.append(batch)
                    self._pool_died()
                    continue
                except WorkerDied as exc:
                    self._died_alone(batch, exc)
                    continue
                except WorkerStartError as exc:
                    raise VerifyError(f"a compiler worker process could not start: {exc}") from None
                if batch.crash is None:
                    self._write(batch.device, *answer)
                else:  # a fresh process compiles: the crash was the kernel's
                    c = self.report.devices[batch.device]
                    c.crashed += 1
                    self._write(batch.device, c.compiler, c.options, [batch.crash], 1)
            self._fill()

    def _pool_died(self) -> None:
        """The pool broke (its futures all fail at once): count it once and drop it."""
        if self._pool is not None:
            self.report.worker_deaths += 1
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _died_alone(self, batch: _Batch, exc: WorkerDied) -> None:
        """A batch's own process died: halve it; one kernel is run once more in a fresh process (a
        death of something else, such as memory, should not fail it), then a probe decides."""
        self.report.worker_deaths += 1
        reason = exit_reason(exc.exitcode)
        if exc.starting:
            raise VerifyError(f"a compiler worker process died while starting ({reason})")
        if batch.crash is not None:
            raise VerifyError(f"compiler worker processes die even compiling no kernel ({reason})")
        if len(batch.ids) > 1:
            half = len(batch.ids) // 2
            self._suspects[:0] = [_Batch(batch.device, batch.ids[:half]), _Batch(batch.device, batch.ids[half:])]
        elif not batch.retried:
            self._suspects.insert(0, _Batch(batch.device, batch.ids, retried=True))
        else:
            diagnostics = (f"the compiler crashed: {reason}; the worker process compiling this kernel alone "
                           "died (twice, each time in a fresh process)")  # fmt: skip
            crash = KernelResult(batch.ids[0], False, diagnostics, 0.0)
            self._suspects.insert(0, _Batch(batch.device, [], crash=crash))

    def _write(self, device: str, compiler: str, options: str, results: list[KernelResult], calls: int) -> None:
        c = self.report.devices[device]
        self.store.record_verifications(
            Verification(r.kernel_id, device, compiler, options, r.ok, r.diagnostics, round(r.ms, 3), c.mode)
            for r in results
        )
        c.compile_calls += calls
        for r in results:
            c.compile_ms += r.ms
            if r.ok:
                c.passed += 1
            else:
                c.failed += 1
                self.report.failures.append((device, r.kernel_id))
        if self.on_progress:
            self.on_progress(self.report)

    def close(self, wait_for_all: bool = True) -> Report:
        try:
            if wait_for_all:
                self.collect(block=True)
        finally:
            self.shutdown()
        return self.report

    def shutdown(self, wait_for_workers: bool = True) -> None:
        """Stop the workers, dropping what has not finished (committed results stay)."""
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

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:  # interrupted or failed: do not wait for batches still compiling
            self.shutdown(wait_for_workers=False)
        return False


def run(store: Store, devices: tuple[str, ...], *, fraction: float | None = None, seed: int = 0,
        arch: int = DEFAULT_ARCH, workers: int = 1, batch_size: int = BATCH_SIZE,
        arguments: dict | None = None, on_progress: Callable[[Report], None] | None = None,
        pool_factory: PoolFactory | None = None, mode: str = DEFAULT_MODE,
        ids: list[str] | None = None, skip: dict[str, set[str]] | None = None) -> Report:  # fmt: skip
    """`curator verify`: the deterministic ``fraction`` sample (all kernels if None, or of
    ``ids``) of the store, for each device, recorded as a run (batches run where
    ``pool_factory`` puts them).  ``skip``: device -> kernels proven otherwise (a CPU run's
    compile), counted as verified before."""
    ids = sample(store.kernel_ids() if ids is None else ids, fraction, seed)
    verifier = Verifier(store, devices, arch=arch, workers=workers, batch_size=batch_size, on_progress=on_progress,
                        pool_factory=pool_factory, mode=mode)  # fmt: skip
    verifier.skip = skip or {}
    with store.recorded_run("verify", arguments or {}, verifier.report.as_dict), verifier:
        verifier.submit(ids)
    return verifier.report
