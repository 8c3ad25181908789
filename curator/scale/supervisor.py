"""The one worker supervisor: a spawned process that runs an initializer once, then tasks one at a
time, each answered by one result or a stream of them.  Its death (with the signal), a hang (no
word within a deadline: the process is killed) or a failed start is known for the task it happened
under, where a pool could not say (a ProcessPoolExecutor fails every task in flight alike).  The
process can be kept quiet (stdout/stderr to /dev/null), in a private temporary folder (TMPDIR,
removed when it ends, however it ended) and under resource limits."""

from __future__ import annotations

import contextlib
import inspect
import multiprocessing
import os
import pickle
import resource
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass

from curator.errors import describe

STARTUP_TIMEOUT = 120.0  # seconds a worker may take to start (import and initialise Warp)


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
            "SIGXCPU": "CPU time limit",
            "SIGXFSZ": "file size limit",
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


class WorkerHung(Exception):
    """No word from the worker within ``seconds`` (it was killed); ``starting``: before it was ready."""

    def __init__(self, seconds: float, starting: bool = False):
        self.seconds, self.starting = seconds, starting
        super().__init__(f"the worker gave no answer within {seconds:g} s{' of starting' if starting else ''}")


class WorkerStartError(Exception):
    """The worker's initializer raised; the message is its exception's."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of the worker process (None: the parent's): address space and file size in
    bytes, CPU seconds."""

    memory: int | None = None
    file_size: int | None = None
    cpu_seconds: int | None = None

    def apply(self) -> None:
        for which, value in (
            (resource.RLIMIT_AS, self.memory),
            (resource.RLIMIT_FSIZE, self.file_size),
            (resource.RLIMIT_CPU, self.cpu_seconds),
        ):
            if value is not None:
                resource.setrlimit(which, (value, value))


@dataclass
class Message:
    """What the worker said: ``ready``, ``ok`` (a result), ``item`` / ``end`` (a stream),
    ``error`` (the task raised: ``value`` is the exception), ``start-error``, or ``died``
    (``value``: the WorkerDied)."""

    kind: str
    value: object = None


