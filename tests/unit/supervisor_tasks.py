"""Tasks for the supervised workers of test_supervisor (importable by a spawned process)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import tempfile
import time


def add(a, b):
    return a + b


def where() -> dict:
    return {"pid": os.getpid(), "tmp": tempfile.gettempdir(), "env": os.environ.get("TMPDIR")}


def write_tmp(name: str) -> str:
    path = os.path.join(tempfile.gettempdir(), name)
    with open(path, "w") as f:
        f.write("x")
    return path


def shout(text: str) -> int:
    print(text)
    print(text, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    return os.getpid()


def segfault():
    ctypes.string_at(0)


def abort():
    os.kill(os.getpid(), signal.SIGABRT)


def sleep(seconds: float):
    time.sleep(seconds)


def allocate(gib: int) -> int:
    return len(bytearray(gib << 30))


def raise_value_error():
    raise ValueError("the task's own error")


def count(n: int, pause: float = 0.0):
    for i in range(n):
        time.sleep(pause)
        yield i


def count_then_hang(n: int):
    yield from range(n)
    time.sleep(3600)


def failing_init():
    raise RuntimeError("no Warp here")
