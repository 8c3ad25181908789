"""`generate` on a local 2-CPU Ray cluster against local worker processes on the same 2 cores, in
one run, and the single-writer rate.  Prints figures; asserts nothing.

    python bench/bench_ray.py [--count 400] [--rounds 2] [--writer-kernels 1000]

The same plan (--count kernels of --seed, both devices) runs alternately with 2 local spawned
workers and with 2 Ray actors (`ray start --head --num-cpus 2` on 127.0.0.1, separate
processes, torn down at the end), each into a fresh store.  Throughput is steady state: from
the first committed batch to the last, so worker start (Python + Warp import) is reported
apart; the engine's overhead is 1 - ray/local of the best round of each (goal <= 10 %).  As
wall-clock rates swing with other users' load on a shared machine, the CPU seconds per kernel
of every process involved (driver, workers; or driver, actors and Ray's own daemons) are
reported too: their ratio is the engine's cost in work, whatever the load.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scaling import bench_writer

from curator import generate
from curator.kernels import CATEGORIES
from curator.store import Store
from tests.integration.ray_cluster import LocalRayCluster

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> dict[int, float]:
    """user + system CPU seconds of each live process among ``pids`` (from /proc)."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def own_cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def one_run(db: Path, count: int, seed: int, cluster=None, pool_factory=None) -> dict:
    """A generate run: steady-state kernels/s from the first committed batch to the last, and the CPU
    seconds spent per kernel by every process involved (this one, its workers, or the whole cluster:
    actors and Ray's daemons, sampled after each batch since killed actors take their counts along)."""
    stamps: list[tuple[float, int]] = []
    seen: dict[int, float] = {}
    start = cpu_seconds(cluster.pids()) if cluster else {}
    cpu0 = own_cpu(resource.RUSAGE_SELF) + own_cpu(resource.RUSAGE_CHILDREN)

    def on_progress(p):
        stamps.append((time.perf_counter(), p.attempted))
        if cluster:
            seen.update(cpu_seconds(cluster.pids()))

    t = time.perf_counter()
    with Store.open(db, create=True) as store:
        p = generate.run(
            store,
            devices=("cpu", "cuda"),
            seed=seed,
            categories=CATEGORIES,
            workers=2,
            count=count,
            on_progress=on_progress,
            pool_factory=pool_factory,
        )
    wall = time.perf_counter() - t
    cpu = own_cpu(resource.RUSAGE_SELF) + own_cpu(resource.RUSAGE_CHILDREN) - cpu0
    cpu += sum(v - start.get(pid, 0.0) for pid, v in seen.items())
    (t0, n0), (t1, n1) = stamps[0], stamps[-1]
    return {
        "new": p.new_kernels,
        "wall": wall,
        "first_batch": t0 - t,
        "steady": (n1 - n0) / (t1 - t0),
        "cpu_ms": 1000 * cpu / max(1, p.attempted),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--writer-kernels", type=int, default=1000)
    args = ap.parse_args()
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    print(f"cores: {os.cpu_count()}; {args.count} kernels x 2 devices per run, {args.rounds} rounds, shared machine")
    results: dict[str, list[dict]] = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory(prefix="cr") as tmp:
        cluster = LocalRayCluster(Path(tmp) / "r")
        t = time.perf_counter()
        cluster.start()
        try:
            from curator.scale import ray_pool

            ray_pool.connect(cluster.address)
            print(f"ray start --head + connect: {time.perf_counter() - t:.1f} s")
            for r in range(args.rounds):
                for kind in ("local", "ray"):
                    factory = ray_pool.ray_pool_factory(cluster.address) if kind == "ray" else None
                    res = one_run(
                        Path(tmp) / f"{kind}{r}.db", args.count, args.seed, cluster if kind == "ray" else None, factory
                    )
                    results[kind].append(res)
                    print(
                        f"  round {r + 1} {kind:5}: {res['steady']:6.1f} kernels/s steady, {res['wall']:5.1f} s "
                        f"wall, first batch after {res['first_batch']:.1f} s, {res['cpu_ms']:.0f} CPU-ms per kernel, "
                        f"{res['new']} new"
                    )
        finally:
            import ray

            ray.shutdown()
            cluster.stop()
        left = cluster.pids()
        best = {k: max(r["steady"] for r in v) for k, v in results.items()}
        print(
            f"generate: Ray {best['ray']:.1f} vs local {best['local']:.1f} kernels/s (best rounds) -> "
            f"ray/local {best['ray'] / best['local']:.3f}, engine overhead "
            f"{100 * (1 - best['ray'] / best['local']):+.1f} % (goal <= 10 %)"
        )
        cpu = {k: min(r["cpu_ms"] for r in v) for k, v in results.items()}
        extra = 100 * (cpu["ray"] / cpu["local"] - 1)
        print(
            f"CPU per kernel (all processes; robust to other users' load): Ray {cpu['ray']:.0f} vs local "
            f"{cpu['local']:.0f} ms (best rounds) -> engine CPU overhead {extra:+.1f} %"
        )
        print(f"  cluster processes left after teardown: {len(left)}")
        if args.writer_kernels:
            w = bench_writer(args.writer_kernels, Path(tmp))
            ratio = w["kernels_s"] / best["ray"]
            print(
                f"the single writer takes {w['kernels_s']:,.0f} kernels/s = {ratio:,.0f}x this 2-CPU cluster's "
                f"generate rate: about {2 * ratio:,.0f} such CPUs saturate one driver"
            )


if __name__ == "__main__":
    main()
