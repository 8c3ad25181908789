"""A real local Ray cluster for tests: `ray start --head` on 127.0.0.1 in its own session, torn down by pid."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")
ENV = os.environ | {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
PORT_OPTIONS = (
    "--port",
    "--node-manager-port",
    "--object-manager-port",
    "--dashboard-agent-grpc-port",
    "--dashboard-agent-listen-port",
    "--metrics-export-port",
    "--runtime-env-agent-port",
)
WORKER_PORTS = 100


def free_ports(n: int) -> list[int]:
    """n distinct ports nobody listens on now (bound to 127.0.0.1 and released)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def worker_port_base(taken: set[int]) -> int:
    """The first of WORKER_PORTS free ports below Linux's ephemeral range, clear of ``taken``."""
    rng = random.Random()
    for _ in range(50):
        base = rng.randrange(20000, 32000 - WORKER_PORTS)
        if taken & set(range(base, base + WORKER_PORTS)):
            continue
        try:
            for port in range(base, base + WORKER_PORTS):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free range of worker ports found")


class LocalRayCluster:
    """`ray start --head` with 2 CPUs, explicit loopback ports and a private --temp-dir."""

    def __init__(self, temp_dir: Path, cpus: int = 2):
        self.temp_dir = temp_dir
        self.cpus = cpus
        self.session: int | None = None
        self.address = ""

    def start(self, attempts: int = 3) -> LocalRayCluster:
        """Start the head; a port taken between choosing and binding it means another try."""
        for attempt in range(attempts):
            ports = free_ports(len(PORT_OPTIONS))
            base = worker_port_base(set(ports))
            args = [
                str(RAY),
                "start",
                "--head",
                "--node-ip-address",
                "127.0.0.1",
                f"--num-cpus={self.cpus}",
                "--include-dashboard=false",
                "--disable-usage-stats",
                f"--temp-dir={self.temp_dir}",
                f"--min-worker-port={base}",
                f"--max-worker-port={base + WORKER_PORTS - 1}",
            ]
            args += [f"{opt}={port}" for opt, port in zip(PORT_OPTIONS, ports, strict=True)]
            # its own session: every daemon and actor process it starts keeps this session id
            proc = subprocess.Popen(
                args, env=ENV, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            self.session = proc.pid
            out, _ = proc.communicate(timeout=180)
            if proc.returncode == 0:
                self.address = f"127.0.0.1:{ports[0]}"
                return self
            self.stop()
            if attempt == attempts - 1:
                raise RuntimeError(f"ray start failed:\n{out[-3000:]}")
        return self

    def pids(self) -> list[int]:
        out = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getsid(int(entry)) == self.session:
                        out.append(int(entry))
                except OSError:
                    pass
        return out

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL, every process of the cluster's session (the head goes away)."""
        if self.session is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.pids():
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + grace
            while self.pids() and time.monotonic() < deadline:
                time.sleep(0.1)
            if not self.pids():
                break


ACTOR_PIDS = """
import sys, ray
from curator.scale import ray_pool
ray.init(address=sys.argv[1], namespace=ray_pool.NAMESPACE, logging_level="ERROR", log_to_driver=False)
# the head's actor table (ray.util.state needs the dashboard, which the test cluster does not run)
from ray._private import state
pids = [a["Pid"] for a in state.actors().values()
        if a["ActorClassName"] == ray_pool.BatchActor.__name__ and a["State"] == "ALIVE" and a["Pid"]]
print(" ".join(map(str, pids)))
"""


def actor_pids(address: str) -> list[int]:
    """Process ids of curator's live worker actors, from the head's actor table."""
    res = subprocess.run(
        [sys.executable, "-c", ACTOR_PIDS, address], env=ENV, capture_output=True, text=True, timeout=120
    )
    return [int(p) for p in res.stdout.split()]
