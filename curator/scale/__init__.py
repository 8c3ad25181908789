"""Where batches run: local worker processes (default) or Ray actors (`--ray`, imported only then)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Protocol

from curator.errors import CuratorError
from curator.scale.supervisor import WorkerDied


class PoolFactory(Protocol):
    """(workers, initializer, initargs) -> an Executor whose workers ran initializer(*initargs)
    once.  ``rerun_dead``: whether a task whose worker process died is run again on another
    worker (the pool's own retry rules); without, it fails with PoolWorkerDied, where the pool can
    go on without the dead worker."""

    def __call__(
        self, workers: int, initializer: Callable | None = None, initargs: tuple = (), *, rerun_dead: bool = True
    ) -> Executor: ...


class ClusterError(CuratorError):
    """The Ray cluster cannot be reached or went away; one sentence for the user."""


class PoolWorkerDied(WorkerDied):
    """The pool's worker process died while running this task, and the task is not run again (a
    pool made with ``rerun_dead=False``); a new worker takes the dead one's place and the pool
    goes on.  Only the task that was running dies with a worker: such a pool gives each worker one
    task at a time.  ``seconds``: how long the task had been on its worker (None: not known)."""

    def __init__(self, reason: str, seconds: float | None = None):
        super().__init__(None, reason=reason)
        self.seconds = seconds


def local_pool(
    workers: int, initializer: Callable | None = None, initargs: tuple = (), *, rerun_dead: bool = True
) -> Executor:
    """Long-lived spawned worker processes on this machine (what every stage uses without --ray).
    ``rerun_dead`` changes nothing here: a worker that dies breaks a ProcessPoolExecutor, which
    fails every task in flight with BrokenProcessPool and runs nothing more (callers rerun them)."""
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=initializer, initargs=initargs)


def kill_worker(pool: Executor, fut: Future) -> None:
    """Kill the worker process running ``fut``'s task (a task that hangs).  A pool that can kill
    one worker does (``pool.kill_worker``: a RayPool kills the task's actor, and the task then
    ends as one whose worker died).  A ProcessPoolExecutor cannot: all its processes are killed,
    and every task in flight fails with BrokenProcessPool."""
    own = getattr(pool, "kill_worker", None)
    if own is not None:
        own(fut)
        return
    # ProcessPoolExecutor keeps its processes in _processes (pid -> Process); its own thread sees
    # them end and fails the tasks in flight (Python 3.14's kill_workers also shuts the pool down)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' -> (I, N) with 0 <= I < N; ValueError with one sentence otherwise."""
    index, sep, total = text.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError:
        i = n = -1
    if not sep or n < 1 or not 0 <= i < n:
        raise ValueError(f"{text!r} is not a shard I/N with 0 <= I < N (e.g. 0/3)")
    return i, n


def in_shard(index: int, shard: tuple[int, int] | None) -> bool:
    """Whether plan index ``index`` belongs to ``shard`` (I, N): index % N == I; all without a shard."""
    return shard is None or index % shard[1] == shard[0]
