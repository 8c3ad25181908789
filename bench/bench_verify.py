"""Verification throughput: kernels per second per core per device for each compile mode (full:
Warp's own options; fast: -O0 CPU, NVRTC's front end alone for CUDA), compiled in batches (many
kernels per translation unit), against one kernel per compile in full mode (the raw anchor: what
Warp itself does), and the CPU run (`verify --execute`: Warp's JIT at -O0, launches, pair and
adjoint checks, each module compiled alone or a batch compiled together), measured in one run on
the same kernels.  Prints figures; asserts nothing.

    python bench/bench_verify.py [--db STORE] [--kernels 256] [--anchor-kernels 48] [--seed 101] [--no-run]

Without --db a fresh store of --kernels generated kernels is made first.  Batches are as large
as `curator verify` (compile modes) and `verify --execute` (runs) make them; the one-kernel
figures (the anchor, and runs whose module Warp compiles alone) take the first --anchor-kernels
kernels only, since they cost several times more a kernel.  Each mode runs in
this process with one long-lived compiler per device whose precompiled header is built before
timing starts (as in a verify worker).  Besides wall-clock kernels/s (noisy on a shared
machine) it prints the CPU seconds per kernel this process spent, which the load of other
processes does not inflate.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curator import records, verify
from curator.store import Store
from curator.verify import executions as execution
from curator.warp import build
from curator.warp import compile as warp_compile


def measure(compiler, items: list, batch_size: int) -> dict:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    calls = failed = 0
    for start in range(0, len(items), batch_size):
        results, n = verify.compile_batch(compiler, items[start : start + batch_size])
        calls += n
        failed += sum(not r.ok for r in results)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "kernels_s": len(items) / wall,
        "cpu_s_per_kernel": cpu / len(items),
        "calls": calls,
        "failed": failed,
        "wall_s": wall,
    }


def measure_runs(db: Path, ids: list[str], batch_size: int) -> dict:
    """CPU runs through the real executor (one isolated worker, worker start-up included) on a
    copy of the store: Warp's JIT at -O0, two launches, pair and adjoint checks; the worker
    compiles ``batch_size`` kernels into one object (1: Warp compiles each module alone)."""
    import resource
    import shutil

    from curator.verify import executions as execution

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "runs.db"
        shutil.copyfile(db, copy)
        with Store.open(copy) as store:
            store.conn.execute("DELETE FROM executions")
            store.conn.commit()
            ex = execution.Executor(store, workers=1, seed=0)
            ex.batch_size = batch_size
            kids0, cpu0, wall0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time(), time.perf_counter()
            report = ex.run(ids)
            wall = time.perf_counter() - wall0
            kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu0 + (kids.ru_utime + kids.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    return {"kernels_s": len(ids) / wall, "cpu_s_per_kernel": cpu / len(ids), "counts": report.counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="an existing store (default: generate one)")
    ap.add_argument("--kernels", type=int, default=256)
    ap.add_argument("--anchor-kernels", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=verify.BATCH_SIZE, help="kernels a compile batch")
    ap.add_argument("--run-batch-size", type=int, default=execution.BATCH_SIZE, help="kernels a run batch")
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--device", choices=("cpu", "cuda", "all"), default="all")
    ap.add_argument("--no-run", action="store_true", help="skip the CPU run figures")
    args = ap.parse_args()
    devices = records.DEVICES if args.device == "all" else (args.device,)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "bench.db"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "curator",
                    "generate",
                    "--count",
                    str(args.kernels),
                    "--seed",
                    str(args.seed),
                    "--db",
                    str(db),
                ],
                check=True,
                capture_output=True,
            )
        with Store.open(db, readonly=True) as store:
            ids = [
                r[0]
                for r in store.conn.execute(
                    "SELECT id FROM kernels WHERE origin = 'synthetic' ORDER BY id LIMIT ?", (args.kernels,)
                )
            ]
            pieces = {d: store.artifact_pieces(ids, d) for d in devices}
        few = ids[: args.anchor_kernels]
        print(
            f"{len(ids)} kernels from {db}; compile batches of {args.batch_size}, run batches of "
            f"{args.run_batch_size}; one-kernel figures on the first {len(few)}"
        )
        for device in devices:
            items = [(k, pieces[device][k]) for k in ids if k in pieces[device]]
            figures = {}
            for mode in ("full", "fast"):
                compiler = warp_compile.Compiler(device, mode=mode)
                try:
                    compiler.compile(build.module_source(device, items[0][1]))  # builds the precompiled header
                    figures[f"{mode} batched"] = measure(compiler, items, args.batch_size)
                    if mode == "full":
                        figures["full single (anchor)"] = measure(compiler, [i for i in items if i[0] in few], 1)
                finally:
                    compiler.close()
            print(f"{device}: {compiler.compiler}")
            anchor = figures["full single (anchor)"]
            for name, m in figures.items():
                print(
                    f"  {name:22s} {1 / m['cpu_s_per_kernel']:6.2f} kernels/s per core (CPU time)  "
                    f"{m['kernels_s']:6.2f} kernels/s wall  {m['calls']} compiler calls  {m['failed']} failed  "
                    f"x{anchor['cpu_s_per_kernel'] / m['cpu_s_per_kernel']:.2f} vs anchor"
                )
        if not args.no_run:
            for size in (1, args.run_batch_size):
                m = measure_runs(db, few if size == 1 else ids, size)
                what = "Warp compiles each module" if size == 1 else f"batches of {size} compiled together"
                print(
                    f"cpu run ({what}; -O0, 2 launches, pair + adjoint check, worker start-up included): "
                    f"{1 / m['cpu_s_per_kernel']:.2f} kernels/s per core (CPU time), {m['kernels_s']:.2f} wall; "
                    f"{m['counts']}"
                )
        print("(issue #13 measured 1.85 kernels/s per core per device before batching and the modes)")


if __name__ == "__main__":
    main()
