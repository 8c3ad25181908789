"""An Executor over Ray actors: each actor initialises its worker state (Warp) once and runs batches."""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future

import ray
from ray.exceptions import GetTimeoutError, RayError, RayTaskError

from curator.errors import describe
from curator.scale import ClusterError, PoolWorkerDied

NAMESPACE = "curator"
READY_TIMEOUT_S = 300.0  # an actor starting (Python, curator, Warp) on a busy node
PROBE_EVERY_S = 10.0  # with nothing finishing, check that the cluster still answers this often
GET_PROBE_S = 2.0  # a finished result not fetched within this: check the cluster (it may be gone)
INLINE_RESULT_BYTES = 256 << 20  # below Ray's 512 MiB gRPC message limit
MAX_TRIES = 4  # a batch whose actor died this many times fails the run (pools that rerun the dead's batches)


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
        ray.init(
            address=address,
            namespace=NAMESPACE,
            logging_level=logging.ERROR,
            log_to_driver=False,
            configure_logging=True,
        )
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

    A batch whose actor died is run again on another actor (a replacement is started), up to
    MAX_TRIES times; with ``rerun_dead=False`` it is not, and its future fails with PoolWorkerDied
    (the caller decides: verify bisects the batch to find the kernel its compiler crashes on).
    Such a pool gives each actor one batch at a time, so that the batch that fails is the one the
    actor died running, not one waiting behind it.  When the cluster itself stops answering, every
    waiting future fails with ClusterError.  Work is idempotent on the driver's side (content-hash
    ids), so a batch run twice stores nothing twice.
    """

    def __init__(
        self,
        actors: int,
        initializer: Callable | None = None,
        initargs: tuple = (),
        *,
        per_actor: int = 2,
        rerun_dead: bool = True,
    ):
        # passed by value, not ray.put: a put object lives in the object store of the driver's node,
        # and when that node goes away Ray's recovery of it ends this process (exit 1, no message)
        self._setup = (initializer, initargs)
        self._gcs = gcs_address()
        self._per_actor = per_actor if rerun_dead else 1
        self._rerun_dead = rerun_dead
        self._pids: dict = {}  # actor -> its process id (for the message of a death)
        self._lock = threading.Lock()
        self._pending: collections.deque = collections.deque()  # (future, fn, args, tries)
        self._running: dict = {}  # ObjectRef -> (actor, task)
        self._given: dict = {}  # ObjectRef -> when its task was given to its actor (time.monotonic())
        self._actors: dict = {}  # ready actor -> tasks in flight on it
        self._starting: dict = {}  # ObjectRef of an actor's first answer -> the actor (placed, initialising)
        self._started = 0
        self._start_failures = 0
        self._closing = False
        self._abandon = False  # shutdown(wait=False): stop without waiting for batches in flight
        self._error: ClusterError | None = None
        self.actor_deaths = 0
        self._actor_class = actor_class(BatchActor)
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

    def kill_worker(self, fut: Future) -> None:
        """Kill the actor running ``fut``'s task (a task that hangs): the task then ends as one
        whose actor died (run again, or PoolWorkerDied with ``rerun_dead=False``)."""
        with self._lock:
            actors = [actor for actor, task in self._running.values() if task[0] is fut]
        for actor in actors:
            kill_actor(actor)

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
        # unnamed: creating a named actor asks the head synchronously whether the name is taken,
        # and with the head gone that call hangs for 60 s before Ray ends the process
        actor = self._actor_class.options(namespace=NAMESPACE, lifetime=None).remote(self._setup)
        # batches go only to actors that answered (placed and initialised): an actor waiting for a
        # free CPU must not sit on batches that ready actors could run
        self._starting[actor.pid.remote()] = actor

    def _pump(self) -> None:
        try:
            self._pump_until_done()
        except ClusterError:
            pass  # every waiting future has it already
        except BaseException as exc:  # never leave the caller waiting on futures nobody completes
            self._fail_all(ClusterError(f"the Ray pool stopped: {describe(exc)}"))

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
                    self._given.clear()
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
            self._pids[actor] = self._get(ref)
        except RayError as exc:  # e.g. Warp failed to initialise there
            self._check_cluster()
            kill_actor(actor)
            self._start_failures += 1
            if self._start_failures >= MAX_TRIES:
                why = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else type(exc).__name__
                error = ClusterError(f"Ray actors fail to start ({why})")
                self._fail_all(error)
                raise error from None
            self._start_actor()
            return
        self._actors[actor] = 0

    def _dispatch(self) -> None:
        for actor, busy in sorted(self._actors.items(), key=lambda kv: kv[1]):
            while busy < self._per_actor and self._pending:
                task = self._pending.popleft()
                if task[3] == 0 and not task[0].set_running_or_notify_cancel():
                    continue  # cancelled before it ran (a retried batch is running already)
                ref = actor.run.remote(task[1], task[2])
                self._running[ref] = (actor, task)
                self._given[ref] = time.monotonic()
                busy += 1
            self._actors[actor] = busy

    def _finish(self, ref) -> None:
        with self._lock:  # kill_worker looks a task's actor up from another thread
            actor, task = self._running.pop(ref)
            given = self._given.pop(ref, None)
        fut = task[0]
        try:
            fut.set_result(self._get(ref))
        except ClusterError:
            fut.set_exception(self._error)
            raise
        except RayTaskError as exc:  # the function itself raised: hand the caller its exception
            fut.set_exception(exc.as_instanceof_cause())
        except RayError as exc:  # its actor died or is unreachable (killed, node lost, cluster gone), or result lost
            self._actor_died(actor, task, exc, None if given is None else time.monotonic() - given)
            return
        if actor in self._actors:
            self._actors[actor] -= 1

    def _get(self, ref):
        """``ray.get(ref)``, but a ClusterError once the head stops answering: a result held in
        the object store of a node that went away is not an error to Ray, which tries to rebuild
        it and, when the head itself is gone, ends this process after 60 s."""
        while True:
            try:
                return ray.get(ref, timeout=GET_PROBE_S)
            except GetTimeoutError:
                self._check_cluster()

    def _actor_died(self, actor, task, exc: RayError, ran_s: float | None = None) -> None:
        """Run the batch again elsewhere (or fail it with PoolWorkerDied), or stop everything if
        the cluster itself is gone."""
        self.actor_deaths += 1
        pid = self._pids.pop(actor, None)
        if self._abandon:
            return
        if actor in self._actors:
            del self._actors[actor]
            try:  # first, with a plain connect: Ray's own calls wait up to 60 s for a head that is gone
                self._check_cluster()
            except ClusterError:
                task[0].set_exception(self._error)
                return
            kill_actor(actor)
            self._start_actor()
        fut, fn, args, tries = task
        if not self._rerun_dead:
            fut.set_exception(PoolWorkerDied(death_reason(exc, pid), seconds=ran_s))
            return
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
            error = ClusterError(f"{exc}; every committed batch is kept, rerun the command to resume")
            self._fail_all(error)
            raise error from None

    def _fail_all(self, error: ClusterError) -> None:
        with self._lock:
            self._error = error
            waiting = [t[0] for t in self._pending] + [t[0] for _, t in self._running.values()]
            self._pending.clear()
            self._running.clear()
            self._given.clear()
        for fut in waiting:
            if not fut.done():
                fut.set_exception(error)


@functools.cache
def actor_class(cls: type):
    """``cls`` as a Ray actor class, made once per process: Ray exports a class to the head (a
    synchronous call, which hangs 60 s once the head is gone) when its first actor starts, not for
    the replacements.  Results travel back inline in a task's reply, never through the node's
    object store: a result held there is lost with the node, and Ray's recovery of a lost object
    ends the driver (exit 1, no message) when its own node's store is gone."""
    env = {"env_vars": {"RAY_max_direct_call_object_size": str(INLINE_RESULT_BYTES)}}
    return ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0, runtime_env=env)(cls)


def death_reason(exc: RayError, pid: int | None) -> str:
    """How an actor's process ended, as far as Ray says (it gives no exit status or signal)."""
    who = f"the Ray actor process{f' {pid}' if pid else ''}"
    return f"{who} ended ({type(exc).__name__}; Ray does not say how)"


def kill_actor(actor) -> None:
    """Kill ``actor`` unless the head is gone (its actors are gone with it, and Ray's kill call
    would wait 60 s for the head before ending this process)."""
    try:
        probe(gcs_address(), "{address}: {why}")
    except ClusterError:
        return
    with contextlib.suppress(RayError, ConnectionError):  # the actor is gone already
        ray.kill(actor, no_restart=True)


def ray_pool_factory(address: str):
    """A PoolFactory making RayPools on the cluster at ``address`` (joined on first use)."""

    def make(workers: int, initializer=None, initargs=(), *, rerun_dead: bool = True) -> RayPool:
        connect(address)
        return RayPool(workers, initializer, initargs, rerun_dead=rerun_dead)

    return make