def quiet(fds: tuple[int, ...] = (1, 2)) -> None:
    """Send this process's ``fds`` (stdout, stderr) to /dev/null: kernels and imported modules print."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in fds:
        os.dup2(devnull, fd)
    os.close(devnull)


def _serve(conn, initializer, initargs, quiet_stdio: bool, work: str | None, limits: Limits | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    try:
        if quiet_stdio:
            quiet()
        if work is not None:
            tempfile.tempdir = work
            os.environ["TMPDIR"] = work
        if limits is not None:
            limits.apply()
        if initializer is not None:
            initializer(*initargs)
    except Exception as exc:
        conn.send(("start-error", describe(exc)))
        return
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the driver went away
            return
        if job is None:
            return
        fn, args = job
        try:
            if inspect.isgeneratorfunction(fn):
                for item in fn(*args):
                    conn.send(("item", item))
                reply: tuple = ("end", None)
            else:
                reply = ("ok", fn(*args))
        except Exception as exc:  # the task's own error, raised again on the driver's side
            reply = ("error", exc)
        try:
            conn.send(reply)
        except (TypeError, AttributeError, pickle.PicklingError) as exc:  # an exception that does not pickle
            conn.send(("error", RuntimeError(f"{reply[1]!r} (not sent: {exc})")))


class Worker:
    """A supervised worker process.  ``send`` a task and ``receive`` its messages (or ``wait_for``
    the pipe of several workers with ``multiprocessing.connection.wait``), or use ``submit`` (a
    Future of one result) or ``stream`` (the items of a generator task, each within a deadline).
    ``work``: the private folder (its TMPDIR), removed by ``close``.
    ``stop``/``close`` may come from another thread than the one using the worker."""

    def __init__(
        self,
        initializer: Callable | None = None,
        initargs: tuple = (),
        *,
        quiet: bool = False,
        private_tmp: bool | str = False,
        limits: Limits | None = None,
    ):
        ctx = multiprocessing.get_context("spawn")
        self.work = None
        if private_tmp:
            parent = private_tmp if isinstance(private_tmp, str) else None
            self.work = tempfile.mkdtemp(prefix="curator_worker_", dir=parent)
        self.connection, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_serve, args=(child, initializer, initargs, quiet, self.work, limits), daemon=True
        )
        self.process.start()
        child.close()
        self.started_at = time.monotonic()
        self.ready_at: float | None = None  # when the initializer had finished (time.monotonic())
        self.alive = True
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def ready(self) -> bool:
        return self.ready_at is not None

    def send(self, fn: Callable, *args) -> None:
        """Post a task (one at a time: the next once this one's answer is in)."""
        with contextlib.suppress(OSError):  # gone already: receive says how it ended
            self.connection.send((fn, args))

    def receive(self, timeout: float | None = None) -> Message | None:
        """The worker's next message (None: none within ``timeout``); a ``ready`` is noted."""
        try:
            if timeout is not None and not self.connection.poll(timeout):
                return None
            kind, value = self.connection.recv()
        except (EOFError, OSError):
            self.alive = False
            self.process.join(5)
            return Message("died", WorkerDied(self.process.exitcode, starting=not self.ready))
        if kind == "ready":
            self.ready_at = time.monotonic()
        elif kind == "start-error":
            self.alive = False
        return Message(kind, value)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Block until the initializer has finished; raises WorkerDied, WorkerHung or WorkerStartError."""
        while not self.ready:
            msg = self.receive(max(0.0, self.started_at + timeout - time.monotonic()))
            self._raise_for(msg, timeout, starting=True)

    def _raise_for(self, msg: Message | None, timeout: float, starting: bool = False) -> None:
        if msg is None:
            self.stop(kill=True)
            raise WorkerHung(timeout, starting=starting)
        if msg.kind == "died":
            raise msg.value  # type: ignore[misc]
        if msg.kind == "start-error":
            raise WorkerStartError(msg.value)
        if msg.kind == "error":
            raise msg.value  # type: ignore[misc]

    def call(self, fn: Callable, *args, timeout: float | None = None):
        """Run ``fn(*args)`` in the worker and return its result, within ``timeout`` seconds of the
        worker being ready (a hang kills the worker and raises WorkerHung)."""
        self.wait_ready()
        self.send(fn, *args)
        while True:
            msg = self.receive(timeout)
            self._raise_for(msg, timeout or 0.0)
            if msg is not None and msg.kind == "ok":
                return msg.value

    def stream(self, fn: Callable, *args, silence: float) -> Iterator:
        """The items a generator task yields; each must come within ``silence`` seconds of the last
        (else the worker is killed and WorkerHung raised)."""
        self.wait_ready()
        self.send(fn, *args)
        while True:
            msg = self.receive(silence)
            self._raise_for(msg, silence)
            if msg is not None and msg.kind == "end":
                return
            if msg is not None and msg.kind == "item":
                yield msg.value

    def submit(self, fn: Callable, *args) -> Future:
        """A Future of ``fn(*args)``'s result (WorkerDied, WorkerStartError or the task's error)."""
        fut: Future = Future()
        fut.set_running_or_notify_cancel()
        self.send(fn, *args)

        def answer() -> None:
            while True:
                msg = self.receive()
                if msg is None or msg.kind == "ready":
                    continue
                if msg.kind == "ok":
                    fut.set_result(msg.value)
                elif msg.kind == "start-error":
                    fut.set_exception(WorkerStartError(msg.value))
                else:
                    fut.set_exception(msg.value)  # type: ignore[arg-type]
                return

        threading.Thread(target=answer, name="curator-worker", daemon=True).start()
        return fut

    def stop(self, *, kill: bool = False) -> None:
        """End the process: asked to (unless ``kill``), killed if it does not within 5 s."""
        with self._lock:
            if not kill and self.process.is_alive():
                with contextlib.suppress(OSError):
                    self.connection.send(None)
                self.process.join(5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(5)
            self.alive = False
            with contextlib.suppress(OSError):
                self.connection.close()

    def close(self, wait: bool = True) -> None:
        """Stop the process (``wait``: asked to end, else killed) and remove its private folder."""
        self.stop(kill=not wait)
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
