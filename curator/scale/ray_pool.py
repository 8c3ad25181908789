"""An Executor over Ray actors: each actor initialises its worker state (Warp) once and runs batches."""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future

import ray
from ray.exceptions import RayError, RayTaskError

from curator.scale import ClusterError

NAMESPACE = "curator"
ACTOR_PREFIX = "curator-worker"
READY_TIMEOUT_S = 300.0  # an actor starting (Python, curator, Warp) on a busy node
PROBE_EVERY_S = 10.0  # with nothing finishing, check that the cluster still answers this often
MAX_TRIES = 4  # a batch whose actor died this many times fails the run


class BatchActor:
    """One long-lived worker process on the cluster (what a local pool process is)."""

    def __init__(self, setup: tuple):
        initializer, initargs = setup
        if initializer is not None:
            initializer(*initargs)

    def pid(self) -> int:
        return os.getpid()

    def run(self, fn: Callable, args: tuple):
        return fn(*args)


def connect(address: str) -> int:
    """Join the Ray cluster at ``address`` ('auto' or HOST:PORT) as a driver; return its CPU count."""
    if ray.is_initialized():
        return int(ray.cluster_resources().get("CPU", 0))
    if address != "auto":
        probe(address, "no Ray cluster answers at {address} ({why}); start one with `ray start --head`")
    # a Ray call after ray.shutdown (e.g. at exit) must fail, not start or join some other cluster
    os.environ["RAY_ENABLE_AUTO_CONNECT"] = "0"
    try:
        ray.init(address=address, namespace=NAMESPACE, logging_level=logging.ERROR, log_to_driver=False,
                 configure_logging=True)  # fmt: skip
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot join the Ray cluster at {address}: {str(exc).splitlines()[0]}") from None
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if cpus < 1:
        raise ClusterError(f"the Ray cluster at {address} has no CPUs to run workers on")
    return cpus


def probe(address: str, message: str) -> None:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=5):
            pass
    except (OSError, ValueError) as exc:
        raise ClusterError(message.format(address=address, why=getattr(exc, "strerror", None) or exc)) from None


def gcs_address() -> str:
    return ray.get_runtime_context().gcs_address


