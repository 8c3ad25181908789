"""`curator generate`: plan kernels from a seed, run Warp codegen for them in long-lived worker
processes, and store each batch atomically.  Reruns skip what is stored (content-hash ids)."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

from curator.store import FailureRecord, KernelRecord, Store

MIB = 1 << 20
BATCH_SIZE = 16
MIN_ATTEMPTS_FOR_FAILURE_STOP = 200
MAX_FAILURE_SHARE = 0.05
# A run that keeps producing nothing new (every kernel a duplicate) gives up after this many.
MAX_FRUITLESS = 20_000


class GenerateError(Exception):
    """The run stopped for a reason the user must act on (one sentence)."""


def kernel_seed(run_seed: int, index: int) -> int:
    """The generator seed of the index-th kernel of a run: stable across processes."""
    digest = hashlib.blake2b(f"{run_seed}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def kernel_id(source: str) -> str:
    """Content-hash id of a kernel: equal sources are one kernel."""
    return hashlib.sha256(source.encode()).hexdigest()[:20]


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


def _init_worker(have: dict, failed: frozenset, devices: tuple[str, ...], sign: bool = True,
                 style: str = "realistic") -> None:  # fmt: skip
    global _have, _skip, _devices, _sign, _style
    from curator import codegen

    _have, _skip, _devices, _sign, _style = have, failed, devices, sign, style
    codegen.init_warp()


def make_record(spec, run_seed: int | None, index: int | None, devices: tuple[str, ...],
                have: frozenset[str] = frozenset(), sign: bool = True):  # fmt: skip
    """Codegen one generated kernel: a KernelRecord, a FailureRecord, or None if already stored."""
    from curator import codegen
    from curator.kernels import version_label

    kid = kernel_id(spec.source)
    missing = tuple(d for d in devices if d not in have)
    if not missing or kid in _skip:
        return None
    try:
        arts = codegen.generate(spec.source, spec.name, f"curator_k{kid}", missing)
    except codegen.CodegenError as exc:
        return FailureRecord(kid, spec.category, spec.seed, exc.stage, exc.exc_type, exc.message[:4000], spec.source)
    record = KernelRecord(
        id=kid,
        name=spec.name,
        category=spec.category,
        source=spec.source,
        skeleton_hash="",
        minhash=None,
        artifacts={
            d: {"pieces": a.pieces, "codegen_ms": a.codegen_ms, "warp_version": a.warp_version} for d, a in arts.items()
        },
        seed=spec.seed,
        run_seed=run_seed,
        run_index=index,
        generator_version=version_label(spec.style),
        launch_dim=spec.launch_dim,
        kernel_args=[list(a) for a in spec.args],
    )
    return sign_record(record) if sign else record


def sign_record(record: KernelRecord) -> KernelRecord:
    """Fill in the normalised-skeleton hash and MinHash signature of a record's source."""
    from curator import dedup

    tokens = dedup.normalize_tokens(record.source)
    record.skeleton_hash = dedup.skeleton_hash_of_tokens(tokens)
    record.minhash = dedup.signature_of_tokens(tokens)
    return record


def _run_batch(run_seed: int, items: list[tuple[int, str, int]]) -> list:
    from curator.kernels import generate_kernel

    out = []
    for index, category, kseed in items:
        try:
            spec = generate_kernel(kseed, category, _style)
        except Exception as exc:  # a generator bug: record it, never lose the run
            out.append(FailureRecord(f"gen:{run_seed}:{index}", category, kseed, "generate", type(exc).__name__,
                                     str(exc)[:4000], None))  # fmt: skip
            continue
        kid = kernel_id(spec.source)
        out.append(make_record(spec, run_seed, index, _devices, _have.get(kid, frozenset()), _sign) or ("skip", kid))
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
    style: str = "realistic",
) -> Progress:
    """Generate until ``count`` kernels of the seed's sequence are stored, or until the stored
    code of every device in ``devices`` reaches ``target_mb`` MiB.  ``on_batch`` gets the ids
    of each committed batch's kernels (e.g. to verify a share of them as the run goes)."""
    if (count is None) == (target_mb is None):
        raise ValueError("give exactly one of count and target_mb")
    stored = store.kernel_devices()
    have = {k: frozenset(v) for k, v in stored.items() if set(devices) - v}
    complete = {k for k, v in stored.items() if not set(devices) - v}
    failed = frozenset(store.failed_ids())
    progress = Progress(bytes_total={d: store.device_bytes(d) for d in devices})
    target_bytes = int(target_mb * MIB) if target_mb is not None else None
    progress.goal = count if count is not None else target_bytes
    run_id = store.start_run("generate", arguments or {})
    status = "failed"
    try:
        _drive(store, run_id, devices, seed, categories, workers, count, target_bytes, have, complete, failed,
               progress, on_progress, on_batch, batch_size, style)  # fmt: skip
        status = "done"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        store.finish_run(run_id, status, progress.as_dict())
    return progress


