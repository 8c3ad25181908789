"""Running stored kernels: which stored sources may be executed (``executable_source``) and the
CPU-vs-GPU differential launches of `curator verify --run` (``differential``).

Each kernel is launched through Warp's own JIT on the CPU and on the GPU with the same seeded
inputs (``curator.warp.inputs``: arrays, structs, views, textures and small real meshes, BVHs,
hash grids and volumes, each built on the device it is launched on), every array it can write
is compared, and the .cu Warp wrote to its kernel cache for the GPU launch is compared with the
stored CUDA code (the pair check of CPU runs, for the GPU).  Kernels run in isolated worker
processes: a crash, a CUDA error (``wp.config.verify_cuda``) or a hang is that kernel's result,
and the worker is replaced."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from curator.errors import CuratorError, describe
from curator.store import Store
from curator.store.verify import LAUNCH_PREFIX, Verification
from curator.verify.sources import executable_source

GPU = "cuda:0"
TIMEOUT_S = 120.0  # one kernel: compile for both devices (the first compile builds Warp's header), two launches
RTOL = ATOL = 1e-3

# statuses: ``ok`` for the first two; a tile kernel's outputs may differ by design (tile shapes
# follow block_dim: 1 on the CPU, 256 on the GPU), so only its pair check and launch count
OK_STATUSES = ("same", "tile-differs")


class DifferentialError(CuratorError):
    """The differential launches cannot go on (one sentence for the user)."""


@dataclass
class LaunchResult:
    kernel_id: str
    ok: bool
    message: str
    # same | tile-differs | differ | pair-mismatch | failed | crashed | timeout | not-runnable | refused
    status: str = ""


def differential(
    store: Store,
    ids: Iterable[str],
    *,
    seed: int = 0,
    size: int | None = None,
    trust_real: bool = False,
    workers: int = 1,
    timeout: float = TIMEOUT_S,
    devices: tuple[str, str] = ("cpu", GPU),
) -> Iterator[LaunchResult]:
    """Launch each kernel on both ``devices`` and compare (see the module docstring); each
    result is stored (device 'cuda', compiler 'launch warp ...') and yielded as it comes.
    ``workers``: isolated worker processes (0: in this process, for tests).  Kernels whose
    source may not be executed (see ``executable_source``) are reported, not run."""
    from curator.warp import warp_version
    from curator.warp.inputs import SIZE

    size = size or SIZE
    options = f"cpu-vs-cuda size={size} seed={seed}"
    compiler = f"{LAUNCH_PREFIX} warp {warp_version()}"
    kind = "cpu" if devices[-1] == "cpu" else "cuda"

    def jobs():
        for kid in ids:
            k = store.get_kernel(kid)
            if k is None:
                continue
            refused = executable_source(k, trust_real)
            pieces = None if refused else store.artifact_pieces([kid], kind).get(kid)
            if not refused and pieces is None:
                refused = f"not executed: no stored {kind} code"
            yield k, pieces, refused

    def record(result: LaunchResult) -> LaunchResult:
        if result.status != "refused":
            store.record_verifications(
                [Verification(result.kernel_id, "cuda", compiler, options, result.ok, result.message, None)]
            )
        return result

    if workers < 1:
        for k, pieces, refused in jobs():
            if refused:
                yield LaunchResult(k["id"], False, refused, "refused")
                continue
            try:
                answer = compare(_row(k), pieces, seed, size, devices)
            except Exception as exc:  # the kernel's failure
                answer = ("failed", describe(exc, 2000))
            yield record(LaunchResult(k["id"], answer[0] in OK_STATUSES, answer[1], answer[0]))
        return
    yield from (record(r) for r in _in_workers(jobs(), seed, size, devices, workers, timeout))


def _row(k: dict) -> dict:
    return {key: k[key] for key in ("id", "name", "source", "launch_dim")}


class _Drivers:
    """What the threads driving the GPU run workers share: the jobs, the results, the workers busy now."""

    def __init__(self, jobs, root: str, launch: tuple):
        import queue
        import threading

        self.pending, self.root, self.launch = iter(jobs), root, launch  # launch: (seed, size, devices, timeout)
        self.lock = threading.Lock()
        self.results: queue.Queue = queue.Queue()
        self.active: set = set()  # killed when the consumer stops early

    def next_job(self):
        with self.lock:
            return next(self.pending, None)

    def drive(self) -> None:
        """One thread: a worker kept while its kernels pass (a failure may leave the GPU context
        unusable, so the next kernel gets a fresh process)."""
        worker = None
        try:
            while (job := self.next_job()) is not None:
                k, pieces, refused = job
                if refused:
                    self.results.put(LaunchResult(k["id"], False, refused, "refused"))
                    continue
                if worker is None:
                    worker = _new_worker(self.root)
                    with self.lock:
                        self.active.add(worker)
                status, message = _launch_in(worker, _row(k), pieces, *self.launch)
                if status not in OK_STATUSES or not worker.alive:
                    self._drop(worker)
                    worker = None
                self.results.put(LaunchResult(k["id"], status in OK_STATUSES, message, status))
        except DifferentialError as exc:
            self.results.put(exc)
        finally:
            if worker is not None:
                self._drop(worker)
            self.results.put(None)

    def _drop(self, worker) -> None:
        worker.close(wait=False)
        with self.lock:
            self.active.discard(worker)

    def stop(self) -> None:
        """No more jobs taken, and what runs now ends."""
        with self.lock:
            self.pending = iter(())
            for worker in self.active:
                worker.close(wait=False)


def _in_workers(jobs, seed: int, size: int, devices, workers: int, timeout: float) -> Iterator[LaunchResult]:
    """Run ``compare`` for each job in up to ``workers`` supervised processes (one thread drives
    each); yield as they finish."""
    import threading

    root = tempfile.mkdtemp(prefix="curator_run_gpu_")
    drivers = _Drivers(jobs, root, (seed, size, devices, timeout))
    threads = [threading.Thread(target=drivers.drive, daemon=True) for _ in range(max(1, workers))]
    for t in threads:
        t.start()
    try:
        running = len(threads)
        while running:
            item = drivers.results.get()
            if item is None:
                running -= 1
            elif isinstance(item, DifferentialError):
                raise item
            else:
                yield item
    finally:
        drivers.stop()
        for t in threads:
            t.join()
        shutil.rmtree(root, ignore_errors=True)


def _new_worker(root: str):
    from curator.scale.supervisor import Worker

    return Worker(_init_worker, quiet=not os.environ.get("CURATOR_EXEC_VERBOSE"), private_tmp=root)


def _launch_in(worker, row: dict, pieces: dict, seed: int, size: int, devices, timeout: float) -> tuple[str, str]:
    """``compare`` in the worker: (status, message), a death, hang or failed start said in words."""
    from curator.scale.supervisor import WorkerDied, WorkerHung, WorkerStartError

    try:
        return worker.call(compare, row, pieces, seed, size, devices, timeout=timeout)
    except WorkerHung as exc:
        if exc.starting:
            raise DifferentialError(f"a GPU run worker did not start: {exc}") from None
        return "timeout", f"timeout: no answer within {timeout:g} s; worker killed"
    except WorkerDied as exc:
        if exc.starting:
            raise DifferentialError(f"a GPU run worker died while starting: {exc.reason}") from None
        return "crashed", f"the worker process died: {exc.reason}"
    except WorkerStartError as exc:
        raise DifferentialError(f"a GPU run worker could not start: {exc}") from None
    except Exception as exc:  # the kernel's failure (a CUDA error raises here)
        return "failed", describe(exc, 2000)


def _init_worker() -> None:
    """A GPU run worker: Warp's kernel cache in its private folder, CUDA errors raised where made."""
    from curator.warp import init_warp

    wp = init_warp()
    wp.config.kernel_cache_dir = os.path.join(tempfile.gettempdir(), "cache")
    os.makedirs(wp.config.kernel_cache_dir)
    wp.config.verify_cuda = True  # a CUDA error raises at the launch that made it


