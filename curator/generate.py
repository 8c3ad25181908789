"""`curator generate`: plan kernels from a seed, run Warp codegen for them in long-lived worker
processes, and store each batch atomically.  Reruns skip what is stored (content-hash ids)."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from curator.errors import CuratorError
from curator.neardup import sign_record
from curator.records import MIB, FailureRecord, KernelRecord, kernel_id, kernel_seed, make_record
from curator.scale import PoolFactory, in_shard, local_pool

if TYPE_CHECKING:  # workers import this module; the store is the main process's
    from curator.store import Store

BATCH_SIZE = 16
MIN_ATTEMPTS_FOR_FAILURE_STOP = 200
MAX_FAILURE_SHARE = 0.05
# A run that keeps producing nothing new (every kernel a duplicate) gives up after this many.
MAX_FRUITLESS = 20_000


class GenerateError(CuratorError):
    """The run stopped for a reason the user must act on (one sentence)."""


def plan(run_seed: int, categories: tuple[str, ...], start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, category, kernel seed) for index = start, start+1, ...: categories round-robin."""
    index = start
    while True:
        yield index, categories[index % len(categories)], kernel_seed(run_seed, index)
        index += 1


# -- worker side ------------------------------------------------------------------------
_have: dict[str, frozenset[str]] = {}
_skip: frozenset[str] = frozenset()
_devices: tuple[str, ...] = ()
_sign = True  # compute skeleton hash and MinHash here (else the main process does)
_style = "realistic"  # generator style (curator.kernels.STYLES)


def _init_worker(
    have: dict, failed: frozenset, devices: tuple[str, ...], sign: bool = True, style: str = "realistic"
) -> None:
    global _have, _skip, _devices, _sign, _style
    from curator.warp import init_warp

    _have, _skip, _devices, _sign, _style = have, failed, devices, sign, style
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to report, in one line
    if multiprocessing.parent_process() is not None and "coverage" not in sys.modules:
        atexit.register(_leave_without_teardown)  # registered first, so it runs last
    init_warp()


