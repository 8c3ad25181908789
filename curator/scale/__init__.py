"""Where batches run: local worker processes (default) or Ray actors (`--ray`, imported only then)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor

# (workers, initializer, initargs) -> an Executor whose workers ran initializer(*initargs) once.
PoolFactory = Callable[[int, Callable | None, tuple], Executor]


class ClusterError(Exception):
    """The Ray cluster cannot be reached or went away; one sentence for the user."""


def local_pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> Executor:
    """Long-lived spawned worker processes on this machine (what every stage uses without --ray)."""
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=initializer, initargs=initargs)


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