def compare(row: dict, pieces: dict, seed: int, size: int, devices=("cpu", GPU)) -> tuple[str, str]:
    """Launch the stored kernel ``row`` on both ``devices`` with the same seeded inputs, compare
    every array it can write, and pair-check the second device's code (``pieces``, stored)
    against the source Warp wrote to its kernel cache.  Returns (status, message); raises
    on a launch failure.  The kernel's functions get the names a fresh process gives them (as
    `curator generate` stored them)."""
    from curator.warp import fresh_function_numbering, init_warp
    from curator.warp.build import load_module, release_module
    from curator.warp.execute import clear_cache, pair_check
    from curator.warp.inputs import NotRunnable, release_objects
    from curator.warp.launch import is_tiled

    cache_dir = init_warp().config.kernel_cache_dir
    clear_cache(cache_dir)
    module_name = f"curator_run_{row['id']}"
    outputs = []
    with fresh_function_numbering():
        try:
            module = load_module(row["source"], module_name)
            kernel = getattr(module, row["name"])
            for device in devices:
                outputs.append(_run_on(kernel, row, seed, size, device))
            kind = "cpu" if devices[-1] == "cpu" else "cuda"
            pair = pair_check(cache_dir, pieces, module_name, kind)
        except NotRunnable as exc:
            return "not-runnable", str(exc)
        finally:
            release_module(module_name)
            release_objects()
    if pair:
        return "pair-mismatch", pair
    bad = _differing(*outputs)
    if not bad:
        return "same", ""
    what = f"outputs differ between CPU and GPU: {', '.join(bad)}"
    if is_tiled(kernel):
        return "tile-differs", f"{what} (a tile kernel: its tiles follow block_dim, 1 on the CPU and 256 on the GPU)"
    return "differ", what


def _run_on(kernel, row: dict, seed: int, size: int, device: str) -> list:
    """The kernel launched on ``device`` with the seed's inputs: every array it can write, as ndarrays."""
    from curator.warp.inputs import Inputs
    from curator.warp.launch import launch
    from curator.warp.values import array_numpy

    labels: list = []
    values, arrays = Inputs(kernel, row["source"], seed, size, device=device).materialize(labels=labels)
    launch(kernel, values, row["launch_dim"], size, device=device)
    return [(name, array_numpy(a)) for name, a in zip(labels, arrays, strict=True)]


def _differing(a: list, b: list) -> list[str]:
    import numpy as np

    return [
        name
        for (name, x), (_, y) in zip(a, b, strict=True)
        if x.shape != y.shape or not np.allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True)
    ]
