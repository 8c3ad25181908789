"""`curator ingest --ray`: the isolated ingest worker as a Ray actor, behind the local worker's interface."""

from __future__ import annotations

import os
import threading

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from curator.scale import ClusterError
from curator.scale.ray_pool import NAMESPACE, actor_class, connect, gcs_address, kill_actor, probe


class IngestActor:
    """Imports modules and generates their kernels' code on a cluster node (never in the driver)."""

    def __init__(self, devices: tuple[str, ...], have: frozenset[str]):
        if not os.environ.get("CURATOR_INGEST_VERBOSE"):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)  # imported modules print; the driver's output stays clean
        from curator.warp import init_warp

        init_warp()
        self.devices, self.have = devices, have

    def pid(self) -> int:
        return os.getpid()

    def process(self, job) -> list[tuple]:
        from curator.ingest import worker

        return list(worker.process(job, self.devices, self.have))


class _ActorConnection:
    """The pipe of a local worker, as seen by curator.ingest: send a job, poll, receive messages."""

    def __init__(self, actor):
        self.actor = actor
        self.ref = None
        self.inbox: list = []

    def send(self, job) -> None:
        if job is None:
            return
        self.ref, self.inbox = self.actor.process.remote(job), []
        self.path = job.path

    def poll(self, timeout: float) -> bool:
        """Whether a message is there; a module's messages all arrive when it is done (within timeout)."""
        if self.inbox or self.ref is None:
            return bool(self.inbox)
        ready, _ = ray.wait([self.ref], timeout=timeout)
        if not ready:
            return False
        try:
            self.inbox = [*ray.get(self.ref), ("done", self.path)]
        except RayActorError:
            # the module crashed its actor, or the cluster went away (then the run stops here)
            probe(
                gcs_address(),
                "the Ray cluster at {address} went away ({why}); every module stored is kept, "
                "rerun the command to resume",
            )
            self.inbox = [EOFError]
        self.ref = None
        return True

    def recv(self):
        message = self.inbox.pop(0)
        if message is EOFError:
            raise EOFError("the ingest actor died")
        return message

    def close(self) -> None:
        self.ref, self.inbox = None, []


class _ActorProcess:
    """What curator.ingest asks of the worker process: join, exitcode, is_alive."""

    exitcode = None  # a dead actor's exit code is not reported by Ray

    def join(self, timeout: float | None = None) -> None:
        return None

    def is_alive(self) -> bool:
        return False


class RayIngestWorker:
    """Drop-in for curator.ingest's local _Worker: one actor, restarted after a hang or a crash."""

    def __init__(self, devices: tuple[str, ...], have: set[str], startup_timeout: float = 300.0):
        self.devices, self.have, self.startup_timeout = devices, have, startup_timeout
        self.have_lock = threading.Lock()  # curator.ingest.run gives every worker the one that guards ``have``
        self.proc: _ActorProcess | None = None
        self.pipe: _ActorConnection | None = None
        self.actor = None
        self.jobs = 0
        self.closed = False
        self._lock = threading.Lock()  # stop() may come from the run's main thread

    def ensure(self):
        """The actor's (process, connection), as curator.ingest's _Worker.ensure gives them."""
        with self._lock:
            if self.closed:
                raise ClusterError("the ingest run is stopping")
            if self.actor is not None:
                return self.proc, self.pipe
        with self.have_lock:
            have = frozenset(self.have)
        actor = actor_class(IngestActor).options(namespace=NAMESPACE).remote(self.devices, have)
        with self._lock:
            self.actor = actor
        try:
            ray.get(actor.pid.remote(), timeout=self.startup_timeout)
        except (GetTimeoutError, RayActorError):
            self.stop(kill=True)
            why = f"the ingest actor did not start on the Ray cluster within {self.startup_timeout:g} s"
            raise ClusterError(why) from None
        proc, pipe = _ActorProcess(), _ActorConnection(actor)
        with self._lock:
            if self.actor is actor:
                self.proc, self.pipe, self.jobs = proc, pipe, 0
        return proc, pipe

    def stop(self, *, kill: bool = False) -> None:
        with self._lock:
            actor = self.actor
            self.proc = self.pipe = self.actor = None
        if actor is not None:
            kill_actor(actor)

    def close(self, *, kill: bool = False) -> None:
        with self._lock:
            self.closed = True
        self.stop(kill=kill)


def ray_worker_factory(address: str):
    """A factory of RayIngestWorkers on the cluster at ``address`` (joined on first use)."""

    def make(devices: tuple[str, ...], have: set[str]) -> RayIngestWorker:
        connect(address)
        return RayIngestWorker(devices, have)

    return make
