"""Generate throughput against bare Warp codegen of the same kernels, worker scaling, and the
memory of one long-lived worker over many kernels.  Prints figures; asserts nothing.

    python bench/bench_generate.py [--kernels 300] [--memory-kernels 10000] [--seed 101]

Ratios are measured in one run (the machine is shared and noisy): pipeline/bare with one
worker (goal >= 0.85) and two workers/one worker (goal >= 1.7).  Steady-state throughput is
taken from the first committed batch to the last, so the one-off worker start (Python + Warp
import, ~2-4 s) is excluded and reported separately.
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

from curator import generate
from curator.kernels import CATEGORIES, generate_kernel
from curator.store import Store
from curator.warp import build, init_warp

MIB = 1 << 20


def _plan(seed, n):
    it = generate.plan(seed, CATEGORIES)
    return [next(it)[1:] for _ in range(n)]


def bare(seed: int, n: int) -> dict:
    """Warp codegen of the run's kernels, one after another in this process."""
    init_warp()
    items = [generate_kernel(kseed, cat) for cat, kseed in _plan(seed, n)]
    build.generate(items[0].source, items[0].name, "bench_warmup")
    sizes = {"cpu": 0, "cuda": 0}
    t0 = time.perf_counter()
    for i, spec in enumerate(items):
        arts = build.generate(spec.source, spec.name, f"bench_bare_{i}")
        for d, a in arts.items():
            sizes[d] += sum(len(v.encode()) for v in a.pieces.values())
    secs = time.perf_counter() - t0
    return {"kernels_s": n / secs, "secs": secs, "mib_s": {d: b / MIB / secs for d, b in sizes.items()}}


def pipeline(seed: int, n: int, workers: int) -> dict:
    """`curator generate` (the library call the CLI makes) on a fresh store."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "b.db", create=True)
        stamps: list[tuple[float, int, dict]] = []
        t0 = time.perf_counter()

        def on_progress(p):
            stamps.append((time.perf_counter(), p.attempted, dict(p.bytes_new)))

        generate.run(store, devices=("cpu", "cuda"), seed=seed, categories=CATEGORIES, workers=workers, count=n,
                     on_progress=on_progress, batch_size=8)  # fmt: skip
        total = time.perf_counter() - t0
        store.close()
    (t_first, k_first, b_first), (t_last, k_last, b_last) = stamps[0], stamps[-1]
    secs = t_last - t_first
    return {
        "kernels_s": (k_last - k_first) / secs,
        "mib_s": {d: (b_last[d] - b_first.get(d, 0)) / MIB / secs for d in b_last},
        "startup_s": t_first - t0,
        "total_s": total,
    }


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def worker_memory(seed: int, n: int) -> list[tuple[int, float]]:
    """RSS of one worker (the same code path: generate_kernel + record_for_spec) every n/10 kernels."""
    generate._init_worker({}, frozenset(), ("cpu", "cuda"))
    samples = [(0, rss_mib())]
    step = max(1, n // 10)
    for i, (cat, kseed) in enumerate(_plan(seed, n), 1):
        generate.record_for_spec(generate_kernel(kseed, cat), seed, i, ("cpu", "cuda"))
        if i % step == 0:
            samples.append((i, rss_mib()))
    return samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", type=int, default=300)
    ap.add_argument("--memory-kernels", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=101)
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; {a.kernels} kernels, both devices, seed {a.seed}")
    b = bare(a.seed, a.kernels)
    p1 = pipeline(a.seed, a.kernels, 1)
    p2 = pipeline(a.seed, a.kernels, 2)
    print(f"bare Warp codegen, 1 process : {b['kernels_s']:7.1f} kernels/s  "
          + "  ".join(f"{d} {v:5.2f} MiB/s" for d, v in b["mib_s"].items()))  # fmt: skip
    for name, p in (("curator generate, 1 worker", p1), ("curator generate, 2 workers", p2)):
        print(f"{name:<29}: {p['kernels_s']:7.1f} kernels/s  "
              + "  ".join(f"{d} {v:5.2f} MiB/s" for d, v in p["mib_s"].items())
              + f"   (worker start {p['startup_s']:.1f} s, total {p['total_s']:.1f} s)")  # fmt: skip
    print(f"ratio 1 worker / bare       : {p1['kernels_s'] / b['kernels_s']:.2f}   (goal >= 0.85)")
    print(f"ratio 2 workers / 1 worker  : {p2['kernels_s'] / p1['kernels_s']:.2f}   (goal >= 1.70)")
    if a.memory_kernels:
        samples = worker_memory(a.seed + 1, a.memory_kernels)
        print(f"worker RSS over {a.memory_kernels} kernels (MiB): "
              + ", ".join(f"{i}: {m:.0f}" for i, m in samples))  # fmt: skip
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        first = samples[1][1]
        growth = samples[-1][1] - first
        print(f"peak RSS {peak:.0f} MiB; growth after the first {samples[1][0]} kernels: {growth:+.0f} MiB")


if __name__ == "__main__":
    main()
