"""Generate throughput against the raw anchor, worker scaling, and the memory of one
long-lived worker over many kernels.  Prints figures; asserts nothing.

    python bench/bench_generate.py [--kernels 300] [--memory-kernels 10000] [--seed 101] [--rounds 2]

The anchor is Warp's own code generation of the same kernel sources (``bench/raw_codegen.py``:
ModuleBuilder builds and ``codegen`` for both devices, a second build for tile kernels, in one
process), against ``curator generate --count N --workers 1`` (generating the kernels too,
signing and storing them).  Both are whole processes timed from start to exit, so start-up
(Python, Warp import and init) counts on both sides; each is run twice (--rounds), interleaved,
and the best run counts.  Goals: curator 1 worker / anchor >= 0.9, 2 workers / 1 worker >= 1.7.
The CPU seconds of each run (the process and its workers) and the machine's load average are
printed too: on a shared machine they say whether a slow run lacked work or lacked a core.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curator import generate
from curator.kernels import CATEGORIES, generate_kernel
from curator.records import MIB


def _plan(seed, n):
    it = generate.plan(seed, CATEGORIES)
    return [next(it)[1:] for _ in range(n)]


def sources_file(seed: int, n: int, folder: Path) -> Path:
    """The run's kernels (as `curator generate --seed` plans them) for the anchor to build."""
    items = [generate_kernel(kseed, cat) for cat, kseed in _plan(seed, n)]
    path = folder / "sources.json"
    path.write_text(json.dumps([[k.name, k.source] for k in items]))
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and the workers it waited for)."""
    c0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, _children_cpu() - c0


def anchor(sources: Path) -> tuple[float, float]:
    return timed([sys.executable, str(Path(__file__).with_name("raw_codegen.py")), str(sources)])


def curator(seed: int, n: int, workers: int, folder: Path, tag: str) -> tuple[float, float]:
    db = folder / f"{tag}.db"
    return timed(
        [
            sys.executable,
            "-m",
            "curator",
            "generate",
            "--device",
            "all",
            "--count",
            str(n),
            "--seed",
            str(seed),
            "--workers",
            str(workers),
            "--db",
            str(db),
        ]
    )


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
    # 3,000: long enough that process start-up (Warp import and init, ~3 s a process) does not
    # hide how throughput scales with workers (measured: 3,000 kernels take ~18 s with 2 workers)
    ap.add_argument("--kernels", type=int, default=3000)
    ap.add_argument("--memory-kernels", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--rounds", type=int, default=2, help="interleaved runs of each side (best counts)")
    a = ap.parse_args()
    n = a.kernels
    print(f"load average (1, 5, 15 min) at the start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"machine: {os.cpu_count()} cores; {n} kernels, both devices, seed {a.seed}; "
        f"whole processes, best of {a.rounds}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sources = sources_file(a.seed, n, folder)
        runs: dict[str, list[tuple[float, float]]] = {"anchor": [], "w1": [], "w2": []}
        for round_ in range(a.rounds):  # interleaved, so a noisy minute hits both sides
            runs["anchor"].append(anchor(sources))
            runs["w1"].append(curator(a.seed, n, 1, folder, f"w1_{round_}"))
            runs["w2"].append(curator(a.seed, n, 2, folder, f"w2_{round_}"))
    best = {k: min(v)[0] for k, v in runs.items()}
    labels = {
        "anchor": "raw Warp codegen (anchor)",
        "w1": "curator generate, 1 worker",
        "w2": "curator generate, 2 workers",
    }
    for k, label in labels.items():
        times = ", ".join(f"{t:.1f}" for t, _ in runs[k])
        cpu = ", ".join(f"{c:.1f}" for _, c in runs[k])
        print(f"{label:<28}: {n / best[k]:6.1f} kernels/s  (runs: {times} s; CPU {cpu} s)")
    print(f"ratio 1 worker / anchor     : {best['anchor'] / best['w1']:.2f}   (goal >= 0.90)")
    print(f"ratio 2 workers / 1 worker  : {best['w1'] / best['w2']:.2f}   (goal >= 1.70)")
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if a.memory_kernels:
        samples = worker_memory(a.seed + 1, a.memory_kernels)
        print(f"worker RSS over {a.memory_kernels} kernels (MiB): " + ", ".join(f"{i}: {m:.0f}" for i, m in samples))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        first = samples[1][1]
        growth = samples[-1][1] - first
        print(f"peak RSS {peak:.0f} MiB; growth after the first {samples[1][0]} kernels: {growth:+.0f} MiB")


if __name__ == "__main__":
    main()
