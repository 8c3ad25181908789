"""`curator ingest --ray`: the isolated ingest worker as a Ray actor, behind the local worker's interface."""

from __future__ import annotations

import os
import threading

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from curator.scale import ClusterError
from curator.scale.ray_pool import NAMESPACE, actor_class, connect, gcs_address, kill_actor, probe
from curator.scale.supervisor import WorkerDied, WorkerHung, quiet


class IngestActor:
    """Imports modules and generates their kernels' code on a cluster node (never in the driver)."""

    def __init__(self, devices: tuple[str, ...], have: frozenset[str]):
        if not os.environ.get("CURATOR_INGEST_VERBOSE"):
            quiet((1,))  # imported modules print; the driver's output stays clean
        from curator.warp import init_warp

        init_warp()
        self.devices, self.have = devices, have

    def pid(self) -> int:
        return os.getpid()

    def process(self, job) -> list[tuple]:
        from curator.ingest import worker

        return list(worker.process(job, self.devices, self.have))


class RayIngestWorker:
    """Drop-in for curator.ingest's local _Worker: one actor, restarted after a hang or a crash."""

    def __init__(self, devices: tuple[str, ...], have: set[str], startup_timeout: float = 300.0):
        self.devices, self.have, self.startup_timeout = devices, have, startup_timeout
        self.have_lock = threading.Lock()  # curator.ingest.run gives every worker the one that guards ``have``
        self.actor = None
        self.jobs = 0
        self.closed = False
        self._lock = threading.Lock()  # stop() may come from the run's main thread

    def ensure(self):
        """The running actor, started if need be."""
        with self._lock:
            if self.closed:
                raise ClusterError("the ingest run is stopping")
            if self.actor is not None:
                return self.actor
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
        with self._lock:
            if self.actor is actor:
                self.jobs = 0
        return actor

    def stream(self, job, silence: float):
        """The messages of ``job``'s module, as the local worker's ``stream`` gives them: a module's
        messages all arrive when it is done (WorkerHung past ``silence``, WorkerDied if the actor dies)."""
        actor = self.ensure()
        self.jobs += 1
        ref = actor.process.remote(job)
        ready, _ = ray.wait([ref], timeout=silence)
        if not ready:
            self.stop(kill=True)
            raise WorkerHung(silence)
        try:
            messages = ray.get(ref)
        except RayActorError:
            # the module crashed its actor, or the cluster went away (then the run stops here)
            probe(
                gcs_address(),
                "the Ray cluster at {address} went away ({why}); every module stored is kept, "
                "rerun the command to resume",
            )
            self.stop(kill=True)
            raise WorkerDied(None, reason="the ingest actor died") from None
        yield from messages

    def stop(self, *, kill: bool = False) -> None:
        with self._lock:
            actor = self.actor
            self.actor = None
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
