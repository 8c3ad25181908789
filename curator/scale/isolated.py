"""One worker process running one task at a time, so that when it dies the task it died on, and
how it died (the signal), are known: what a pool cannot say (a ProcessPoolExecutor whose worker
dies fails every task in flight with the same BrokenProcessPool, without the exit status)."""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future


def exit_reason(exitcode: int | None) -> str:
    """How a process ended, in words: 'abort (SIGABRT)', 'exit code 1', ..."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        what = {
            "SIGFPE": "floating point / integer division trap",
            "SIGSEGV": "invalid memory access",
            "SIGABRT": "abort",
        }
        return f"{what.get(name, 'killed')} ({name})"
    return f"exit code {exitcode}"


class WorkerDied(Exception):
    """The worker process ended before it answered (``exitcode`` as multiprocessing gives it:
    minus the signal that ended it); ``starting``: it died before its initializer finished;
    ``reason``: how it ended, in words (``exit_reason``, unless the caller knows better)."""

    def __init__(self, exitcode: int | None, starting: bool = False, reason: str | None = None):
        self.exitcode, self.starting = exitcode, starting
        self.reason = reason or exit_reason(exitcode)
        super().__init__(f"the worker process died{' while starting' if starting else ''}: {self.reason}")


class WorkerStartError(Exception):
    """The worker's initializer raised; the message is its exception's."""


def _serve(conn, initializer: Callable | None, initargs: tuple) -> None:
    try:
        if initializer is not None:
            initializer(*initargs)
    except Exception as exc:
        conn.send(("start-error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the caller went away
            return
        if job is None:
            return
        fn, args = job
        try:
            reply = ("ok", fn(*args))
        except Exception as exc:  # the task's own error, raised again on the caller's side
            reply = ("error", exc)
        try:
            conn.send(reply)
        except (TypeError, AttributeError, pickle.PicklingError) as exc:  # an exception that does not pickle
            conn.send(("error", RuntimeError(f"{reply[1]!r} (not sent: {exc})")))


class IsolatedWorker:
    """A spawned process that ran ``initializer(*initargs)`` once, then runs ``submit``ted tasks
    one at a time (submit the next only when the last one's future is done).  A task whose
    process dies fails with WorkerDied; the worker is then dead (``alive`` is False): start
    another.  ``ready_at``: when the initializer had finished (``time.monotonic()``; None before),
    so that a caller timing its tasks need not count the start."""

    def __init__(self, initializer: Callable | None = None, initargs: tuple = ()):
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, initializer, initargs), daemon=True)
        self.process.start()
        child.close()
        self._ready = False
        self.ready_at: float | None = None
        self.alive = True

    def submit(self, fn: Callable, *args) -> Future:
        fut: Future = Future()
        fut.set_running_or_notify_cancel()
        with contextlib.suppress(OSError):  # gone already: the reader below says how it ended
            self._conn.send((fn, args))
        threading.Thread(target=self._answer, args=(fut,), name="curator-isolated", daemon=True).start()
        return fut

    def _answer(self, fut: Future) -> None:
        try:
            while True:
                kind, value = self._conn.recv()
                if kind != "ready":
                    break
                self._ready = True
                self.ready_at = time.monotonic()
        except (EOFError, OSError):
            self.alive = False
            self.process.join(5)
            fut.set_exception(WorkerDied(self.process.exitcode, starting=not self._ready))
            return
        if kind == "ok":
            fut.set_result(value)
        elif kind == "error":
            fut.set_exception(value)
        else:
            self.alive = False
            fut.set_exception(WorkerStartError(value))

    def close(self, wait: bool = True) -> None:
        """Stop the process: asked to end (``wait``) or killed."""
        if wait and self.process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self._conn.close()
        self.alive = False
