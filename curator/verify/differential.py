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
import signal
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass

from curator.errors import CuratorError
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
                answer = ("failed", f"{type(exc).__name__}: {exc}"[:2000])
            yield record(LaunchResult(k["id"], answer[0] in OK_STATUSES, answer[1], answer[0]))
        return
    yield from (record(r) for r in _in_workers(jobs(), seed, size, devices, workers, timeout))


def _row(k: dict) -> dict:
    return {key: k[key] for key in ("id", "name", "source", "launch_dim")}


def _in_workers(jobs, seed: int, size: int, devices, workers: int, timeout: float) -> Iterator[LaunchResult]:
    """Run ``compare`` for each job in up to ``workers`` isolated processes; yield as they finish."""
    from curator.scale.isolated import IsolatedWorker, WorkerDied, WorkerStartError, exit_reason

    root = tempfile.mkdtemp(prefix="curator_run_gpu_")
    idle: list = []
    running: dict = {}  # future -> (kernel id, worker, deadline)
    pending = iter(jobs)
    exhausted = False
    try:
        while True:
            while not exhausted and len(running) < workers:
                job = next(pending, None)
                if job is None:
                    exhausted = True
                    break
                k, pieces, refused = job
                if refused:
                    yield LaunchResult(k["id"], False, refused, "refused")
                    continue
                worker = idle.pop() if idle else IsolatedWorker(_init_worker, (root,))
                fut = worker.submit(compare, _row(k), pieces, seed, size, devices)
                running[fut] = (k["id"], worker, time.monotonic() + timeout)
            if not running:
                return
            done, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            now = time.monotonic()
            for fut in list(running):
                kid, worker, deadline = running[fut]
                if fut not in done and now < deadline:
                    continue
                del running[fut]
                if fut not in done:
                    worker.close(wait=False)
                    yield LaunchResult(kid, False, f"timeout: no answer within {timeout:g} s; worker killed", "timeout")
                    continue
                try:
                    status, message = fut.result()
                except WorkerDied as exc:
                    if exc.starting:
                        why = exit_reason(exc.exitcode)
                        raise DifferentialError(f"a GPU run worker died while starting: {why}") from None
                    status, message = "crashed", f"the worker process died: {exit_reason(exc.exitcode)}"
                except WorkerStartError as exc:
                    raise DifferentialError(f"a GPU run worker could not start: {exc}") from None
                except Exception as exc:  # the kernel's failure (a CUDA error raises here)
                    status, message = "failed", f"{type(exc).__name__}: {exc}"[:2000]
                if status in OK_STATUSES and worker.alive:
                    idle.append(worker)
                else:  # a failure may leave the GPU context unusable: the next kernel gets a fresh process
                    worker.close(wait=False)
                yield LaunchResult(kid, status in OK_STATUSES, message, status)
    finally:
        for worker in [*idle, *(w for _, w, _ in running.values())]:
            worker.close(wait=False)
        shutil.rmtree(root, ignore_errors=True)


def _init_worker(root: str) -> None:
    """A GPU run worker: its own folder (Warp's kernel cache, its temporary files) under ``root``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the command stops the workers
    if not os.environ.get("CURATOR_EXEC_VERBOSE"):  # kernels print (wp.expect_near...): keep the output clean
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    work = tempfile.mkdtemp(dir=root)
    tempfile.tempdir = work
    os.environ["TMPDIR"] = work
    from curator.warp import init_warp

    wp = init_warp()
    wp.config.kernel_cache_dir = os.path.join(work, "cache")
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
