"""Verification throughput: kernels per second per device, compiled in batches (many kernels per
translation unit) against one kernel per compile, measured in one run on the same kernels.
Prints figures; asserts nothing.

    python bench/bench_verify.py [--db STORE] [--kernels 48] [--batch-size 16] [--seed 101]

Without --db a fresh store of --kernels generated kernels is made first.  Each mode runs in
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
    return {"kernels_s": len(items) / wall, "cpu_s_per_kernel": cpu / len(items), "calls": calls, "failed": failed,
            "wall_s": wall}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="an existing store (default: generate one)")
    ap.add_argument("--kernels", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=verify.BATCH_SIZE)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--device", choices=("cpu", "cuda", "all"), default="all")
    args = ap.parse_args()
    devices = records.DEVICES if args.device == "all" else (args.device,)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "bench.db"
            subprocess.run([sys.executable, "-m", "curator", "generate", "--count", str(args.kernels), "--seed",
                            str(args.seed), "--db", str(db)], check=True, capture_output=True)  # fmt: skip
        with Store.open(db, readonly=True) as store:
            ids = [r[0] for r in store.conn.execute("SELECT id FROM kernels ORDER BY id LIMIT ?", (args.kernels,))]
            pieces = {d: store.artifact_pieces(ids, d) for d in devices}
        print(f"{len(ids)} kernels from {db}; batch size {args.batch_size}")
        for device in devices:
            items = [(k, pieces[device][k]) for k in ids if k in pieces[device]]
            compiler = warp_compile.Compiler(device)
            try:
                t0 = time.perf_counter()
                compiler.compile(build.module_source(device, items[0][1]))  # builds the precompiled header
                warm = time.perf_counter() - t0
                batched = measure(compiler, items, args.batch_size)
                single = measure(compiler, items, 1)
            finally:
                compiler.close()
            print(f"{device}: {compiler.compiler}; warm-up (precompiled header) {warm:.1f} s")
            for name, m in (("batched", batched), ("single", single)):
                print(f"  {name:8s} {m['kernels_s']:6.2f} kernels/s  {m['cpu_s_per_kernel']:.3f} CPU s/kernel  "
                      f"{m['calls']} compiler calls  {m['failed']} failed  ({m['wall_s']:.1f} s)")  # fmt: skip
            print(f"  batched/single: {batched['kernels_s'] / single['kernels_s']:.2f}x kernels/s, "
                  f"{single['cpu_s_per_kernel'] / batched['cpu_s_per_kernel']:.2f}x less CPU per kernel")  # fmt: skip


if __name__ == "__main__":
    main()
