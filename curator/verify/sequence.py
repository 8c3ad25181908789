"""`curator verify` as one run: CPU runs first (a run compiles the CPU code through Warp's own JIT
and checks it is the stored code), then compiles of what the runs did not prove, then the
CPU-vs-GPU launches; what it tells along the way goes to an ``Observer``."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from curator.scale import PoolFactory
from curator.store import Store
from curator.verify.compile import BATCH_SIZE, Report, compile_stored
from curator.verify.pool import COMPILE_TIMEOUT
from curator.verify.sample import sample
from curator.warp import DEFAULT_ARCH
from curator.warp.modes import DEFAULT_MODE

if TYPE_CHECKING:
    from curator.verify.executions import ExecutionReport


@dataclass
class Options:
    """What a verification does (the command's options)."""

    devices: tuple[str, ...] = ("cpu", "cuda")
    fraction: float | None = None
    seed: int = 0
    arch: int = DEFAULT_ARCH
    workers: int = 1
    batch_size: int = BATCH_SIZE
    mode: str = DEFAULT_MODE
    compile_timeout: float = COMPILE_TIMEOUT
    compile: bool = True  # False: --no-compile
    cpu_runs: bool = False  # CPU runs (--execute)
    timeout: float = 60.0  # seconds one CPU run may take
    launch: bool = False  # CPU-vs-GPU launches (--run)
    trust: bool = False  # run ingested kernels' Python too
    pool_factory: PoolFactory | None = None
    arguments: dict = field(default_factory=dict)  # recorded with each run


class Observer:
    """Hooks for what a verification tells as it goes; each does nothing here."""

    @contextlib.contextmanager
    def running(self, total: int) -> Iterator[Callable | None]:
        """Around the CPU runs of ``total`` kernels: yields their progress callback."""
        yield None

    def ran(self, report) -> None:
        """The CPU runs ended (an ``ExecutionReport``)."""

    @contextlib.contextmanager
    def compiling(self) -> Iterator[Callable | None]:
        """Around the compiles: yields their progress callback."""
        yield None

    def compiled(self, report: Report) -> None:
        """The compiles ended."""

    def no_gpu(self) -> None:
        """--run on a machine without a CUDA driver or GPU: the launches are skipped."""

    def launched(self, result) -> None:
        """One kernel's CPU-vs-GPU launches ended (a ``LaunchResult``)."""

    def launches_done(self, counts: Counter) -> None:
        """Every launch ended: kernels by status."""


@dataclass
class Outcome:
    runs: ExecutionReport | None = None
    compiles: Report | None = None
    launches: Counter | None = None

    @property
    def failed(self) -> int:
        """Kernels that failed: a CPU run that did not run (refused and not-runnable aside), or a compile."""
        failed = sum(1 for _, status, _ in self.runs.failures if status != "ran") if self.runs else 0
        return failed + (sum(c.failed for c in self.compiles.devices.values()) if self.compiles else 0)


def run(store: Store, ids: list[str], options: Options, observer: Observer | None = None) -> Outcome:
    """Verify the ``options.fraction`` sample of ``ids``: CPU runs, compiles, launches, each recorded
    as a run of the store; a rerun skips what is proven."""
    observer = observer or Observer()
    outcome, skip = Outcome(), {}
    if options.cpu_runs:
        outcome.runs = _runs(store, ids, options, observer)
        skip["cpu"] = store.run_compiled_keys(ids)
    if options.compile:
        with observer.compiling() as on_progress:
            outcome.compiles = compile_stored(
                store,
                options.devices,
                fraction=options.fraction,
                seed=options.seed,
                arch=options.arch,
                workers=options.workers,
                batch_size=options.batch_size,
                arguments=options.arguments,
                on_progress=on_progress,
                mode=options.mode,
                pool_factory=options.pool_factory,
                ids=ids,
                skip=skip,
                compile_timeout=options.compile_timeout,
            )
        observer.compiled(outcome.compiles)
    if options.launch:
        outcome.launches = _launches(store, ids, options, observer)
    return outcome


def _runs(store: Store, ids: list[str], options: Options, observer: Observer):
    from curator.verify import executions

    ids = sample(ids, options.fraction, options.seed)
    with observer.running(len(ids)) as on_progress:
        report = executions.run(
            store,
            ids,
            workers=options.workers,
            seed=options.seed,
            timeout=options.timeout,
            trust_real=options.trust,
            arguments=options.arguments | {"command": "execute"},
            on_progress=on_progress,
        )
    observer.ran(report)
    return report


def _launches(store: Store, ids: list[str], options: Options, observer: Observer) -> Counter | None:
    from curator.verify import differential
    from curator.warp import launch

    if not launch.cuda_available():
        observer.no_gpu()
        return None
    compiled = store.verified_ids("cpu") & store.verified_ids("cuda")
    ids = sample([k for k in ids if k in compiled], options.fraction, options.seed)
    counts: Counter = Counter()
    for r in differential.differential(
        store, ids, seed=options.seed, trust_real=options.trust, workers=options.workers
    ):
        counts[r.status] += 1
        observer.launched(r)
    observer.launches_done(counts)
    return counts
