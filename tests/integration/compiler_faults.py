"""Compiler faults planted in verify's workers (test-only, nothing in curator reads this): the
workers' initializer is swapped for ``faulty_init_worker`` bound to a log file, whose compilers
call os.abort() on a translation unit holding ABORT_MARKER (on every one with ``abort_on="any"``),
as Warp's Clang aborts at -O2 on one real ingested kernel, and never return on one holding
HANG_MARKER.  Each faulty process first logs "PID abort" or "PID hang" to the log.

The initializer travels with the pool (pickled by reference to this module), so it reaches local
worker processes and Ray actors alike: ``use(log)`` is what to put in ``verify._init_worker``."""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

from curator.verify import compile as verify

ABORT_MARKER = "// curator test: the compiler aborts here"
HANG_MARKER = "// curator test: the compiler hangs here"
_real_init_worker = verify._init_worker


def faulty_init_worker(log: str, abort_on: str, *args) -> None:
    _real_init_worker(*args)
    for compiler in verify._compilers.values():

        def faulty_compile(source, *rest, _compile=compiler.compile, **kw):
            fault = "abort" if ABORT_MARKER in source or abort_on == "any" else "hang" if HANG_MARKER in source else ""
            if fault:
                with open(log, "a") as f:
                    f.write(f"{os.getpid()} {fault}\n")
            if fault == "abort":
                os.abort()
            while fault == "hang":
                time.sleep(60)
            return _compile(source, *rest, **kw)

        compiler.compile = faulty_compile


def use(log: Path, abort_on: str = "marker"):
    """The initializer to put in place of ``verify._init_worker``."""
    return functools.partial(faulty_init_worker, str(log), abort_on)


def faulty_pids(log: Path, fault: str) -> list[int]:
    """The processes that logged ``fault`` ("abort" or "hang"), in order."""
    lines = log.read_text().split("\n") if log.exists() else []
    return [int(pid) for pid, kind in (ln.split() for ln in lines if ln) if kind == fault]


def plant(db: Path, kernel_id: str, marker: str, device: str = "cpu") -> None:
    """Append ``marker`` (a C++ comment) to the stored forward code of a kernel."""
    import sqlite3

    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE artifacts SET forward = forward || ? WHERE kernel_id = ? AND device = ?",
            (f"\n{marker}\n", kernel_id, device),
        )
    conn.close()
