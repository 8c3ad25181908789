"""`curator verify`: compile stored CPU/CUDA code with Warp's bundled Clang and NVRTC, many
kernels per translation unit, in long-lived worker processes; a failing batch is bisected down
to the kernel that broke it.  Results go to the store, so a rerun skips what is verified."""

from __future__ import annotations

import multiprocessing.util
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import cast

from curator.scale import PoolFactory, local_pool
from curator.store import Store
from curator.store.verify import Verification
from curator.verify.pool import COMPILE_TIMEOUT, Batch, BatchRunner, Faults, VerifyError
from curator.verify.sample import sample
from curator.warp import DEFAULT_ARCH
from curator.warp.modes import DEFAULT_MODE

BATCH_SIZE = 128
MAX_DIAGNOSTICS = 20_000  # characters of compiler output kept per result


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


def _init_worker(devices: tuple[str, ...], arch: int, mode: str = DEFAULT_MODE, root: str | None = None) -> None:
    from curator.warp import compile as warp_compile
    from curator.warp import init_warp

    # Ctrl-C reaches the whole process group: the command stops the pool and says so in one
    # line; a worker dying of it would print its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_warp()
    # the compilers' folders go in the run's folder (``root``, removed by the run when it ends: a
    # worker killed under a hang or dead of a compiler crash cannot remove its own); a Ray actor
    # on another machine has no such folder and uses its own temporary folder
    workdir = root if root and os.path.isdir(root) else None
    for device in devices:
        _compilers[device] = warp_compile.Compiler(device, arch, mode=mode, workdir=workdir)
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
    hung: int = 0  # of the failed: the compiler did not finish on them (their worker was killed)

    @property
    def done(self) -> int:
        return self.passed + self.failed


@dataclass
class Report(Faults):
    """Live figures of a verification, handed to the progress callback after every batch (and the
    worker deaths and hangs its BatchRunner counts)."""

    devices: dict[str, DeviceCounts] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (device, kernel id) found this run
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
            "hangs": self.hangs,
        }


class Verifier:
    """A pool of worker processes (spawned once, Warp initialised once each) that compiles
    batches and writes their results to the store as they finish.

    ``submit`` queues kernels and returns at once; ``collect`` stores what has finished
    (``block=True`` waits for everything); ``close`` does both and shuts the pool down.  The
    store is only touched from the calling thread.  Where batches run, and what happens when a
    worker crashes or hangs under one (the kernel found and recorded as a failed compile, every
    other kernel with its real result), is ``curator.verify.pool.BatchRunner``'s.
    """

    def __init__(
        self,
        store: Store,
        devices: tuple[str, ...],
        *,
        arch: int = DEFAULT_ARCH,
        workers: int = 1,
        batch_size: int = BATCH_SIZE,
        on_progress: Callable[[Report], None] | None = None,
        pool_factory: PoolFactory | None = None,
        mode: str = DEFAULT_MODE,
        compile_timeout: float = COMPILE_TIMEOUT,
    ):
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
        self._root = tempfile.mkdtemp(prefix="curator_verify_run_")  # the workers' folders (see _init_worker)
        self._runner = BatchRunner(
            self._task,
            workers=workers,
            pool_factory=pool_factory or local_pool,
            initializer=_init_worker,
            initargs=(devices, arch, mode, self._root),
            faults=self.report,
            compile_timeout=compile_timeout,
        )

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
        batches = []
        for device in self.devices:
            todo = self.pending(device, ids)
            batches += [Batch(device, todo[i : i + self.batch_size]) for i in range(0, len(todo), self.batch_size)]
        self._runner.add(batches)

    def _task(self, batch: Batch) -> tuple:
        """What a worker runs for ``batch``: its compile, or for a probe Warp's header alone."""
        if batch.probe_for is not None:
            return _compile_nothing, batch.device
        pieces = self.store.artifact_pieces(batch.ids, batch.device)
        return _verify_batch, batch.device, [(k, pieces[k]) for k in batch.ids if k in pieces]

    def collect(self, block: bool = False) -> None:
        """Store the results of finished batches; with ``block``, of all queued batches."""
        for batch, answer in self._runner.finished(block):
            fatal = batch.probe_for
            if fatal is None:
                # a compile worker's answer (BatchRunner.finished types it object)
                self._write(batch.device, *cast("tuple[str, str, list[KernelResult], int]", answer))
                continue
            c = self.report.devices[batch.device]  # a fresh process compiles: the crash (or hang) was the kernel's
            c.hung += fatal.hung
            c.crashed += not fatal.hung
            self._write(
                batch.device,
                c.compiler,
                c.options,
                [KernelResult(fatal.kernel_id, False, fatal.diagnostics, fatal.ms)],
                1,
            )

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
        """Stop the workers, dropping what has not finished (committed results stay), and remove
        their folders."""
        try:
            self._runner.shutdown(wait_for_workers)
        finally:
            shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:  # interrupted or failed: do not wait for batches still compiling
            self.shutdown(wait_for_workers=False)
        return False


def compile_stored(
    store: Store,
    devices: tuple[str, ...],
    *,
    fraction: float | None = None,
    seed: int = 0,
    arch: int = DEFAULT_ARCH,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
    arguments: dict | None = None,
    on_progress: Callable[[Report], None] | None = None,
    pool_factory: PoolFactory | None = None,
    mode: str = DEFAULT_MODE,
    ids: list[str] | None = None,
    skip: dict[str, set[str]] | None = None,
    compile_timeout: float = COMPILE_TIMEOUT,
) -> Report:
    """`curator verify`: the deterministic ``fraction`` sample (all kernels if None, or of
    ``ids``) of the store, for each device, recorded as a run (batches run where
    ``pool_factory`` puts them).  ``skip``: device -> kernels proven otherwise (a CPU run's
    compile), counted as verified before."""
    ids = sample(store.kernel_ids() if ids is None else ids, fraction, seed)
    verifier = Verifier(
        store,
        devices,
        arch=arch,
        workers=workers,
        batch_size=batch_size,
        on_progress=on_progress,
        pool_factory=pool_factory,
        mode=mode,
        compile_timeout=compile_timeout,
    )
    verifier.skip = skip or {}
    with store.recorded_run("verify", arguments or {}, verifier.report.as_dict), verifier:
        verifier.submit(ids)
    return verifier.report