def _reached(progress: Progress, target_bytes: int | None) -> bool:
    return target_bytes is not None and min(progress.bytes_total.values()) >= target_bytes


def _drive(store, run_id, devices, seed, categories, workers, count, target_bytes, have, complete, failed,
           progress, on_progress, on_batch, batch_size, style="realistic"):  # fmt: skip
    items = plan(seed, categories)
    ctx = multiprocessing.get_context("spawn")
    in_flight: set[Future] = set()
    fruitless = 0
    exhausted = False

    def next_batch() -> list:
        nonlocal exhausted
        batch = []
        while len(batch) < batch_size:
            index, category, kseed = next(items)
            if count is not None and index >= count:
                exhausted = True
                break
            batch.append((index, category, kseed))
        return batch

    # With a core to spare (fewer workers than cores), the main process signs the kernels
    # (tokenize + MinHash, ~10 % of a kernel's cost) while the workers run Warp.
    sign_here = workers < (os.cpu_count() or 1)
    initargs = (have, failed | frozenset(complete), devices, not sign_here, style)
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=initargs)
    try:
        while True:
            while not exhausted and not _reached(progress, target_bytes) and len(in_flight) < workers * 3:
                batch = next_batch()
                if batch:
                    in_flight.add(pool.submit(_run_batch, seed, batch))
            if not in_flight:
                break
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for fut in done:
                results = fut.result()
                kernels = [r for r in results if isinstance(r, KernelRecord)]
                if sign_here:
                    kernels = [sign_record(k) for k in kernels]
                fails = [r for r in results if isinstance(r, FailureRecord)]
                counts = store.write_batch(kernels, fails, run_id)
                progress.attempted += len(results)
                progress.skipped += sum(isinstance(r, tuple) for r in results)
                progress.new_kernels += counts.kernels
                progress.new_artifacts += counts.artifacts
                progress.duplicates += counts.duplicates
                progress.failures += counts.failures
                for d, b in counts.bytes.items():
                    progress.bytes_new[d] = progress.bytes_new.get(d, 0) + b
                    progress.bytes_total[d] = progress.bytes_total.get(d, 0) + b
                fruitless = 0 if counts.artifacts else fruitless + len(results)
                if count is not None:
                    progress.done = min(count, progress.attempted)
                else:
                    progress.done = min(progress.bytes_total.values())
                if on_progress:
                    on_progress(progress)
                if on_batch and kernels:
                    on_batch([k.id for k in kernels])
            tried = progress.attempted - progress.skipped
            if tried >= MIN_ATTEMPTS_FOR_FAILURE_STOP and progress.failures > MAX_FAILURE_SHARE * tried:
                raise GenerateError(
                    f"codegen failed for {progress.failures} of {tried} kernels "
                    f"({100 * progress.failures / tried:.1f} %, over the {100 * MAX_FAILURE_SHARE:.0f} % limit); "
                    "see `curator stats --failures`"
                )
            if target_bytes is not None and fruitless >= MAX_FRUITLESS:
                raise GenerateError(
                    f"the last {fruitless} kernels were all stored already or failed; "
                    "use another --seed or --category to reach the target"
                )
    except BaseException:
        for fut in in_flight:
            fut.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
