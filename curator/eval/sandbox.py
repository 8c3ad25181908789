"""The driver's side of an eval worker: one supervised process (``curator.scale.supervisor``) with
a folder of its own, a wall deadline per task (the process is killed past it), and a fresh
process after any death; a death is reported with its signal and the last line it printed."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from curator.eval import worker
from curator.scale.supervisor import Worker, WorkerDied, exit_reason

STARTUP_SECONDS = 180.0
POLL_SECONDS = 0.02  # how often the driver looks at a running task's memory
GIB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """What one prediction may use."""

    seconds: float = 60.0  # wall time of one task (compile, or the launches): a hang that sleeps
    cpu_seconds: float = 20.0  # CPU time of one task: a loop, however loaded the machine is
    memory_bytes: int = 2 * GIB  # resident memory beyond the started worker's (0: no limit)
    file_bytes: int = 256 << 20  # the largest file it may write (its log included)
    address_backstop: bool = True  # off on a GPU: CUDA reserves address space far beyond its use

    @property
    def address_bytes(self) -> int:
        """The address-space backstop: far above the resident limit, since an allocation maps
        before it touches (a 10 GiB malloc is caught by the resident limit, not made to fail)."""
        return max(16 * GIB, 4 * self.memory_bytes) if self.memory_bytes and self.address_backstop else 0


class TaskFailed(Exception):
    """A task's process died or ran past its deadline; ``reason`` says how, in words."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


_SIGNALS = {
    signal.SIGXCPU: "CPU time limit",
    signal.SIGXFSZ: "file size limit (too much output)",
    signal.SIGKILL: "killed (SIGKILL)",
}


def death_reason(exitcode: int | None, log_tail: str) -> str:
    """How a worker died, in words, with what it printed last (a compiler's or the C++ runtime's
    message: ``std::bad_alloc`` is the memory limit)."""
    reason = exit_reason(exitcode)
    if exitcode is not None and exitcode < 0 and -exitcode in _SIGNALS:
        reason = f"{_SIGNALS[signal.Signals(-exitcode)]} ({signal.Signals(-exitcode).name})"
    if "bad_alloc" in log_tail or "MemoryError" in log_tail or "Cannot allocate memory" in log_tail:
        reason = f"memory limit: {reason}"
    return f"{reason}: {log_tail}" if log_tail else reason


def _resident_bytes(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):  # gone: its death is reported by the task
        return 0


class Sandbox:
    """Runs ``curator.eval.worker`` tasks one at a time in a process that may die."""

    def __init__(self, limits: Limits, root: str | None = None):
        self.limits = limits
        self._root = tempfile.mkdtemp(prefix="curator_eval_", dir=root)
        self._worker: Worker | None = None
        self._work: str | None = None
        self._baseline = 0
        self.deaths = 0

    def _ensure(self) -> Worker:
        if self._worker is not None and self._worker.alive:
            return self._worker
        self._discard()
        self._baseline = 0
        self._work = tempfile.mkdtemp(prefix="w", dir=self._root)
        lim = self.limits
        self._worker = Worker(worker.start, (self._work, lim.address_bytes, lim.file_bytes))
        self._call(self._worker, worker.ping, (), STARTUP_SECONDS)
        self._baseline = _resident_bytes(self._worker.process.pid)
        return self._worker

    def call(self, fn, *args):
        """``fn(*args, cpu_seconds)`` in the worker; TaskFailed when its process dies or overruns."""
        w = self._ensure()
        return self._call(w, fn, (*args, self.limits.cpu_seconds), self.limits.seconds)

    def _call(self, w: Worker, fn, args: tuple, seconds: float):
        fut = w.submit(fn, *args)
        deadline = time.monotonic() + seconds
        try:
            while True:
                with contextlib.suppress(FutureTimeout):
                    return fut.result(timeout=POLL_SECONDS)
                if time.monotonic() > deadline:
                    self._kill(w, f"time limit: still running after {seconds:g} s, killed")
                limit = self.limits.memory_bytes
                if limit and self._baseline and _resident_bytes(w.process.pid) - self._baseline > limit:
                    self._kill(w, f"memory limit: resident memory grew past {limit / GIB:g} GiB, killed")
        except WorkerDied as exc:
            self.deaths += 1
            raise TaskFailed(death_reason(exc.exitcode, self._log_tail())) from None

    def _kill(self, w: Worker, reason: str):
        w.close(wait=False)
        self.deaths += 1
        raise TaskFailed(reason)

    def _log_tail(self) -> str:
        if not self._work:
            return ""
        try:
            data = (Path(self._work) / worker.LOG).read_bytes()[-4000:]
        except OSError:
            return ""
        lines = [ln.strip() for ln in data.decode(errors="replace").splitlines() if ln.strip()]
        return lines[-1][:300] if lines else ""

    def _discard(self) -> None:
        if self._worker is not None:
            self._worker.close(wait=False)
            self._worker = None
        if self._work:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None

    def close(self) -> None:
        self._discard()
        with contextlib.suppress(OSError):
            shutil.rmtree(self._root)