def _leave_without_teardown() -> None:
    """How a local worker process ends once the pool lets it go.  Every result is sent by then;
    tearing down an interpreter that imported Warp takes 0.3-0.5 s more (measured), which the
    run waits for, as the pool joins its workers."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def record_for_spec(
    spec,
    run_seed: int | None,
    index: int | None,
    devices: tuple[str, ...],
    have: frozenset[str] = frozenset(),
    sign: bool = True,
):
    """Codegen one generated kernel: a KernelRecord, a FailureRecord, or None if already stored."""
    from curator.kernels import version_label
    from curator.warp import CodegenError, build
    from curator.warp.calls import recording_builtin_calls, signatures_of_calls

    kid = kernel_id(spec.source)
    missing = tuple(d for d in devices if d not in have)
    if not missing or kid in _skip:
        return None
    try:
        with recording_builtin_calls() as calls:
            arts = build.generate(spec.source, spec.name, f"curator_k{kid}", missing)
    except CodegenError as exc:
        return FailureRecord(kid, spec.category, spec.seed, exc.stage, exc.exc_type, exc.message[:4000], spec.source)
    style = getattr(spec, "style", "realistic")  # specs made elsewhere (test fixtures) may not carry one
    record = make_record(
        kid,
        spec.name,
        spec.category,
        spec.source,
        arts,
        seed=spec.seed,
        run_seed=run_seed,
        run_index=index,
        generator_version=version_label(style),
        launch_dim=spec.launch_dim,
        kernel_args=[list(a) for a in spec.args],
        builtin_signatures=signatures_of_calls(calls, spec.source),
    )
    return sign_record(record) if sign else record


def _run_batch(run_seed: int, items: list[tuple[int, str, int]]) -> list:
    from curator.kernels import generate_kernel

    out: list[KernelRecord | FailureRecord | tuple[str, str]] = []  # ("skip", id): stored already
    for index, category, kseed in items:
        try:
            spec = generate_kernel(kseed, category, _style)
        except Exception as exc:  # a generator bug: record it, never lose the run
            out.append(
                FailureRecord(
                    f"gen:{run_seed}:{index}", category, kseed, "generate", type(exc).__name__, str(exc)[:4000], None
                )
            )
            continue
        kid = kernel_id(spec.source)
        out.append(
            record_for_spec(spec, run_seed, index, _devices, _have.get(kid, frozenset()), _sign) or ("skip", kid)
        )
    return out


# -- main side --------------------------------------------------------------------------
@dataclass
class Progress:
    """Live figures of a run, handed to the progress callback after every batch."""

    attempted: int = 0
    new_kernels: int = 0
    new_artifacts: int = 0
    skipped: int = 0
    duplicates: int = 0
    failures: int = 0
    bytes_new: dict = field(default_factory=dict)
    bytes_total: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    goal: int | None = None  # kernels (count) or bytes (target) to reach
    done: int = 0  # progress towards goal

    def as_dict(self) -> dict:
        return {
            "attempted": self.attempted,
            "new_kernels": self.new_kernels,
            "new_artifacts": self.new_artifacts,
            "skipped": self.skipped,
            "duplicates": self.duplicates,
            "failures": self.failures,
            "bytes_new": self.bytes_new,
            "bytes_total": self.bytes_total,
            "seconds": round(time.perf_counter() - self.started, 3),
        }


@dataclass(frozen=True)
class Settings:
    """What a run was asked for."""

    devices: tuple[str, ...]
    seed: int
    categories: tuple[str, ...]
    workers: int
    count: int | None = None
    target_bytes: int | None = None
    batch_size: int = BATCH_SIZE
    shard: tuple[int, int] | None = None  # (I, N): plan indices with index % N == I
    pool_factory: PoolFactory = local_pool  # where batches run (curator.scale)
    style: str = "realistic"  # generator style (curator.kernels.STYLES)


def run(
    store: Store,
    *,
    devices: tuple[str, ...],
    seed: int,
    categories: tuple[str, ...],
    workers: int,
    count: int | None = None,
    target_mb: float | None = None,
    arguments: dict | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_batch: Callable[[list[str]], None] | None = None,
    batch_size: int = BATCH_SIZE,
    shard: tuple[int, int] | None = None,
    pool_factory: PoolFactory | None = None,
    style: str = "realistic",
) -> Progress:
    """Generate until ``count`` kernels of the seed's sequence are stored, or until the stored
    code of every device in ``devices`` reaches ``target_mb`` MiB.  ``on_batch`` gets the ids
    of each committed batch's kernels (e.g. to verify a share of them as the run goes).

    ``shard`` (I, N) keeps only the plan indices with index % N == I, so shards 0..N-1 of the
    same arguments together make exactly the kernels of the unsharded run.  ``pool_factory``
    says where batches run (default: local worker processes; see curator.scale)."""
    if (count is None) == (target_mb is None):
        raise ValueError("give exactly one of count and target_mb")
    target_bytes = int(target_mb * MIB) if target_mb is not None else None
    settings = Settings(
        devices, seed, categories, workers, count, target_bytes, batch_size, shard, pool_factory or local_pool, style
    )
    job = GenerateRun(store, settings, on_progress, on_batch)
    with store.recorded_run("generate", arguments or {}, job.progress.as_dict) as run_id:
        job.drive(run_id)
    return job.progress


class GenerateRun:
    """One run's state: what is stored, the plan, the worker pool and the batches in flight."""

    def __init__(self, store: Store, settings: Settings, on_progress=None, on_batch=None):
        self.store, self.settings = store, settings
        self.on_progress, self.on_batch = on_progress, on_batch
        stored = store.kernel_devices()
        wanted = set(settings.devices)
        self.have = {k: frozenset(v) for k, v in stored.items() if wanted - v}
        self.complete = {k for k, v in stored.items() if not wanted - v}
        self.failed = frozenset(store.failed_ids())
        self.progress = Progress(bytes_total={d: store.device_bytes(d) for d in settings.devices})
        self.progress.goal = settings.count if settings.count is not None else settings.target_bytes
        self.items = (item for item in plan(settings.seed, settings.categories) if in_shard(item[0], settings.shard))
        self.exhausted = False
        self.fruitless = 0
        # With a core to spare (fewer workers than cores), the main process signs the kernels
        # (tokenize + MinHash, ~10 % of a kernel's cost) while the workers run Warp.
        self.sign_here = settings.workers < (os.cpu_count() or 1)

    def make_pool(self):
        """The executor that runs ``_run_batch``: workers that keep Warp warm, local processes or
        Ray actors (``Settings.pool_factory``)."""
        s = self.settings
        initargs = (self.have, self.failed | frozenset(self.complete), s.devices, not self.sign_here, s.style)
        return s.pool_factory(s.workers, _init_worker, initargs)

    def drive(self, run_id: int) -> None:
        pool = self.make_pool()
        in_flight: set[Future] = set()
        try:
            while True:
                while self._wants_more() and len(in_flight) < self.settings.workers * 3:
                    batch = self._next_batch()
                    if batch:
                        in_flight.add(pool.submit(_run_batch, self.settings.seed, batch))
                if not in_flight:
                    break
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in done:
                    self._commit(fut.result(), run_id)
                self._check_give_up()
        except BaseException:
            for fut in in_flight:
                fut.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def _wants_more(self) -> bool:
        target = self.settings.target_bytes
        return not self.exhausted and not (target is not None and min(self.progress.bytes_total.values()) >= target)

    def _next_batch(self) -> list:
        batch: list = []
        count = self.settings.count
        while len(batch) < self.settings.batch_size:
            index, category, kseed = next(self.items)
            if count is not None and index >= count:
                self.exhausted = True
                break
            batch.append((index, category, kseed))
        return batch

    def _commit(self, results: list, run_id: int) -> None:
        """Store one finished batch and update the progress."""
        p, count = self.progress, self.settings.count
        kernels = [r for r in results if isinstance(r, KernelRecord)]
        if self.sign_here:
            kernels = [sign_record(k) for k in kernels]
        fails = [r for r in results if isinstance(r, FailureRecord)]
        counts = self.store.write_batch(kernels, fails, run_id)
        p.attempted += len(results)
        p.skipped += sum(isinstance(r, tuple) for r in results)
        p.new_kernels += counts.kernels
        p.new_artifacts += counts.artifacts
        p.duplicates += counts.duplicates
        p.failures += counts.failures
        for d, b in counts.bytes.items():
            p.bytes_new[d] = p.bytes_new.get(d, 0) + b
            p.bytes_total[d] = p.bytes_total.get(d, 0) + b
        self.fruitless = 0 if counts.artifacts else self.fruitless + len(results)
        p.done = min(count, p.attempted) if count is not None else min(p.bytes_total.values())
        if self.on_progress:
            self.on_progress(p)
        if self.on_batch and kernels:
            self.on_batch([k.id for k in kernels])

    def _check_give_up(self) -> None:
        p = self.progress
        tried = p.attempted - p.skipped
        if tried >= MIN_ATTEMPTS_FOR_FAILURE_STOP and p.failures > MAX_FAILURE_SHARE * tried:
            raise GenerateError(
                f"codegen failed for {p.failures} of {tried} kernels "
                f"({100 * p.failures / tried:.1f} %, over the {100 * MAX_FAILURE_SHARE:.0f} % limit); "
                "see `curator stats --failures`"
            )
        if self.settings.target_bytes is not None and self.fruitless >= MAX_FRUITLESS:
            raise GenerateError(
                f"the last {self.fruitless} kernels were all stored already or failed; "
                "use another --seed or --category to reach the target"
            )