class RayPool(Executor):
    """``submit(fn, *args)`` runs ``fn(*args)`` on one of ``actors`` Ray actors and returns a
    concurrent Future, so code written for a ProcessPoolExecutor drives it unchanged.

    A batch whose actor died is run again on another actor (a replacement is started); when the
    cluster itself stops answering, every waiting future fails with ClusterError.  Work is
    idempotent on the driver's side (content-hash ids), so a batch run twice stores nothing twice.
    """

    def __init__(self, actors: int, initializer: Callable | None = None, initargs: tuple = (), *,
                 per_actor: int = 2, name: str | None = None):  # fmt: skip
        self._setup = ray.put((initializer, initargs))
        self._gcs = gcs_address()
        self._token = name or uuid.uuid4().hex[:8]
        self._per_actor = per_actor
        self._lock = threading.Lock()
        self._pending: collections.deque = collections.deque()  # (future, fn, args, tries)
        self._running: dict = {}  # ObjectRef -> (actor, task)
        self._actors: dict = {}  # ready actor -> tasks in flight on it
        self._starting: dict = {}  # ObjectRef of an actor's first answer -> the actor (placed, initialising)
        self._started = 0
        self._start_failures = 0
        self._closing = False
        self._abandon = False  # shutdown(wait=False): stop without waiting for batches in flight
        self._error: ClusterError | None = None
        self.actor_deaths = 0
        for _ in range(actors):
            self._start_actor()
        self._thread = threading.Thread(target=self._pump, name="curator-ray-pool", daemon=True)
        self._thread.start()

    # -- Executor ------------------------------------------------------------------------
    def submit(self, fn, /, *args, **kwargs):
        if kwargs:
            raise TypeError("RayPool.submit takes positional arguments only")
        fut: Future = Future()
        with self._lock:
            if self._error is not None:
                fut.set_exception(self._error)
            elif self._closing:
                raise RuntimeError("cannot submit to a pool that is shut down")
            else:
                self._pending.append((fut, fn, args, 0))
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """With ``wait``, let the batches submitted finish first; without, stop now: batches in
        flight are dropped (their futures cancelled) and the actors killed."""
        with self._lock:
            if cancel_futures:
                while self._pending:
                    self._pending.popleft()[0].cancel()
            self._closing = True
            self._abandon = not wait
        self._thread.join(timeout=None if wait else 10)
        for actor in [*self._actors, *self._starting.values()]:
            kill_actor(actor)
        self._actors.clear()
        self._starting.clear()

    # -- the pump thread -----------------------------------------------------------------
    def _start_actor(self) -> None:
        self._started += 1
        remote = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(BatchActor)
        actor = remote.options(name=f"{ACTOR_PREFIX}-{self._token}-{self._started}", namespace=NAMESPACE,
                               lifetime=None).remote(self._setup)  # fmt: skip
        # batches go only to actors that answered (placed and initialised): an actor waiting for a
        # free CPU must not sit on batches that ready actors could run
        self._starting[actor.pid.remote()] = actor

    def _pump(self) -> None:
        try:
            self._pump_until_done()
        except ClusterError:
            pass  # every waiting future has it already
        except BaseException as exc:  # never leave the caller waiting on futures nobody completes
            self._fail_all(ClusterError(f"the Ray pool stopped: {type(exc).__name__}: {exc}"))

    def _pump_until_done(self) -> None:
        last_done = time.monotonic()
        while True:
            with self._lock:
                if self._abandon:
                    for fut, *_ in [*self._pending, *(t for _, t in self._running.values())]:
                        if not fut.cancel() and not fut.done():  # running: nobody may wait on it forever
                            fut.set_exception(ClusterError("the Ray pool was shut down before this batch finished"))
                    self._pending.clear()
                    self._running.clear()
                    return
                if self._error is not None or (self._closing and not self._pending and not self._running):
                    return
                self._dispatch()
            waiting = [*self._running, *self._starting]
            if not waiting:
                time.sleep(0.02)
                continue
            done, _ = ray.wait(waiting, num_returns=1, timeout=0.5)
            if done:
                last_done = time.monotonic()
            elif time.monotonic() - last_done > PROBE_EVERY_S:
                last_done = time.monotonic()
                self._check_cluster()
            for ref in done:
                if ref in self._starting:
                    self._started_or_not(ref)
                else:
                    self._finish(ref)

    def _started_or_not(self, ref) -> None:
        actor = self._starting.pop(ref)
        try:
            ray.get(ref)
        except RayError as exc:  # e.g. Warp failed to initialise there
            kill_actor(actor)
            self._start_failures += 1
            self._check_cluster()
            if self._start_failures >= MAX_TRIES:
                why = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else type(exc).__name__
                self._fail_all(ClusterError(f"Ray actors fail to start ({why})"))
                raise self._error from None
            self._start_actor()
            return
        self._actors[actor] = 0

    def _dispatch(self) -> None:
        for actor, busy in sorted(self._actors.items(), key=lambda kv: kv[1]):
            while busy < self._per_actor and self._pending:
                task = self._pending.popleft()
                if task[3] == 0 and not task[0].set_running_or_notify_cancel():
                    continue  # cancelled before it ran (a retried batch is running already)
                self._running[actor.run.remote(task[1], task[2])] = (actor, task)
                busy += 1
            self._actors[actor] = busy

    def _finish(self, ref) -> None:
        actor, task = self._running.pop(ref)
        fut = task[0]
        try:
            fut.set_result(ray.get(ref))
        except RayTaskError as exc:  # the function itself raised: hand the caller its exception
            fut.set_exception(exc.as_instanceof_cause())
        except RayError:  # its actor died or is unreachable (killed, node lost, cluster gone), or its result lost
            self._actor_died(actor, task)
            return
        if actor in self._actors:
            self._actors[actor] -= 1

    def _actor_died(self, actor, task) -> None:
        """Run the batch again elsewhere, or stop everything if the cluster itself is gone."""
        self.actor_deaths += 1
        if self._abandon:
            return
        if actor in self._actors:
            del self._actors[actor]
            kill_actor(actor)
            try:
                self._check_cluster()
            except ClusterError:
                task[0].set_exception(self._error)
                return
            self._start_actor()
        fut, fn, args, tries = task
        if tries + 1 >= MAX_TRIES:
            fut.set_exception(ClusterError(f"a batch's Ray actor died {tries + 1} times; giving up"))
            return
        with self._lock:
            self._pending.appendleft((fut, fn, args, tries + 1))

    def _check_cluster(self) -> None:
        """Raise ClusterError (and fail every waiting future) if the head stopped answering."""
        try:
            probe(self._gcs, "the Ray cluster at {address} went away ({why})")
        except ClusterError as exc:
            self._fail_all(ClusterError(f"{exc}; every committed batch is kept, rerun the command to resume"))
            raise self._error from None

    def _fail_all(self, error: ClusterError) -> None:
        with self._lock:
            self._error = error
            waiting = [t[0] for t in self._pending] + [t[0] for _, t in self._running.values()]
            self._pending.clear()
            self._running.clear()
        for fut in waiting:
            if not fut.done():
                fut.set_exception(error)


def kill_actor(actor) -> None:
    with contextlib.suppress(RayError, ConnectionError):  # the actor (or the cluster) is gone already
        ray.kill(actor, no_restart=True)


def ray_pool_factory(address: str):
    """A PoolFactory making RayPools on the cluster at ``address`` (joined on first use)."""

    def make(workers: int, initializer=None, initargs=()) -> RayPool:
        connect(address)
        return RayPool(workers, initializer, initargs)

    return make
